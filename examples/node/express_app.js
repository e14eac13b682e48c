'use strict';
// An Express app with Tasker inside: one engine for the process, GET /health for the load balancer and your
// monitoring, POST /orders to start an order-fulfillment workflow, GET /orders/:uuid to follow it.
//
//   cd bindings/node && npm install          (express is a devDependency of the binding, for this example)
//   TASKER_LIBRARY_PATH=$PWD/../../artifacts/lib/linux-x64/libtasker.so node ../../examples/node/express_app.js
//   curl localhost:3000/health
//   curl -X POST localhost:3000/orders -H 'content-type: application/json' \
//        -d '{"order": {"id": 7, "total": 10, "items": [{"sku": "A", "quantity": 1, "price": 10}]}}'
//
// DATABASE_URL=postgres://... uses PostgreSQL (then several app processes share the tasks). Workflows run in this
// process: handle() is async and never blocks the event loop; a retry is picked up again after its delay. With
// Redis, hand the task to BullMQ instead (tasker/bullmq's createProcessor) and keep web and workers apart.
// express is installed in bindings/node (a devDependency there); an app of yours would simply require('express').
const express = require(require.resolve('express', { paths: [require('node:path').join(__dirname, '..', '..', 'bindings', 'node')] }));
const tasker = require('../../bindings/node');
const { TEMPLATE, handlers } = require('./order_handlers');

/** Handles a task, and again after `requeueAfterSeconds` as long as it is not null. Errors go to `onError`. */
function drive(engine, taskUuid, onError) {
  engine.handle(taskUuid).then((outcome) => {
    if (outcome.requeueAfterSeconds !== null) {
      setTimeout(() => drive(engine, taskUuid, onError), outcome.requeueAfterSeconds * 1000).unref();
    }
  }, onError);
}

/** The app, around an engine the caller opened (and closes). */
async function buildApp(engine) {
  await engine.registerTemplate({ path: TEMPLATE });
  engine.registerHandlers(handlers);
  const app = express();
  app.use(express.json({ limit: '1mb' }));

  app.get('/health', async (req, res, next) => {
    try {
      const health = await engine.health();
      res.status(health.healthy ? 200 : 503).json(health);
    } catch (e) {
      next(e);
    }
  });

  app.post('/orders', async (req, res, next) => {
    try {
      const task = await engine.createTask('order_fulfillment', {
        namespace: 'fulfillment', context: { order: req.body.order }, initiator: 'express', traceparent: req.get('traceparent'),
      });
      drive(engine, task.uuid, (e) => console.error(`task ${task.uuid}:`, e));
      res.status(202).location(`/orders/${task.uuid}`).json({ taskUuid: task.uuid, state: task.state });
    } catch (e) {
      next(e);
    }
  });

  app.get('/orders/:uuid', async (req, res, next) => {
    try {
      const task = await engine.getTask(req.params.uuid);
      res.json({ taskUuid: task.uuid, state: task.state, steps: task.steps.map((s) => ({ name: s.name, state: s.state, attempts: s.attempts })) });
    } catch (e) {
      next(e);
    }
  });

  // The binding's errors map to HTTP: bad input 400, unknown task 404, anything else 500 (without details).
  app.use((error, req, res, next) => {
    if (res.headersSent) return next(error);
    if (error instanceof tasker.ValidationError) return res.status(400).json({ error: error.message });
    if (error instanceof tasker.NotFoundError) return res.status(404).json({ error: error.message });
    console.error(error);
    return res.status(500).json({ error: 'internal error' });
  });
  return app;
}

if (require.main === module) {
  const engine = new tasker.Engine(process.env.DATABASE_URL ? { databaseUrl: process.env.DATABASE_URL } : {});
  buildApp(engine).then((app) => {
    const server = app.listen(Number(process.env.PORT ?? 3000), () => console.log(`listening on :${server.address().port}`));
    process.on('SIGTERM', () => server.close(() => engine.close()));
  }, (e) => {
    console.error(e);
    process.exitCode = 1;
  });
}

module.exports = { buildApp };
