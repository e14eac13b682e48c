'use strict';
// tasker.Worker in process, on the memory store (real clock: leases, heartbeats and deadlines are real time, so the
// steps here are short). The PostgreSQL tests with several worker processes are worker-postgres.test.js.
const test = require('node:test');
const assert = require('node:assert/strict');
const { setTimeout: sleep } = require('node:timers/promises');
const { tasker, ORDER_TEMPLATE, ORDER_CONTEXT, ORDER_STEPS, handler, failsOnce, track } = require('./support/helpers');
const { auditProblems } = require('./support/audit');
const { parse } = require('../lib/worker-command');
const { WORKER_HOST } = require('../lib/engine');

/** A logger that keeps its lines. */
function memoryLogger() {
  const lines = [];
  const keep = (level) => (message) => lines.push(`${level} ${message}`);
  return { lines, info: keep('info'), warn: keep('warn'), error: keep('error') };
}

/** A memory-store engine on the real clock whose waiting claims poll often (retries become due without a wake-up). */
const engineFor = (t, options = {}) => track(t, new tasker.Engine({ workPollSeconds: 0.05, backoff: { baseSeconds: 0.05, jitter: 0 }, ...options }));

/** Counts each (task, step, attempt) run and the most handlers running at once. */
// Routes the worker's calls to the library through `around(name, text, options, call)`, which makes them with `call`:
// a test holds one back, or answers it itself.
function interceptCalls(engine, around) {
  const hostOf = engine[WORKER_HOST].bind(engine);
  engine[WORKER_HOST] = () => {
    const host = hostOf();
    const call = host.call;
    host.call = (name, text, options) => around(name, text, options, call);
    return host;
  };
}

function counter() {
  const runs = new Map();
  let now = 0;
  const seen = { runs, most: 0 };
  seen.Handler = handler(async (ctx) => {
    const key = `${ctx.task.uuid} ${ctx.step.name} ${ctx.step.attempt}`;
    runs.set(key, (runs.get(key) ?? 0) + 1);
    now += 1;
    seen.most = Math.max(seen.most, now);
    await sleep(1);
    now -= 1;
    return ctx.step.name;
  });
  return seen;
}

const STUCK_TEMPLATE = `name: stuck\nnamespace_name: js\nversion: 1.0.0\nsteps:\n  - name: s\n    handler: { callable: Stuck }\n`;

async function orderTasks(engine, n) {
  const uuids = [];
  for (let i = 0; i < n; i += 1) {
    uuids.push((await engine.createTask('order_fulfillment', { namespace: 'fulfillment', context: ORDER_CONTEXT })).uuid);
  }
  return uuids;
}

test('a worker runs every task to completion, each step once, at most `concurrency` at a time', async (t) => {
  const engine = engineFor(t);
  await engine.registerTemplate(ORDER_TEMPLATE);
  const seen = counter();
  const uuids = await orderTasks(engine, 40);
  const logger = memoryLogger();
  const worker = new tasker.Worker(engine, { concurrency: 4, waitSeconds: 0.2, logger, handlers: {
    ValidateOrder: seen.Handler, ReserveInventory: seen.Handler, ProcessPayment: seen.Handler, ShipOrder: seen.Handler } });
  const stats = await worker.run({ burst: true });

  assert.deepEqual(stats.toJSON(), { steps: 160, completed: 160, failed: 0, shutdown: 0, stale: 0, unreported: 0 });
  assert.equal(seen.runs.size, 160);
  assert.ok([...seen.runs.values()].every((n) => n === 1), 'a step attempt ran twice');
  assert.equal(seen.most, 4, 'the worker did not fill (or overran) its 4 slots');
  for (const uuid of uuids) {
    const task = await engine.getTask(uuid);
    assert.equal(task.state, 'complete');
    assert.deepEqual(task.steps.map((s) => [s.name, s.attempts]), ORDER_STEPS.map((n) => [n, 1]));
    assert.deepEqual(auditProblems(task), []);
  }
  assert.match(logger.lines[0], /^info worker node-\d+ started \(pid \d+\): concurrency 4, prefetch 4, handlers ProcessPayment, ReserveInventory, ShipOrder, ValidateOrder, namespaces all, memory store/);
  assert.match(logger.lines.at(-1), /^info worker node-\d+ stopped: 160 steps in [\d.]+ s .*160 completed, 0 failed/);
});

