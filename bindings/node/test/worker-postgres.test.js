'use strict';
// Worker processes on a real PostgreSQL (TASKER_TEST_DATABASE_URL, a throwaway database; each test in its own
// schema), started as users start them: `tasker-worker test/support/worker-app.js`. Every handler run is appended to a
// log file, so the tests see which process ran which attempt.
const test = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { spawn, execFileSync } = require('node:child_process');
const { tasker, ORDER_CONTEXT, ORDER_STEPS, ORDER_TEMPLATE, track, sleep } = require('./support/helpers');
const { auditProblems } = require('./support/audit');

const DATABASE_URL = process.env.TASKER_TEST_DATABASE_URL;
const skip = !DATABASE_URL && 'TASKER_TEST_DATABASE_URL is not set (scripts/pg-test-cluster.sh start prints one)';
const BIN = path.join(__dirname, '..', 'bin', 'tasker-worker.js');
const APP = path.join(__dirname, 'support', 'worker-app.js');

const psql = (sql) => execFileSync('psql', [DATABASE_URL, '-v', 'ON_ERROR_STOP=1', '-qAtc', sql], { encoding: 'utf8' });

/** A fresh schema (dropped when `t` ends), an engine on it with the order template, and a run log file. */
async function setUp(t) {
  const schema = `jsw_${crypto.randomBytes(6).toString('hex')}`;
  t.after(() => psql(`DROP SCHEMA IF EXISTS ${schema} CASCADE`));
  const engine = track(t, await tasker.Engine.open({ databaseUrl: DATABASE_URL, schema }));
  await engine.registerTemplate(ORDER_TEMPLATE);
  const runLog = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'tasker-worker-')), 'runs.jsonl');
  fs.writeFileSync(runLog, '');
  t.after(() => fs.rmSync(path.dirname(runLog), { recursive: true, force: true }));
  return { schema, engine, runLog };
}

