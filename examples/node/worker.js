'use strict';
// Worker mode: the order-fulfillment workflow run by `tasker-worker` processes. No queue: PostgreSQL is the queue,
// and every worker takes the ready steps of its handlers from every task (waking at once on new work).
//
//   export TASKER_LIBRARY_PATH=$PWD/artifacts/lib/linux-x64/libtasker.so
//   export DATABASE_URL=postgres://postgres@127.0.0.1:54329/tasker_test      # scripts/pg-test-cluster.sh start
//   node bindings/node/bin/tasker-worker.js --concurrency 8 examples/node/worker.js   # (npx tasker-worker in an app)
//                                                  # start as many as you like; Ctrl-C (SIGTERM) stops one gracefully
//   node examples/node/worker.js 10                # elsewhere: create 10 orders
//
// The handlers are order_handlers.js's (the payment fails once and is retried a second later).
// TASKER_SCHEMA picks another schema than the default "tasker".
const tasker = require('../../bindings/node');
const { TEMPLATE, handlers } = require('./order_handlers');

/** What `tasker-worker examples/node/worker.js` calls in each worker process: the engine with its handlers. */
async function makeEngine() {
  if (!process.env.DATABASE_URL) throw new tasker.ValidationError('set DATABASE_URL to the PostgreSQL database the workers share');
  const engine = await tasker.Engine.open({ databaseUrl: process.env.DATABASE_URL, schema: process.env.TASKER_SCHEMA || undefined });
  await engine.registerTemplate({ path: TEMPLATE });
  return engine.registerHandlers(handlers);
}

async function createOrders(count) {
  const engine = await makeEngine();
  try {
    for (let n = 0; n < count; n += 1) {
      const task = await engine.createTask('order_fulfillment', {
        namespace: 'fulfillment',
        initiator: 'examples/node/worker.js',
        context: { order: { id: 3000 + n, total: 19.9, items: [{ sku: 'TSK-3', quantity: 1, price: 19.9 }] } },
      });
      console.log(`created order task ${task.uuid}`);
    }
  } finally {
    await engine.close();
  }
}

module.exports = makeEngine;

if (require.main === module) {
  createOrders(Number(process.argv[2] ?? 1)).catch((error) => {
    console.error(error);
    process.exitCode = 1;
  });
}
