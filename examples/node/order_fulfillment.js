'use strict';
// The order-fulfillment workflow in Node on the embedded memory store: no set-up, prints each step.
//
//   ./build.sh native && TASKER_LIBRARY_PATH=artifacts/lib/linux-x64/libtasker.so node examples/node/order_fulfillment.js
const fs = require('node:fs');
const path = require('node:path');
const tasker = require('../../bindings/node');

const TEMPLATE = fs.readFileSync(path.join(__dirname, '..', 'templates', 'order_fulfillment.yaml'), 'utf8');

class ValidateOrder extends tasker.StepHandler {
  async process(ctx) {
    return { valid: true, total: ctx.task.context.order.total };
  }
}

class ReserveInventory extends tasker.StepHandler {
  async process(ctx) {
    return { reservation: `RSV-${ctx.task.context.order.id}`, warehouse: ctx.step.initialization.warehouse };
  }
}

class ProcessPayment extends tasker.StepHandler {
  async process(ctx) {
    if (ctx.step.attempt === 1) throw new tasker.RetryableError('payment gateway timed out', { retryAfter: 1 });
    return { paymentId: 'PAY-1001', charged: ctx.dependencyResults.validate_order.total };
  }
}

class ShipOrder extends tasker.StepHandler {
  async process() { return { tracking: 'TRK-1001' }; }
  processResults(output) { return { ...output, carrier: 'tasker-post' }; }
}

async function main() {
  const engine = new tasker.Engine();
  const events = engine.subscribe('step.*');
  const printEvents = () => {
    for (const e of events.pull()) console.log(`  ${e.name.padEnd(22)} ${e.step_name.padEnd(18)} attempt ${e.attempt}`);
  };
  try {
    await engine.registerTemplate(TEMPLATE);
    for (const handler of [ValidateOrder, ReserveInventory, ProcessPayment, ShipOrder]) engine.registerHandler(handler.name, handler);
    const task = await engine.createTask('order_fulfillment', {
      namespace: 'fulfillment', initiator: 'examples/node',
      context: { order: { id: 1001, total: 59.9, items: [{ sku: 'TSK-1', quantity: 2 }] } },
    });
    console.log(`created task ${task.uuid}`);

    let outcome = await engine.handle(task.uuid);
    while (outcome.action === 'reenqueue') {
      printEvents();
      // A BullMQ host re-adds the job instead: tasker/bullmq's processor uses { delay: delaySeconds * 1000 }.
      console.log(`  waiting ${outcome.delaySeconds.toFixed(2)}s before retrying`);
      await new Promise((r) => setTimeout(r, outcome.delaySeconds * 1000));
      outcome = await engine.handle(task.uuid);
    }
    printEvents();
    const done = await engine.getTask(task.uuid);
    console.log(`task ${done.state}: ${done.steps.map((s) => `${s.name}=${s.state}/${s.attempts}`).join(', ')}`);
    console.log(`shipment: ${JSON.stringify(done.step('ship_order').result)}`);
    return done.state === 'complete' ? 0 : 1;
  } finally {
    events.close();
    engine.close();
  }
}

main().then((code) => { process.exitCode = code; });
