'use strict';
// The order-fulfillment workflow (examples/templates/order_fulfillment.yaml) in Node, on the embedded memory
// store: no set-up. It prints each step as it runs; the payment gateway fails the first attempt, so the task is
// re-enqueued and handled again after the retry delay (~1 s). Exit code 0 when the task completes.
//
//   ./build.sh demo                      (runs every example)
//   TASKER_LIBRARY_PATH=$PWD/artifacts/lib/linux-x64/libtasker.so node examples/node/order_fulfillment.js
//
// In a real application the re-enqueue is the queue's job: see tasker/bullmq (createProcessor re-adds the job
// with { delay: outcome.requeueAfterSeconds * 1000 } whenever requeueAfterSeconds is not null).
const tasker = require('../../bindings/node');
const { TEMPLATE, handlers } = require('./order_handlers');

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
    engine.registerHandlers(handlers);

    const task = await engine.createTask('order_fulfillment', {
      namespace: 'fulfillment',
      initiator: 'examples/node',
      context: { order: { id: 1001, total: 59.9, items: [{ sku: 'TSK-1', quantity: 2, price: 29.95 }] } },
    });
    console.log(`created task ${task.uuid} (${task.steps.length} steps)`);

    // The one rule: handle the task again after requeueAfterSeconds, unless it is null (finished, or in flight
    // elsewhere).
    let outcome = await engine.handle(task.uuid);
    while (outcome.requeueAfterSeconds !== null) {
      printSteps(events);
      console.log(`  -> re-enqueued: handling again in ${outcome.requeueAfterSeconds.toFixed(2)} s`);
      await new Promise((resolve) => setTimeout(resolve, outcome.requeueAfterSeconds * 1000));
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