// One place in hand, two orders: each report of the first order keeps it for the order's next step (claim_next); the
// last step (steps_left 0) can have none, so its place is free for the next work claim at once.
test('the place in hand of a task\'s last step is claimed for while the step\'s report is on its way', async (t) => {
  const engine = engineFor(t);
  await engine.registerTemplate(ORDER_TEMPLATE);
  const claimed = [];
  const seenDuringLastReport = [];
  let lastStep;
  interceptCalls(engine, async (name, text, options, call) => {
    if (name === 'stepComplete' && lastStep !== undefined && text.includes(lastStep) && seenDuringLastReport.length === 0) {
      for (const until = performance.now() + 5000; claimed.length < 2 && performance.now() < until;) await sleep(5);
      seenDuringLastReport.push(claimed.length >= 2);
    }
    const answer = await call(name, text, options);
    if (name === 'workClaim' && answer.claims.length > 0) claimed.push(answer.claims[0].step.name);
    return answer;
  });
  const Step = handler((ctx) => ctx.step.name);
  const Ship = handler((ctx) => {
    lastStep ??= ctx.step.uuid;
    return ctx.step.name;
  });
  const uuids = await orderTasks(engine, 2);
  // prefetch 0: claims sized by the slot alone (claiming ahead, the worker would take order B before A's last step).
  const worker = new tasker.Worker(engine, { concurrency: 1, prefetch: 0, waitSeconds: 0.2, logger: memoryLogger(), handlers: {
    ValidateOrder: Step, ReserveInventory: Step, ProcessPayment: Step, ShipOrder: Ship } });
  const stats = await worker.run({ burst: true });

  assert.deepEqual(seenDuringLastReport, [true]);
  assert.deepEqual(claimed, ['validate_order', 'validate_order']);
  assert.equal(stats.completed, 8);
  for (const uuid of uuids) assert.equal((await engine.getTask(uuid)).state, 'complete');
});

// Its handler returned, a step's slot is free while the step's report is on its way, whatever the report claims: a step
// claimed ahead starts in it at once (the report's commit does not idle the slot), and the task's next step, which the
// report claims, waits behind it. The work claims are held back while the two tasks are created, so that one claim
// takes both: the pair's first step runs, the other step waits in hand.
test("a step's slot runs a step claimed ahead while the step's report is on its way", async (t) => {
  const engine = engineFor(t);
  const oneStep = (name) => `name: ${name}\nnamespace_name: js\nversion: 1.0.0\nsteps:\n  - name: ${name}\n    handler: { callable: Step }\n`;
  await engine.registerTemplate(oneStep('quick'));
  await engine.registerTemplate(oneStep('ahead'));
  await engine.registerTemplate('name: pair\nnamespace_name: js\nversion: 1.0.0\nsteps:\n  - name: first\n    handler: { callable: Step }\n' +
    '  - name: second\n    handler: { callable: Step }\n    dependencies: [first]\n');
  const started = [];
  let claimsHeld = false;
  let claimWaiting = false;
  let firstStep;
  let sawAheadStart; // whether the step claimed ahead started while the first step's report was held
  let reportClaimed; // what that report claimed next
  interceptCalls(engine, async (name, text, options, call) => {
    if (name === 'workClaim') {
      for (; claimsHeld; await sleep(5)) claimWaiting = true;
    }
    const held = name === 'stepComplete' && firstStep !== undefined && text.includes(firstStep) && sawAheadStart === undefined;
    if (held) {
      for (const until = performance.now() + 5000; !started.includes('ahead') && performance.now() < until;) await sleep(5);
      sawAheadStart = started.includes('ahead');
    }
    const answer = await call(name, text, options);
    if (held) reportClaimed = answer.claims.map((claim) => claim.step.name);
    return answer;
  });
  const Step = handler((ctx) => {
    if (ctx.step.name === 'first') firstStep = ctx.step.uuid;
    if (ctx.task.name !== 'quick') started.push(ctx.step.name);
    return ctx.step.name;
  });
  const worker = new tasker.Worker(engine, { concurrency: 1, prefetch: 1, waitSeconds: 0.1, logger: memoryLogger(), handlers: { Step } });
  const running = worker.run({ handleSignals: false });
  try {
    // 10 steps ran: the worker's steps are short, so it claims one step ahead.
    for (let i = 0; i < 10; i += 1) await engine.createTask('quick', { namespace: 'js' });
    for (const until = performance.now() + 5000; worker.stats.completed < 10 && performance.now() < until;) await sleep(10);
    claimsHeld = true;
    for (const until = performance.now() + 5000; !claimWaiting && performance.now() < until;) await sleep(10);
    await engine.createTask('pair', { namespace: 'js' });
    await engine.createTask('ahead', { namespace: 'js' });
    claimsHeld = false;
    for (const until = performance.now() + 5000; worker.stats.completed < 13 && performance.now() < until;) await sleep(10);
  } finally {
    claimsHeld = false;
    await worker.stop();
  }
  const stats = await running;

  assert.equal(sawAheadStart, true, 'the step claimed ahead waited for the report of the step before it');
  assert.deepEqual(reportClaimed, ['second']);
  assert.deepEqual(started, ['first', 'ahead', 'second']);
  assert.deepEqual([stats.completed, stats.failed], [13, 0]);
});

