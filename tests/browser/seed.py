"""Seeds the browser test's schema through the Python binding, as a host application would: an order workflow whose
`charge` step fails permanently (its message and the task context carry <script> tags the dashboard must escape).
Prints the failed task's uuid."""
import sys

import tasker

TEMPLATE = """
name: fulfil
namespace_name: orders
version: 1.2.0
description: Fulfil an order
steps:
  - name: validate
    handler: { callable: ValidateOrder }
  - name: charge
    handler: { callable: ChargeCard }
    dependencies: [validate]
  - name: email
    handler: { callable: SendEmail }
    dependencies: [validate]
  - name: ship
    handler: { callable: ShipOrder }
    dependencies: [charge]
"""


class Ok(tasker.StepHandler):
    def process(self, context):
        return {"ok": True}


class ChargeCard(tasker.StepHandler):
    def process(self, context):
        raise tasker.PermanentError("card declined <script>alert('xss')</script>")


def main(database_url: str, schema: str) -> None:
    with tasker.Engine(database_url=database_url, schema=schema) as engine:
        engine.register_template(TEMPLATE)
        for name in ("ValidateOrder", "SendEmail", "ShipOrder"):
            engine.register_handler(name, Ok)
        engine.register_handler("ChargeCard", ChargeCard)
        task = engine.create_task("fulfil", namespace="orders", initiator="shop",
                                  context={"order_id": 42, "note": "<script>alert('ctx')</script>"})
        outcome = engine.handle(task.uuid)
        assert outcome.action == "error", outcome
        print(task.uuid)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
