'use strict';
// PostgreSQL mode (TASKER_TEST_DATABASE_URL, a throwaway database): each test works in a schema of its own.
const test = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const { spawn, execFileSync } = require('node:child_process');
const {
  tasker, ORDER_TEMPLATE, ORDER_STEPS, registerOrder, createOrder, handler, failsOnce, track, sleep,
} = require('./support/helpers');
const { fixtures, runFixture } = require('./support/conformance');

const DATABASE_URL = process.env.TASKER_TEST_DATABASE_URL;
const skip = !DATABASE_URL && 'TASKER_TEST_DATABASE_URL is not set (scripts/pg-test-cluster.sh start prints one)';

const psql = (sql) => execFileSync('psql', [DATABASE_URL, '-v', 'ON_ERROR_STOP=1', '-qAtc', sql], { encoding: 'utf8' });

/** A fresh schema name, dropped when `t` ends. */
function schemaFor(t) {
  const schema = `js_${crypto.randomBytes(6).toString('hex')}`;
  t.after(() => psql(`DROP SCHEMA IF EXISTS ${schema} CASCADE`));
  return schema;
}

/** An open PostgreSQL engine in `schema`, closed when `t` ends. */
async function pgEngine(t, schema, options = {}) {
  return track(t, await tasker.Engine.open({ databaseUrl: DATABASE_URL, schema, ...options }));
}

/** Another session locks `schema`'s tasks table for `seconds`: resolves once the lock is held, with `exited`. */
async function lockTasksTable(schema, seconds) {
  const locker = spawn('psql', [DATABASE_URL, '-qc',
    `BEGIN; LOCK TABLE ${schema}.tasker_tasks IN ACCESS EXCLUSIVE MODE; SELECT pg_sleep(${seconds}); COMMIT;`], { stdio: 'ignore' });
  const exited = new Promise((resolve) => locker.on('exit', resolve));
  for (let i = 0; i < 50 && psql(`SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation
      WHERE c.relname = 'tasker_tasks' AND l.mode = 'AccessExclusiveLock' AND l.granted`).trim() === '0'; i += 1) await sleep(20);
  return { exited }; // in an object: an async function returning the promise itself would wait for it
}

test('PostgreSQL: a workflow runs to completion', { skip }, async (t) => {
  const engine = await pgEngine(t, schemaFor(t));
  await registerOrder(engine);
  const task = await createOrder(engine);
  const outcome = await engine.handle(task.uuid);
  assert.deepEqual([outcome.action, outcome.taskState], ['complete', 'complete']);
  assert.equal((await engine.health()).store, 'postgres');
});

test('PostgreSQL: another engine on the same database sees the finished task', { skip }, async (t) => {
  const schema = schemaFor(t);
  const engine = await pgEngine(t, schema);
  await registerOrder(engine);
  const task = await createOrder(engine);
  await engine.handle(task.uuid);
  const other = await pgEngine(t, schema);
  const seen = await other.getTask(task.uuid);
  assert.equal(seen.state, 'complete');
  assert.deepEqual(seen.steps.map((s) => [s.name, s.state, s.attempts]), ORDER_STEPS.map((n) => [n, 'complete', 1]));
});

test('PostgreSQL: two engines handling one task at once run each step exactly once', { skip }, async (t) => {
  const schema = schemaFor(t);
  const runs = new Map();
  const Counting = handler(async (ctx) => {
    runs.set(ctx.step.name, (runs.get(ctx.step.name) ?? 0) + 1);
    await sleep(20);
    return ctx.step.name;
  });
  const a = await pgEngine(t, schema, { workerId: 'a' });
  const b = await pgEngine(t, schema, { workerId: 'b' });
  await a.registerTemplate(ORDER_TEMPLATE);
  for (const engine of [a, b]) {
    engine.registerHandlers({ ValidateOrder: Counting, ReserveInventory: Counting, ProcessPayment: Counting, ShipOrder: Counting });
  }
  const task = await createOrder(a);
  const outcomes = await Promise.all([a.handle(task.uuid), b.handle(task.uuid)]);
  // Whoever finishes the last step completes the task; the other one stops when nothing is left for it.
  assert.ok(outcomes.some((o) => o.action === 'complete'), JSON.stringify(outcomes));
  assert.equal((await a.getTask(task.uuid)).state, 'complete');
  assert.deepEqual(Object.fromEntries(runs), Object.fromEntries(ORDER_STEPS.map((n) => [n, 1])));
});