// A closed engine does not come back: the worker stops at once, and does not retry its claims as it does those of a
// database that went away. A claim in flight when the engine closes may fail with another error (its wait cancelled,
// say): the engine is closed all the same, so there is still one error line.
for (const [how, fails] of [['with InvalidHandleError', false], ['otherwise', true]]) {
  test(`a worker whose claim fails ${how} as its engine closes stops with one error line, and run() rejects`, async (t) => {
    const engine = engineFor(t);
    interceptCalls(engine, async (name, text, options, call) => {
      if (name !== 'workClaim' || engine.closed) return call(name, text, options); // a retry: InvalidHandleError
      const closing = engine.close();
      if (fails) throw new tasker.TimeoutError('the operation timed out');
      await closing;
      return call(name, text, options);
    });
    const logger = memoryLogger();
    const worker = new tasker.Worker(engine, { waitSeconds: 0.1, logger, handlers: { Step: handler(() => null) } });
    await assert.rejects(worker.run({ handleSignals: false }), (e) =>
      e instanceof tasker.InvalidHandleError && /the engine was closed while worker \S+ ran/.test(e.message));
    assert.equal(logger.lines.filter((line) => line.startsWith('error')).length, 1, logger.lines.join('\n'));
  });
}

// The claimer gives busy slots BATCH_WAIT_MS to free up, so that one claim fills them all; a step that runs on must not
// keep the free slot idle meanwhile. The long step creates a task and waits for its step to run.
test('a claim waits for busy slots only briefly, so a long step does not hold back new work', async (t) => {
  const engine = engineFor(t);
  let shortRan;
  const ran = new Promise((resolve) => { shortRan = resolve; });
  const waited = [];
  const Long = handler(async () => {
    await engine.createTask('short_one', { namespace: 'slots' });
    waited.push(await Promise.race([ran.then(() => true), sleep(5000, false, { ref: false })]));
  });
  const Short = handler(() => shortRan());
  for (const [name, callable] of [['long_one', 'Long'], ['short_one', 'Short']]) {
    await engine.registerTemplate(`name: ${name}\nnamespace_name: slots\nversion: 1.0.0\n` +
      `steps:\n  - name: work\n    handler: { callable: ${callable} }\n`);
  }
  await engine.createTask('long_one', { namespace: 'slots' });
  const worker = new tasker.Worker(engine, { concurrency: 2, waitSeconds: 0.2, logger: memoryLogger(), handlers: { Long, Short } });
  const stats = await worker.run({ burst: true });

  assert.deepEqual(waited, [true], 'the short step did not run in the free slot while the long one still ran');
  assert.equal(stats.completed, 2);
});

test('a worker retries failed steps (handler failures are reported as by handle) and logs its throughput', async (t) => {
  const engine = engineFor(t);
  await engine.registerTemplate(`name: flaky\nnamespace_name: js\nversion: 1.0.0\nsteps:
  - name: a\n    handler: { callable: FailsOnce }
  - name: b\n    handler: { callable: Broken }\n    dependencies: [a]\n`);
  const uuids = [];
  for (let i = 0; i < 3; i += 1) uuids.push((await engine.createTask('flaky', { namespace: 'js' })).uuid);
  const logger = memoryLogger();
  // Broken has no process: every attempt fails (retryably), so b ends in error after its 3 attempts.
  const worker = new tasker.Worker(engine, { waitSeconds: 0.3, statsSeconds: 0.1, logger, handlers: {
    FailsOnce: failsOnce('ok', 0.05), Broken: class Broken extends tasker.StepHandler {} } });
  const stats = await worker.run({ burst: true });

  assert.deepEqual([stats.completed, stats.failed], [3, 3 + 3 * 3]);
  for (const uuid of uuids) {
    const task = await engine.getTask(uuid);
    assert.equal(task.state, 'error');
    assert.deepEqual(task.steps.map((s) => [s.name, s.state, s.attempts]), [['a', 'complete', 2], ['b', 'error', 3]]);
    assert.deepEqual([task.step('b').error.errorType, task.step('b').error.message], ['Error', 'Broken.process is not implemented']);
    assert.ok(task.step('b').error.backtrace.length > 0);
    assert.deepEqual(auditProblems(task), []);
  }
  assert.ok(logger.lines.some((l) => /^info worker node-\d+: \d+ steps in [\d.]+ s \([\d.]+ steps\/s\), \d+ failed in all, \d+ running, \d+ claimed ahead$/.test(l)),
    logger.lines.join('\n'));
});

