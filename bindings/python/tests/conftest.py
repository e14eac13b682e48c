import os
from pathlib import Path

import pytest

import tasker

REPO = Path(__file__).resolve().parents[3]
CONFORMANCE = REPO / "tests" / "conformance"
ORDER_TEMPLATE = REPO / "examples" / "templates" / "order_fulfillment.yaml"
ORDER_CONTEXT = {"order": {"id": 7, "total": 12.5, "items": [{"sku": "A", "quantity": 1}]}}


@pytest.fixture
def engine():
    """A memory-store engine with a manual clock: retries and leases move only when a test says so."""
    with tasker.Engine(clock="manual", backoff={"jitter": 0}) as e:
        yield e


def database_url() -> str:
    url = os.environ.get("TASKER_TEST_DATABASE_URL")
    if not url:
        pytest.skip("TASKER_TEST_DATABASE_URL is not set (./build.sh test starts a throwaway PostgreSQL)")
    return url


class Returns(tasker.StepHandler):
    """Returns the step name and what it received from its dependencies."""

    def process(self, context):
        return {"step": context.step.name, "saw": sorted(context.dependency_results)}


def register_order_handlers(engine, payment=Returns):
    engine.register_template(ORDER_TEMPLATE)
    for name in ("ValidateOrder", "ReserveInventory", "ShipOrder"):
        engine.register_handler(name, Returns)
    engine.register_handler("ProcessPayment", payment)