/** `tasker-worker [args] worker-app.js` in a new process; killed when `t` ends if it still runs. */
function startWorker(t, { schema, runLog }, { env = {}, args = [] } = {}) {
  const child = spawn(process.execPath, [BIN, ...args, APP], {
    env: { ...process.env, TASKER_TEST_SCHEMA: schema, WORKER_RUN_LOG: runLog, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (d) => { output += d; });
  child.stderr.on('data', (d) => { output += d; });
  const exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  t.after(() => { if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL'); });
  return { child, exited, output: () => output };
}

/** Resolves once `check()` is true (polled), or rejects after `ms` saying what it waited for. */
async function waitFor(what, check, ms = 30000) {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(50);
  }
}

const runsIn = (runLog) => fs.readFileSync(runLog, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));

/** Creates `n` order tasks, 10 at a time (each is one commit), in creation order. */
async function createOrders(engine, n) {
  const uuids = [];
  for (let i = 0; i < n; i += 10) {
    const batch = Array.from({ length: Math.min(10, n - i) },
      () => engine.createTask('order_fulfillment', { namespace: 'fulfillment', context: ORDER_CONTEXT }));
    uuids.push(...(await Promise.all(batch)).map((task) => task.uuid));
  }
  return uuids;
}

const completeCount = async (engine) => (await engine.listTasks({ state: 'complete', limit: 10000 })).length;

/** Each (task, step, attempt) ran exactly once; returns the runs by that key. */
function onceEach(runs) {
  const byKey = new Map();
  for (const run of runs.filter((r) => r.attempt !== undefined)) {
    const key = `${run.task} ${run.step} ${run.attempt}`;
    assert.ok(!byKey.has(key), `${key} ran twice (pids ${byKey.get(key)?.pid} and ${run.pid})`);
    byKey.set(key, run);
  }
  return byKey;
}

/** Sends SIGTERM and resolves with the exit once the process is gone. */
async function terminate(worker) {
  worker.child.kill('SIGTERM');
  return worker.exited;
}

test('worker processes racing over 150 tasks run every step once and finalize every task once', { skip, timeout: 120000 }, async (t) => {
  const setup = await setUp(t);
  const workers = [1, 2, 3].map(() => startWorker(t, setup, { args: ['--concurrency', '8'] }));
  await waitFor('the workers to start', () => workers.every((w) => /started \(pid/.test(w.output())));
  const uuids = await createOrders(setup.engine, 150);
  await waitFor('every task to complete', async () => (await completeCount(setup.engine)) === uuids.length);
  const exits = await Promise.all(workers.map(terminate));
  assert.deepEqual(exits, workers.map(() => ({ code: 0, signal: null })), workers.map((w) => w.output()).join('\n'));

  const byKey = onceEach(runsIn(setup.runLog));
  assert.equal(byKey.size, uuids.length * ORDER_STEPS.length);
  const pids = new Set([...byKey.values()].map((r) => r.pid));
  assert.ok(pids.size >= 2, `only one worker process ran steps (${[...pids]})`);
  for (const uuid of uuids) {
    const task = await setup.engine.getTask(uuid);
    assert.equal(task.state, 'complete');
    for (const step of task.steps) {
      assert.equal(step.attempts, 1, `${step.name} of ${uuid}`);
      assert.equal(step.result.by, byKey.get(`${uuid} ${step.name} 1`).pid, 'the stored result is not the run the log saw');
    }
    assert.deepEqual(auditProblems(task), [], uuid);
  }
  for (const w of workers) {
    assert.match(w.output(), /worker worker-\d+ started \(pid \d+\): concurrency 8, prefetch 8, handlers ProcessPayment, ReserveInventory, ShipOrder, ValidateOrder, namespaces all, postgres store/);
    assert.match(w.output(), /SIGTERM: no new work/);
    assert.match(w.output(), /stopped: \d+ steps in [\d.]+ s .* 0 failed, 0 reported as WorkerShutdown, 0 stale, 0 unreported/);
  }
});

test('a worker killed with SIGKILL mid-run loses nothing: its steps are claimed again once their leases expire', { skip, timeout: 60000 }, async (t) => {
  const setup = await setUp(t);
  const uuids = await createOrders(setup.engine, 10);
  // Its handlers never return: it holds 4 claims (1 s leases, heartbeaten while it lives) when it dies.
  const doomed = startWorker(t, setup, { args: ['--concurrency', '4'], env: { WORKER_MODE: 'hang', WORKER_LEASE: '1' } });
  await waitFor('the doomed worker to run 4 steps', () => runsIn(setup.runLog).length === 4);
  doomed.child.kill('SIGKILL');
  assert.deepEqual(await doomed.exited, { code: null, signal: 'SIGKILL' });
  const lost = runsIn(setup.runLog);
  assert.ok(lost.every((r) => r.pid === doomed.child.pid && r.step === 'validate_order' && r.attempt === 1), JSON.stringify(lost));

  const survivor = startWorker(t, setup, { env: { WORKER_LEASE: '1' } });
  await waitFor('every task to complete', async () => (await completeCount(setup.engine)) === uuids.length);
  assert.deepEqual(await terminate(survivor), { code: 0, signal: null }, survivor.output());

  const byKey = onceEach(runsIn(setup.runLog));
  const lostTasks = new Set(lost.map((r) => r.task));
  assert.equal(byKey.size, uuids.length * ORDER_STEPS.length + lost.length);
  for (const uuid of uuids) {
    const task = await setup.engine.getTask(uuid);
    assert.equal(task.state, 'complete');
    const expected = ORDER_STEPS.map((name) => [name, name === 'validate_order' && lostTasks.has(uuid) ? 2 : 1]);
    assert.deepEqual(task.steps.map((s) => [s.name, s.attempts]), expected, uuid);
    for (const step of task.steps) assert.equal(step.result.by, survivor.child.pid);
    assert.deepEqual(auditProblems(task), [], uuid);
  }
});

test('SIGTERM while a step runs: the step finishes and is reported, nothing more is claimed, exit 0', { skip, timeout: 60000 }, async (t) => {
  const setup = await setUp(t);
  const [uuid] = await createOrders(setup.engine, 1);
  const worker = startWorker(t, setup, { env: { WORKER_MODE: 'slow:700' } });
  await waitFor('the step to start', () => runsIn(setup.runLog).length === 1);
  const signalled = performance.now();
  assert.deepEqual(await terminate(worker), { code: 0, signal: null }, worker.output());
  assert.ok(performance.now() - signalled < 10000, 'the worker took longer than its grace period to stop');
  // The claim that was waiting for work when the signal came may still bring the next step (the completion wakes
  // it): it runs within the grace period too. No claim is made after that one, so the task stops there.
  const task = await setup.engine.getTask(uuid);
  const states = Object.fromEntries(task.steps.map((s) => [s.name, s.state]));
  assert.equal(states.validate_order, 'complete');
  assert.ok(['complete', 'pending'].includes(states.reserve_inventory), JSON.stringify(states));
  assert.deepEqual([states.process_payment, states.ship_order], ['pending', 'pending']);
  const ran = runsIn(setup.runLog).length;
  assert.match(worker.output(), /SIGTERM: no new work; waiting up to 25 s for 1 running steps/);
  assert.match(worker.output(), new RegExp(`stopped: ${ran} steps in .*${ran} completed, 0 failed, 0 reported as WorkerShutdown`));
});

test('SIGTERM with a step longer than the grace period: it is aborted and reported as WorkerShutdown, exit 0', { skip, timeout: 60000 }, async (t) => {
  const setup = await setUp(t);
  const [uuid] = await createOrders(setup.engine, 1);
  const worker = startWorker(t, setup, { args: ['--grace', '0.3'], env: { WORKER_MODE: 'slow:60000' } });
  await waitFor('the step to start', () => runsIn(setup.runLog).length === 1);
  const signalled = performance.now();
  assert.deepEqual(await terminate(worker), { code: 0, signal: null }, worker.output());
  // The grace period, then the worker's last claim returns (it waits up to 2 s for work).
  assert.ok(performance.now() - signalled < 5000, 'the worker did not stop soon after its grace period');
  const step = (await setup.engine.getTask(uuid)).step('validate_order');
  assert.deepEqual([step.state, step.attempts, step.error.errorType], ['waiting_for_retry', 1, 'WorkerShutdown']);
  assert.deepEqual(runsIn(setup.runLog).map((r) => r.aborted).filter(Boolean), ['WorkerShutdown']);
  assert.match(worker.output(), /1 steps did not finish within the grace period \(0.3 s\): reported as WorkerShutdown/);
});

test('tasker-worker: a module that does not build an engine is a clear error (exit 2)', { skip: false }, async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tasker-worker-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const bad = path.join(dir, 'bad.mjs');
  fs.writeFileSync(bad, 'export default () => ({ not: "an engine" });\n');
  const child = spawn(process.execPath, [BIN, '--concurrency', '2', bad], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => { stderr += d; });
  const code = await new Promise((resolve) => child.on('exit', resolve));
  assert.equal(code, 2);
  assert.match(stderr, /bad\.mjs must export a function returning a tasker\.Engine \(handlers registered\) or a tasker\.Worker; it gave an object of class Object/);
});

test('examples/node/worker.js: a worker process runs the orders another process creates', { skip, timeout: 60000 }, async (t) => {
  const schema = `jsw_${crypto.randomBytes(6).toString('hex')}`;
  t.after(() => psql(`DROP SCHEMA IF EXISTS ${schema} CASCADE`));
  const example = path.join(__dirname, '..', '..', '..', 'examples', 'node', 'worker.js');
  const env = { ...process.env, DATABASE_URL, TASKER_SCHEMA: schema };
  const worker = spawn(process.execPath, [BIN, '--concurrency', '4', example], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  worker.stdout.on('data', (d) => { output += d; });
  worker.stderr.on('data', (d) => { output += d; });
  const exited = new Promise((resolve) => worker.on('exit', (code) => resolve(code)));
  t.after(() => { if (worker.exitCode === null) worker.kill('SIGKILL'); });

  const created = execFileSync(process.execPath, [example, '3'], { env, encoding: 'utf8' });
  const uuids = [...created.matchAll(/created order task (\S+)/g)].map((m) => m[1]);
  assert.equal(uuids.length, 3, created);
  const engine = track(t, await tasker.Engine.open({ databaseUrl: DATABASE_URL, schema }));
  await waitFor('the orders to complete', async () => (await completeCount(engine)) === 3);
  worker.kill('SIGTERM');
  assert.equal(await exited, 0, output);
  for (const uuid of uuids) {
    const task = await engine.getTask(uuid);
    assert.deepEqual(task.steps.map((s) => [s.name, s.state, s.attempts]), [['validate_order', 'complete', 1],
      ['reserve_inventory', 'complete', 1], ['process_payment', 'complete', 2], ['ship_order', 'complete', 1]]);
  }
  assert.match(output, /stopped: 15 steps in .*12 completed, 3 failed/);
});