// A result that is not JSON (a BigInt), or one the engine refuses (U+0000), fails the step: the stats say so.
test('a result the step cannot be completed with is counted as failed, not completed', async (t) => {
  for (const [result, errorType] of [[{ total: 10n }, 'TypeError'], ['a\u0000b', 'InvalidResult']]) {
    const engine = engineFor(t);
    await engine.registerTemplate('name: one\nnamespace_name: js\nversion: 1.0.0\nsteps:\n  - name: s\n' +
      '    handler: { callable: Unsendable }\n    retry: { retryable: false }\n');
    const task = await engine.createTask('one', { namespace: 'js' });
    const worker = new tasker.Worker(engine, { waitSeconds: 0.1, logger: memoryLogger(), handlers: { Unsendable: handler(() => result) } });
    const stats = await worker.run({ burst: true });
    assert.equal((await engine.getTask(task.uuid)).step('s').error.errorType, errorType);
    assert.deepEqual([stats.completed, stats.failed], [0, 1], errorType);
  }
});

// engine.health lists every unclaimed ready step: on PostgreSQL a query over the whole queue, seconds of the
// database's CPU for each worker started against a backlog. The start line's store comes from the configuration.
test("a worker names its store at its start without asking for the engine's health", async (t) => {
  const engine = engineFor(t);
  engine.health = async () => { throw new Error('the worker asked for health'); };
  await engine.registerTemplate('name: one\nnamespace_name: js\nversion: 1.0.0\nsteps:\n  - name: a\n    handler: { callable: Echo }\n');
  await engine.createTask('one', { namespace: 'js' });
  const logger = memoryLogger();
  const stats = await new tasker.Worker(engine, { waitSeconds: 0.1, logger, handlers: { Echo: () => 'echo' } }).run({ burst: true });

  assert.equal(stats.completed, 1);
  assert.match(logger.lines[0], /^info worker node-\d+ started .*, memory store, /);
});

test('a worker claims only the namespaces it is given', async (t) => {
  const engine = engineFor(t);
  const template = (ns) => `name: one\nnamespace_name: ${ns}\nversion: 1.0.0\nsteps:\n  - name: s\n    handler: { callable: Echo }\n`;
  await engine.registerTemplate(template('alpha'));
  await engine.registerTemplate(template('beta'));
  const a = await engine.createTask('one', { namespace: 'alpha' });
  const b = await engine.createTask('one', { namespace: 'beta' });
  const worker = new tasker.Worker(engine, { namespaces: ['beta'], waitSeconds: 0.1, logger: memoryLogger(), handlers: { Echo: () => 'echo' } });
  assert.equal((await worker.run({ burst: true })).completed, 1);
  assert.equal((await engine.getTask(a.uuid)).state, 'pending');
  assert.equal((await engine.getTask(b.uuid)).state, 'complete');
});

test('a worker heartbeats a step that runs longer than its lease, so nobody takes it over', async (t) => {
  const engine = engineFor(t);
  await engine.registerTemplate(`name: long\nnamespace_name: js\nversion: 1.0.0\nsteps:\n  - name: s\n    handler: { callable: Long }\n`);
  const task = await engine.createTask('long', { namespace: 'js' });
  const leases = [];
  const Long = handler(async (ctx) => {
    leases.push(ctx.leaseExpiresAt);
    await sleep(1300); // more than twice the 0.5 s lease
    leases.push(ctx.leaseExpiresAt);
    return 'done';
  });
  const worker = new tasker.Worker(engine, { leaseSeconds: 0.5, waitSeconds: 0.2, logger: memoryLogger(), handlers: { Long } });
  const stats = await worker.run({ burst: true });

  assert.deepEqual([stats.completed, stats.stale], [1, 0]);
  const step = (await engine.getTask(task.uuid)).step('s');
  assert.deepEqual([step.state, step.attempts], ['complete', 1]);
  assert.ok(Date.parse(leases[1]) - Date.parse(leases[0]) >= 800, `the lease was not extended: ${leases.join(' -> ')}`);
});

test('a report after the deadline is refused; the worker records the Timeout at once and retries the step', async (t) => {
  const engine = engineFor(t);
  await engine.registerTemplate(`name: late\nnamespace_name: js\nversion: 1.0.0\nsteps:\n  - name: s\n    handler: { callable: Late }\n    timeout_seconds: 1\n`);
  const task = await engine.createTask('late', { namespace: 'js' });
  let aborted;
  const Late = handler(async (ctx) => {
    if (ctx.step.attempt > 1) return 'second';
    ctx.signal.addEventListener('abort', () => { aborted = ctx.signal.reason; });
    await sleep(1150); // ignores the signal, reports late
    return 'first';
  });
  const logger = memoryLogger();
  const worker = new tasker.Worker(engine, { waitSeconds: 0.2, logger, handlers: { Late } });
  const stats = await worker.run({ burst: true });

  assert.deepEqual([stats.stale, stats.completed], [1, 1]);
  assert.ok(aborted instanceof tasker.TimeoutError);
  const t2 = await engine.getTask(task.uuid);
  assert.deepEqual([t2.state, t2.step('s').attempts, t2.step('s').result], ['complete', 2, 'second']);
  assert.ok(t2.transitions.some((tr) => tr.stepName === 's' && tr.attempt === 1 && tr.to === 'waiting_for_retry'),
    JSON.stringify(t2.transitions));
  assert.ok(logger.lines.some((l) => /^warn .*the report of step 's' of task .* was refused/.test(l)));
});

