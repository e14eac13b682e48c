'use strict';
// The module the PostgreSQL worker tests start with `tasker-worker` (in separate processes). Environment:
//   TASKER_TEST_DATABASE_URL, TASKER_TEST_SCHEMA   the database and the test's schema
//   WORKER_RUN_LOG     a file: each handler run appends {"pid","task","step","attempt"} as one line (O_APPEND)
//   WORKER_MODE        "normal" (return at once), "hang" (never return), or "slow:<ms>" (take that long, stopping
//                      early, with an "aborted" line, if the step's signal aborts)
//   WORKER_LEASE       the engine's lease_seconds (default 30)
const fs = require('node:fs');
const { setTimeout: sleep } = require('node:timers/promises');
const tasker = require('../..');
const { ORDER_TEMPLATE } = require('./helpers');

const { TASKER_TEST_DATABASE_URL, TASKER_TEST_SCHEMA, WORKER_RUN_LOG, WORKER_MODE = 'normal', WORKER_LEASE = '30' } = process.env;

const log = (entry) => fs.appendFileSync(WORKER_RUN_LOG, `${JSON.stringify({ pid: process.pid, ...entry })}\n`);

async function run(ctx) {
  log({ task: ctx.task.uuid, step: ctx.step.name, attempt: ctx.step.attempt });
  if (WORKER_MODE === 'hang') await new Promise(() => {});
  if (WORKER_MODE.startsWith('slow:')) {
    try {
      await sleep(Number(WORKER_MODE.slice(5)), undefined, { signal: ctx.signal });
    } catch (e) {
      log({ task: ctx.task.uuid, step: ctx.step.name, aborted: ctx.signal.reason?.name });
      throw e;
    }
  }
  return { by: process.pid };
}

module.exports = async () => {
  const engine = await tasker.Engine.open({ databaseUrl: TASKER_TEST_DATABASE_URL, schema: TASKER_TEST_SCHEMA,
    leaseSeconds: Number(WORKER_LEASE), workerId: `worker-${process.pid}` });
  await engine.registerTemplate(ORDER_TEMPLATE);
  return engine.registerHandlers({ ValidateOrder: run, ReserveInventory: run, ProcessPayment: run, ShipOrder: run });
};