test('PostgreSQL: two engines with different handlers complete one task, each step run once by the engine that has its handler', { skip }, async (t) => {
  const schema = schemaFor(t);
  const ranBy = {};
  const by = (name) => handler((ctx) => { (ranBy[ctx.step.name] ??= []).push(name); return name; });
  const a = await pgEngine(t, schema, { workerId: 'a' });
  const b = await pgEngine(t, schema, { workerId: 'b' });
  await a.registerTemplate(ORDER_TEMPLATE);
  a.registerHandlers({ ValidateOrder: by('a'), ShipOrder: by('a') });
  b.registerHandlers({ ReserveInventory: by('b'), ProcessPayment: by('b') });
  const task = await createOrder(a);
  // Each engine handles the task in turn, as two queue workers would, until it is finished.
  const waits = [];
  let outcome;
  for (let round = 0; round < 10 && !outcome?.finished; round += 1) {
    outcome = await (round % 2 === 0 ? a : b).handle(task.uuid);
    if (!outcome.finished) waits.push(outcome.waitingForHandlers.map((w) => w.handler));
  }
  assert.equal(outcome.action, 'complete');
  assert.deepEqual(ranBy, { validate_order: ['a'], reserve_inventory: ['b'], process_payment: ['b'], ship_order: ['a'] });
  assert.deepEqual(waits, [['ReserveInventory'], ['ShipOrder']]);
});

test('PostgreSQL: a retry is re-enqueued with its delay and completes after it', { skip }, async (t) => {
  const engine = await pgEngine(t, schemaFor(t), { clock: 'manual', backoff: { jitter: 0 } });
  await registerOrder(engine, failsOnce('paid', 4));
  const task = await createOrder(engine);
  const first = await engine.handle(task.uuid);
  assert.deepEqual([first.action, first.delaySeconds], ['reenqueue', 4]);
  engine.advanceClock(4);
  assert.equal((await engine.handle(task.uuid)).action, 'complete');
});

test('PostgreSQL: the event loop keeps running while a call waits on the database', { skip }, async (t) => {
  const schema = schemaFor(t);
  const engine = await pgEngine(t, schema);
  await registerOrder(engine);
  // Another session holds the tasks table for a second; creating a task has to wait for it.
  const { exited } = await lockTasksTable(schema, 1);

  let ticks = 0;
  const timer = setInterval(() => { ticks += 1; }, 10);
  const started = Date.now();
  const task = await createOrder(engine);
  const waited = Date.now() - started;
  clearInterval(timer);
  await exited;
  assert.equal(task.state, 'pending');
  assert.ok(waited >= 300, `createTask returned after ${waited} ms: it did not wait for the lock`);
  assert.ok(ticks >= waited / 10 / 2, `${ticks} ticks in ${waited} ms: the loop was blocked`);
});

test('PostgreSQL: syncCalls: true runs each call on the event loop thread, as asked', { skip }, async (t) => {
  const schema = schemaFor(t);
  const engine = await pgEngine(t, schema, { syncCalls: true });
  await registerOrder(engine);
  const { exited } = await lockTasksTable(schema, 0.5);

  let ticks = 0;
  const timer = setInterval(() => { ticks += 1; }, 10);
  const task = await createOrder(engine); // waits for the lock with the loop blocked: no timer runs meanwhile
  const ticksWhileWaiting = ticks;
  clearInterval(timer);
  await exited;
  assert.equal(ticksWhileWaiting, 0);
  const outcome = await engine.handle(task.uuid);
  assert.deepEqual([outcome.action, outcome.taskState], ['complete', 'complete']);
});

test('PostgreSQL: an unreachable database rejects Engine.open with a DatabaseError without the password', { skip }, async () => {
  const url = 'postgres://someone:s3cret-pass@127.0.0.1:1/nowhere';
  await assert.rejects(tasker.Engine.open({ databaseUrl: url }), (e) =>
    e instanceof tasker.DatabaseError && !e.message.includes('s3cret-pass'));
});

test('PostgreSQL: an engine opened with new Engine() reports a failed open on its first call', { skip }, async () => {
  const engine = new tasker.Engine({ databaseUrl: 'postgres://someone:pw@127.0.0.1:1/nowhere' });
  await assert.rejects(engine.listTasks(), tasker.DatabaseError);
  await engine.close();
});

test('PostgreSQL: migrate on a current schema is a no-op', { skip }, async (t) => {
  const engine = await pgEngine(t, schemaFor(t));
  await engine.migrate();
  assert.equal((await engine.health()).healthy, true);
});

for (const fixture of fixtures()) {
  test(`PostgreSQL conformance: ${fixture.name}`, { skip }, async (t) => {
    const engine = await pgEngine(t, schemaFor(t), fixture.engine_config);
    await runFixture(engine, fixture);
  });
}