test('stop() lets running steps finish within the grace period and claims nothing more', async (t) => {
  const engine = engineFor(t);
  await engine.registerTemplate(ORDER_TEMPLATE);
  const [uuid] = await orderTasks(engine, 1);
  let started;
  const begun = new Promise((resolve) => { started = resolve; });
  const Slow = handler(async () => { started(); await sleep(300); return 'ok'; });
  const worker = new tasker.Worker(engine, { waitSeconds: 0.2, graceSeconds: 5, logger: memoryLogger(),
    handlers: { ValidateOrder: Slow, ReserveInventory: Slow, ProcessPayment: Slow, ShipOrder: Slow } });
  const running = worker.run();
  await begun;
  const stats = await worker.stop();
  assert.equal(await running, stats);
  assert.deepEqual([stats.completed, stats.shutdown], [1, 0]);
  const task = await engine.getTask(uuid);
  assert.deepEqual(task.steps.map((s) => [s.name, s.state]),
    [['validate_order', 'complete'], ['reserve_inventory', 'pending'], ['process_payment', 'pending'], ['ship_order', 'pending']]);
});

test('a step still running when the grace period ends is aborted and reported as a retryable WorkerShutdown', async (t) => {
  const engine = engineFor(t);
  await engine.registerTemplate(`name: stuck\nnamespace_name: js\nversion: 1.0.0\nsteps:\n  - name: s\n    handler: { callable: Stuck }\n`);
  const task = await engine.createTask('stuck', { namespace: 'js' });
  let started;
  const begun = new Promise((resolve) => { started = resolve; });
  let reason;
  const Stuck = handler(async (ctx) => {
    started();
    try {
      await sleep(60000, undefined, { signal: ctx.signal });
    } catch (e) {
      reason = ctx.signal.reason;
      throw e;
    }
  });
  const logger = memoryLogger();
  const worker = new tasker.Worker(engine, { waitSeconds: 0.2, graceSeconds: 0.2, logger, handlers: { Stuck } });
  const running = worker.run();
  await begun;
  const stopping = performance.now();
  const stats = await worker.stop();
  assert.ok(performance.now() - stopping < 3000, 'the shutdown waited past its grace period');
  assert.equal(await running, stats);
  assert.deepEqual([stats.shutdown, stats.completed, stats.failed], [1, 0, 0]);
  assert.equal(reason?.name, tasker.SHUTDOWN_ERROR_TYPE);
  const step = (await engine.getTask(task.uuid)).step('s');
  assert.deepEqual([step.state, step.attempts, step.error.errorType], ['waiting_for_retry', 1, 'WorkerShutdown']);
  assert.match(step.error.message, /shut down before the step finished \(grace period 0.2 s\)/);
  assert.ok(logger.lines.some((l) => /^warn .*1 steps did not finish within the grace period/.test(l)));
  // Retried at once by the next worker.
  const next = new tasker.Worker(engine, { waitSeconds: 0.2, logger: memoryLogger(), handlers: { Stuck: () => 'now' } });
  assert.equal((await next.run({ burst: true })).completed, 1);
});

// The claim on its way when a forced stop ends the grace period brings a step back: it is given up (WorkerShutdown)
// before run() resolves, so a host that closes the engine then (tasker-worker does) leaves nothing claimed.
test('a step a claim brings back after a forced stop is reported as WorkerShutdown before run() resolves', async (t) => {
  const engine = engineFor(t);
  await engine.registerTemplate(`name: one\nnamespace_name: js\nversion: 1.0.0\nsteps:\n  - name: s\n    handler: { callable: Echo }\n`);
  const task = await engine.createTask('one', { namespace: 'js' });
  let claiming;
  const claimed = new Promise((resolve) => { claiming = resolve; });
  let answer;
  const answered = new Promise((resolve) => { answer = resolve; });
  interceptCalls(engine, async (name, text, options, call) => {
    if (name === 'workClaim') {
      claiming();
      await answered; // the claim waits until the worker was stopped
    }
    if (name === 'stepFail') await sleep(50); // a report takes a while, as on PostgreSQL
    return call(name, text, options);
  });
  const worker = new tasker.Worker(engine, { waitSeconds: 0.2, logger: memoryLogger(), handlers: { Echo: () => 'echo' } });
  const running = worker.run();
  await claimed;
  const stopped = worker.stop({ force: true });
  await new Promise((resolve) => setImmediate(resolve)); // the shutdown has begun: no grace period (forced)
  answer();
  const stats = await stopped;
  assert.equal(await running, stats);
  assert.deepEqual([stats.shutdown, stats.completed], [1, 0]);
  const step = (await engine.getTask(task.uuid)).step('s');
  assert.deepEqual([step.state, step.attempts, step.error?.errorType], ['waiting_for_retry', 1, 'WorkerShutdown']);
});

