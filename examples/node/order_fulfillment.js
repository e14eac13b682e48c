'use strict';
// The order-fulfillment workflow (examples/templates/order_fulfillment.yaml) in Node, on the embedded memory
// store: no set-up. It prints each step as it runs; the payment gateway fails the first attempt, so the task is
// re-enqueued and handled again after the retry delay (~1 s). Exit code 0 when the task completes.
//
//   ./build.sh demo                      (runs every example)
//   TASKER_LIBRARY_PATH=$PWD/artifacts/lib/linux-x64/libtasker.so node examples/node/order_fulfillment.js
//
// In a real application the re-enqueue is the queue's job: see tasker/bullmq (createProcessor re-adds the job
// with { delay: outcome.delaySeconds * 1000 }).
const path = require('node:path');
const tasker = require('../../bindings/node');

const TEMPLATE = path.join(__dirname, '..', 'templates', 'order_fulfillment.yaml');

class ValidateOrder extends tasker.StepHandler {
  async process(ctx) {
    const { order } = ctx.task.context;
    const total = order.items.reduce((sum, item) => sum + item.quantity * item.price, 0);
    if (Math.abs(total - order.total) > 0.005) throw new tasker.PermanentError(`order total ${order.total} != ${total}`);
    return { valid: true, total };
  }
}

class ReserveInventory extends tasker.StepHandler {
  async process(ctx) {
    const { order } = ctx.task.context;
    return {
      reservation: `RSV-${order.id}`,
      warehouse: ctx.step.initialization.warehouse,
      skus: order.items.map((item) => item.sku),
    };
  }
}

class ProcessPayment extends tasker.StepHandler {
  async process(ctx) {
    // A flaky gateway: the first attempt times out; the engine retries after retryAfter seconds.
    if (ctx.step.attempt === 1) throw new tasker.RetryableError('payment gateway timed out', { retryAfter: 1 });
    await new Promise((resolve) => setTimeout(resolve, 50)); // the call to the gateway
    return { paymentId: `PAY-${ctx.task.context.order.id}`, charged: ctx.dependencyResults.validate_order.total };
  }
}

class ShipOrder extends tasker.StepHandler {
  async process(ctx) {
    return { tracking: `TRK-${ctx.task.context.order.id}`, reservation: ctx.dependencyResults.reserve_inventory.reservation };
  }

  processResults(output) {
    return { ...output, carrier: 'tasker-post' };
  }
}

/** Prints the step events buffered so far, one line each. */
function printSteps(events) {
  for (const e of events.pull()) {
    const detail = e.error ? `  (${e.error.message})` : '';
    console.log(`  ${e.name.padEnd(26)} ${String(e.stepName).padEnd(18)} attempt ${e.attempt ?? '-'}${detail}`);
  }
}

async function main() {
  const engine = new tasker.Engine();
  const events = engine.subscribe('step.*');
  try {
    await engine.registerTemplate({ path: TEMPLATE });
    engine.registerHandlers({ ValidateOrder, ReserveInventory, ProcessPayment, ShipOrder });

    const task = await engine.createTask('order_fulfillment', {
      namespace: 'fulfillment',
      initiator: 'examples/node',
      context: { order: { id: 1001, total: 59.9, items: [{ sku: 'TSK-1', quantity: 2, price: 29.95 }] } },
    });
    console.log(`created task ${task.uuid} (${task.steps.length} steps)`);

    let outcome = await engine.handle(task.uuid);
    while (outcome.action === 'reenqueue') {
      printSteps(events);
      console.log(`  -> re-enqueued: handling again in ${outcome.delaySeconds.toFixed(2)} s`);
      await new Promise((resolve) => setTimeout(resolve, outcome.delaySeconds * 1000));
      outcome = await engine.handle(task.uuid);
    }
    printSteps(events);

    const done = await engine.getTask(task.uuid);
    console.log(`task ${done.state}: ${done.steps.map((s) => `${s.name} ${s.state} (${s.attempts} attempt${s.attempts === 1 ? '' : 's'})`).join(', ')}`);
    console.log(`shipment: ${JSON.stringify(done.step('ship_order').result)}`);
    return done.state === 'complete' ? 0 : 1;
  } finally {
    events.close();
    await engine.close();
  }
}

main().then(
  (code) => { process.exitCode = code; },
  (error) => {
    console.error(error);
    process.exitCode = 1;
  },
);