// Likewise the next step a report claims (claim_next) when the report comes back after a forced stop.
test('a step a report claims next after a forced stop is reported as WorkerShutdown before run() resolves', async (t) => {
  const engine = engineFor(t);
  await engine.registerTemplate(ORDER_TEMPLATE);
  const [uuid] = await orderTasks(engine, 1);
  let reporting;
  const reported = new Promise((resolve) => { reporting = resolve; });
  let answer;
  const answered = new Promise((resolve) => { answer = resolve; });
  interceptCalls(engine, async (name, text, options, call) => {
    if (name === 'stepComplete') {
      reporting();
      await answered; // the report (claiming the order's next step) comes back once the worker was stopped
    }
    if (name === 'stepFail') await sleep(50); // a report takes a while, as on PostgreSQL
    return call(name, text, options);
  });
  const Step = handler((ctx) => ctx.step.name);
  const worker = new tasker.Worker(engine, { waitSeconds: 0.2, logger: memoryLogger(), handlers: {
    ValidateOrder: Step, ReserveInventory: Step, ProcessPayment: Step, ShipOrder: Step } });
  const running = worker.run();
  await reported;
  const stopped = worker.stop({ force: true });
  await new Promise((resolve) => setImmediate(resolve)); // the shutdown has begun: no grace period (forced)
  answer();
  const stats = await stopped;
  assert.equal(await running, stats);
  assert.deepEqual([stats.completed, stats.shutdown], [1, 1]);
  const step = (await engine.getTask(uuid)).step('reserve_inventory');
  assert.deepEqual([step.state, step.attempts, step.error?.errorType], ['waiting_for_retry', 1, 'WorkerShutdown']);
});

// A forced stop gives no grace period: "did not finish within the grace period (25 s)" would be wrong.
test('a forced stop says so in its log rather than blaming the grace period', async (t) => {
  const engine = engineFor(t);
  await engine.registerTemplate(STUCK_TEMPLATE);
  await engine.createTask('stuck', { namespace: 'js' });
  let started;
  const begun = new Promise((resolve) => { started = resolve; });
  const Stuck = handler(async (ctx) => {
    started();
    await sleep(60000, undefined, { signal: ctx.signal });
  });
  const logger = memoryLogger();
  const worker = new tasker.Worker(engine, { waitSeconds: 0.2, logger, handlers: { Stuck } });
  const running = worker.run();
  await begun;
  const stats = await worker.stop({ force: true });
  assert.equal(await running, stats);
  assert.equal(stats.shutdown, 1);
  assert.ok(logger.lines.includes(`warn worker ${worker.workerId}: 1 steps still running at a forced stop: reported as WorkerShutdown`),
    logger.lines.join('\n'));
  assert.ok(!logger.lines.some((l) => l.includes('within the grace period')), logger.lines.join('\n'));
});

// Steps claimed ahead are in hand as running ones are: a forced stop gives them up too, and says how many.
test('a forced stop reports the steps claimed ahead as WorkerShutdown too', async (t) => {
  const engine = engineFor(t);
  await engine.registerTemplate(STUCK_TEMPLATE);
  await engine.registerTemplate(STUCK_TEMPLATE.replace('name: stuck', 'name: quick').replace('Stuck', 'Quick'));
  const logger = memoryLogger();
  const Stuck = handler((ctx) => sleep(60000, undefined, { signal: ctx.signal }));
  const worker = new tasker.Worker(engine, { concurrency: 1, prefetch: 2, waitSeconds: 0.1, logger, handlers: { Stuck, Quick: () => 'ok' } });
  const running = worker.run();
  // 10 steps ran: the worker's steps are short, even after a slow first run.
  for (let i = 0; i < 10; i += 1) await engine.createTask('quick', { namespace: 'js' });
  for (const until = performance.now() + 5000; worker.stats.completed < 10 && performance.now() < until;) await sleep(10);
  const stuck = [];
  for (let i = 0; i < 3; i += 1) stuck.push((await engine.createTask('stuck', { namespace: 'js' })).uuid);
  const states = async () => Promise.all(stuck.map(async (uuid) => (await engine.getTask(uuid)).step('s').state));
  // In progress as the engine claims them; running once the claim's answer reached the event loop.
  const inHand = async () => (await states()).every((s) => s === 'in_progress') && worker.running > 0;
  for (const until = performance.now() + 5000; !(await inHand()) && performance.now() < until;) await sleep(10);
  assert.equal(worker.running, 1);
  const stats = await worker.stop({ force: true });
  assert.equal(await running, stats);
  assert.deepEqual([stats.completed, stats.shutdown], [10, 3]);
  assert.deepEqual(await states(), ['waiting_for_retry', 'waiting_for_retry', 'waiting_for_retry']);
  assert.ok(logger.lines.includes(`warn worker ${worker.workerId}: 1 steps still running and 2 claimed ahead at a forced stop: ` +
    'reported as WorkerShutdown'), logger.lines.join('\n'));
});

// Only a signal sent before makes the next one force the stop: the worker's own stop (no work left) is not one.
test('the first signal after a burst worker stopped by itself does not force the stop', async (t) => {
  const engine = engineFor(t);
  await engine.registerTemplate(STUCK_TEMPLATE);
  const logger = memoryLogger();
  const worker = new tasker.Worker(engine, { waitSeconds: 0.1, logger, handlers: { Stuck: () => 'done' } });
  const stop = worker.stop.bind(worker);
  let signalled = false;
  worker.stop = (options) => {
    const stopped = stop(options);
    if (!signalled) {
      signalled = true;
      process.emit('SIGTERM', 'SIGTERM'); // as a SIGTERM sent once the worker stopped by itself
    }
    return stopped;
  };
  await worker.run({ burst: true });
  assert.ok(logger.lines.includes(`info worker ${worker.workerId}: no work left (burst)`), logger.lines.join('\n'));
  assert.ok(logger.lines.some((l) => l.startsWith(`info worker ${worker.workerId}: SIGTERM: no new work`)), logger.lines.join('\n'));
  assert.ok(!logger.lines.some((l) => l.includes('SIGTERM again')), logger.lines.join('\n'));
});

// A claim stuck in the library (a database that never answers) must not hold the shutdown forever: past the grace
// period it gets what Python's worker gives it, waitSeconds and the reports' 10 s.
test('a claim that never answers holds the shutdown back for the grace period, waitSeconds and 10 s at most', async (t) => {
  const engine = engineFor(t);
  await engine.registerTemplate(STUCK_TEMPLATE);
  let claiming;
  const claimed = new Promise((resolve) => { claiming = resolve; });
  interceptCalls(engine, (name, text, options, call) => {
    if (name !== 'workClaim') return call(name, text, options);
    claiming();
    return new Promise(() => {}); // never answers
  });
  const worker = new tasker.Worker(engine, { waitSeconds: 0.1, graceSeconds: 0.1, logger: memoryLogger(),
    handlers: { Stuck: () => 'done' } });
  const running = worker.run();
  await claimed;
  const hung = Symbol('hung');
  const stopped = await Promise.race([worker.stop(), sleep(30000, hung, { ref: false })]);
  assert.notEqual(stopped, hung, 'the shutdown waited for the claim past the grace period, waitSeconds and 10 s');
  assert.equal(await running, stopped);
});

// A step whose claim is already gone when a stop gives it up (its lease expired and another worker took it over) is
// no error: the WorkerShutdown report is refused as stale, and nothing is left claimed by this worker.
test('a step given up at shutdown whose claim was already taken over is not logged as an error', async (t) => {
  const engine = engineFor(t, { clock: 'manual' });
  await engine.registerTemplate(STUCK_TEMPLATE);
  const task = await engine.createTask('stuck', { namespace: 'js' });
  let started;
  const begun = new Promise((resolve) => { started = resolve; });
  let release;
  const released = new Promise((resolve) => { release = resolve; });
  const Stuck = handler(async () => {
    started();
    await released; // ignores its signal: still running when the stop gives it up
  });
  const logger = memoryLogger();
  const worker = new tasker.Worker(engine, { concurrency: 1, waitSeconds: 0.1, logger, handlers: { Stuck } });
  const running = worker.run();
  await begun;
  await engine.advanceClock(3600); // its lease expired: another worker takes the step over
  const other = await engine[WORKER_HOST]().call('workClaim',
    JSON.stringify({ handlers: ['Stuck'], worker_id: 'other', wait_seconds: 0.1, max_steps: 1 }), { sync: false });
  assert.deepEqual(other.claims.map((c) => c.task.task_uuid), [task.uuid]);
  const stats = await worker.stop({ force: true });
  release();
  assert.equal(await running, stats);
  assert.equal(stats.shutdown, 0);
  assert.deepEqual(logger.lines.filter((l) => l.startsWith('error')), []);
  assert.equal((await engine.getTask(task.uuid)).step('s').state, 'in_progress'); // the other worker's now
});

test('Worker refuses bad arguments with a clear error', async (t) => {
  const engine = engineFor(t);
  const bad = [
    [() => new tasker.Worker({}), /needs a tasker.Engine, not an object of class Object/],
    [() => new tasker.Worker(engine, { concurrency: 0 }), /concurrency must be an integer from 1 to 10000, not 0/],
    [() => new tasker.Worker(engine, { prefetch: -1 }), /prefetch must be an integer from 0 to 10000, not -1/],
    [() => new tasker.Worker(engine, { prefetch: 1.5 }), /prefetch must be an integer from 0 to 10000, not 1.5/],
    [() => new tasker.Worker(engine, { prefetch: '4' }), /prefetch must be an integer from 0 to 10000, not 4/],
    [() => new tasker.Worker(engine, { namespaces: 'a' }), /namespaces must be a non-empty array/],
    [() => new tasker.Worker(engine, { namespaces: [] }), /namespaces must be a non-empty array/],
    [() => new tasker.Worker(engine, { waitSeconds: 0 }), /waitSeconds must be a number of seconds, more than 0 and at most 60, not 0/],
    [() => new tasker.Worker(engine, { waitSeconds: 61 }), /waitSeconds/],
    [() => new tasker.Worker(engine, { graceSeconds: -1 }), /graceSeconds must be a number of seconds, at least 0, not -1/],
    [() => new tasker.Worker(engine, { leaseSeconds: 0 }), /leaseSeconds must be a number of seconds, more than 0/],
    [() => new tasker.Worker(engine, { logger: { info() {} } }), /logger must have info, warn and error methods .* it lacks warn, error/],
    [() => new tasker.Worker(engine, { concurency: 4 }), /unknown Worker option 'concurency'/],
  ];
  for (const [make, message] of bad) assert.throws(make, (e) => e instanceof tasker.ValidationError && message.test(e.message));

  const empty = new tasker.Worker(engine, { logger: memoryLogger() });
  await assert.rejects(empty.run({ handleSignals: false }), /the worker has no handlers/);
  await assert.rejects(empty.run(), /a Worker runs once/);
  const never = new tasker.Worker(engine, { logger: memoryLogger() });
  await never.stop(); // stopping a worker that never ran resolves at once
  assert.equal((await never.run()).steps, 0);
});

test('a worker has the defaults the Python and Ruby workers have; heartbeats every third of the lease, 1 s apart at least', (t) => {
  const engine = engineFor(t);
  const worker = new tasker.Worker(engine, { logger: memoryLogger() });
  assert.deepEqual([worker.concurrency, worker.prefetch, worker.waitSeconds, worker.graceSeconds, worker.statsSeconds], [8, 8, 2, 25, 60]);
  const prefetchOf = (options) => new tasker.Worker(engine, { logger: memoryLogger(), ...options }).prefetch;
  assert.deepEqual([prefetchOf({ concurrency: 3 }), prefetchOf({ concurrency: 3, prefetch: 0 })], [3, 0]);
  const { heartbeatIntervalMs } = require('../lib/worker');
  assert.deepEqual([30000, 3000, 2000, 1000].map(heartbeatIntervalMs), [10000, 1000, 1000, 500]);
});

test('tasker-worker parses its command line', () => {
  assert.deepEqual(parse(['./w.js']), { modulePath: './w.js', options: {} });
  assert.deepEqual(parse(['-c', '4', '--prefetch', '0', '--namespace', 'a,b', '-n', 'c', '--grace', '2.5', '--lease', '10', '--worker-id', 'w1', 'w.js']),
    { modulePath: 'w.js', options: { concurrency: 4, prefetch: 0, namespaces: ['a', 'b', 'c'], graceSeconds: 2.5, leaseSeconds: 10, workerId: 'w1' } });
  assert.deepEqual(parse(['--help']), { help: true });
  assert.throws(() => parse([]), /name the module that builds the engine/);
  assert.throws(() => parse(['a.js', 'b.js']), /one module only/);
  assert.throws(() => parse(['-c', '1.5', 'a.js']), /--concurrency must be an integer, not '1.5'/);
  assert.throws(() => parse(['--prefetch', 'all', 'a.js']), /--prefetch must be an integer, not 'all'/);
  assert.throws(() => parse(['--grace', 'soon', 'a.js']), /--grace must be a number, not 'soon'/);
  assert.throws(() => parse(['--nope', 'a.js']), /Unknown option '--nope'/);
});

test("a claim never asks for more than tasker_work_claim's limit, whatever concurrency and prefetch come to", async (t) => {
  const engine = engineFor(t);
  await engine.registerTemplate(STUCK_TEMPLATE.replace('name: stuck', 'name: quick').replace('Stuck', 'Quick'));
  const logger = memoryLogger();
  const worker = new tasker.Worker(engine, { concurrency: 6000, prefetch: 6000, waitSeconds: 0.1, logger, handlers: { Quick: () => 'ok' } });
  const running = worker.run({ handleSignals: false });
  const ran = async (n) => {
    for (let i = 0; i < 10; i += 1) await engine.createTask('quick', { namespace: 'js' });
    for (const until = performance.now() + 5000; worker.stats.completed < n && performance.now() < until;) await sleep(10);
  };
  await ran(10); // the steps are short now: 12,000 claims may be in hand, more than a claim may ask for
  await ran(20);
  const stats = await worker.stop();
  assert.equal(await running, stats);
  assert.equal(stats.completed, 20);
  assert.ok(!logger.lines.some((l) => l.startsWith('error')), logger.lines.join('\n'));
});
