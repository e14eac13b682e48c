'use strict';
// Worker behaviour stated once for every binding: the same scenarios, with the same names, templates and
// numbers, are in bindings/python/tests/test_worker_conformance.py and bindings/ruby/spec/worker_conformance_spec.rb
// (the README's "The same worker in Python, Ruby and Node"). Memory store, real clock.
const test = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');
const { setTimeout: sleep } = require('node:timers/promises');
const { tasker, CONFORMANCE, track } = require('./support/helpers');

const DIAMOND = { path: path.join(CONFORMANCE, 'templates', 'diamond.yaml') };
const DEADLINE = `name: deadline
namespace_name: conformance
version: 1.0.0
steps:
  - name: slow
    handler: { callable: Slow }
    timeout_seconds: 1
    retry: { retryable: true, max_attempts: 2 }
`;

const quiet = { info() {}, warn() {}, error() {} };
const engineFor = (t) => track(t, new tasker.Engine({ backoff: { baseSeconds: 0.05, jitter: 0 } }));
const script = (process) => class extends tasker.StepHandler { process(ctx) { return process(ctx); } };

async function waitUntil(seconds, what, check) {
  const finish = Date.now() + seconds * 1000;
  while (!(await check())) {
    if (Date.now() > finish) throw new Error(`timed out after ${seconds} s waiting for ${what}`);
    await sleep(20);
  }
}

test('graceful shutdown leaves nothing claimed', async (t) => {
  const engine = engineFor(t);
  await engine.registerTemplate(DIAMOND);
  const step = script(async () => { await sleep(100); return { ok: true }; });
  engine.registerHandlers({ Start: step, B: step, C: step, End: step });
  const uuids = [];
  for (let i = 0; i < 6; i += 1) uuids.push((await engine.createTask('diamond', { namespace: 'conformance' })).uuid);
  const worker = new tasker.Worker(engine, { concurrency: 3, waitSeconds: 0.2, graceSeconds: 10, logger: quiet });
  const running = worker.run({ handleSignals: false });
  await waitUntil(10, 'a first step', () => worker.stats.completed > 0);
  await worker.stop();
  const stats = await running;
  const states = [];
  for (const uuid of uuids) states.push(...(await engine.getTask(uuid)).steps.map((s) => s.state));
  assert.ok(!states.includes('in_progress'));
  assert.deepEqual([...new Set(states)].filter((s) => s !== 'complete' && s !== 'pending'), []);
  assert.deepEqual([stats.shutdown, stats.failed, stats.unreported], [0, 0, 0]);
  assert.equal(stats.completed, states.filter((s) => s === 'complete').length);
});

test('a step past its deadline is failed with a timeout', async (t) => {
  const engine = engineFor(t);
  await engine.registerTemplate(DEADLINE);
  // The first attempt ignores its deadline (1 s) and returns after 2 s; the second returns at once.
  engine.registerHandler('Slow', script(async (ctx) => (ctx.step.attempt === 1 ? (await sleep(2000), 'late') : 'on time')));
  const { uuid } = await engine.createTask('deadline', { namespace: 'conformance' });
  const worker = new tasker.Worker(engine, { concurrency: 2, waitSeconds: 0.2, logger: quiet });
  const running = worker.run({ handleSignals: false });
  try {
    await waitUntil(15, 'the task', async () => (await engine.getTask(uuid)).state === 'complete');
  } finally {
    await worker.stop();
    await running;
  }
  const slow = (await engine.getTask(uuid)).step('slow');
  assert.deepEqual([slow.state, slow.attempts, slow.result, slow.error.errorType], ['complete', 2, 'on time', 'Timeout']);
  assert.deepEqual([worker.stats.stale, worker.stats.completed], [1, 1]);
});

test('a worker without a handler leaves its steps ready', async (t) => {
  const engine = engineFor(t);
  await engine.registerTemplate(DIAMOND);
  const ok = script(() => ({ ok: true }));
  engine.registerHandlers({ Start: ok, B: ok, End: ok }); // no C
  const uuids = [];
  for (let i = 0; i < 2; i += 1) uuids.push((await engine.createTask('diamond', { namespace: 'conformance' })).uuid);
  const stats = await new tasker.Worker(engine, { waitSeconds: 0.2, logger: quiet }).run({ burst: true, handleSignals: false });
  for (const uuid of uuids) {
    const task = await engine.getTask(uuid);
    assert.equal(task.state, 'in_progress');
    assert.deepEqual(task.steps.map((s) => [s.name, s.state, s.attempts]),
      [['start', 'complete', 1], ['b', 'complete', 1], ['c', 'pending', 0], ['end', 'pending', 0]]);
  }
  assert.deepEqual([stats.completed, stats.failed], [4, 0]);
});

// Prefetch: quick steps teach the worker its steps are short; gated ones then hold their slot until the test opens the
// gate, so what the worker claimed ahead is seen in the steps' states.
const oneStep = (name, callable) =>
  `name: ${name}\nnamespace_name: conformance\nversion: 1.0.0\nsteps:\n  - name: ${name}\n    handler: { callable: ${callable} }\n`;

const PAIR = 'name: pair\nnamespace_name: conformance\nversion: 1.0.0\nsteps:\n  - name: first\n    handler: { callable: Gated }\n' +
  '  - name: second\n    handler: { callable: Quick }\n    dependencies: [first]\n';

/**
 * An engine with the quick, gated and pair templates; Gated handlers count themselves in `started` and wait for
 * open(); both note their task in `order` as they start.
 */
async function gatedEngine(t) {
  const engine = engineFor(t);
  await engine.registerTemplate(oneStep('quick', 'Quick'));
  await engine.registerTemplate(oneStep('gated', 'Gated'));
  await engine.registerTemplate(PAIR);
  let open;
  const opened = new Promise((resolve) => { open = resolve; });
  const gate = { started: 0, order: [], open };
  engine.registerHandlers({
    Quick: script((ctx) => {
      gate.order.push(ctx.task.uuid);
      return { ok: true };
    }),
    Gated: script(async (ctx) => {
      gate.started += 1;
      gate.order.push(ctx.task.uuid);
      await opened;
      return { ok: true };
    }),
  });
  return { engine, gate };
}

async function createTasks(engine, name, n) {
  const uuids = [];
  for (let i = 0; i < n; i += 1) uuids.push((await engine.createTask(name, { namespace: 'conformance' })).uuid);
  return uuids;
}

const gatedStates = (engine, uuids) => Promise.all(uuids.map(async (uuid) => (await engine.getTask(uuid)).step('gated').state));
/** How many times each task's handlers started. */
const startsOf = (gate, uuids) => uuids.map((uuid) => gate.order.filter((u) => u === uuid).length);
const allComplete = async (engine, uuids) => (await Promise.all(uuids.map((uuid) => engine.getTask(uuid))))
  .every((task) => task.state === 'complete');

/** Runs 10 quick steps: the worker's steps are short now, even after a slow first run (a cold start, a busy machine). */
async function learnShortSteps(engine, worker) {
  await createTasks(engine, 'quick', 10);
  await waitUntil(10, '10 quick steps', () => worker.stats.completed === 10);
}

/** After learnShortSteps, 5 gated steps: 1 runs, 4 are claimed ahead; a moment later still only 1 runs. */
async function claimedAhead(engine, gate, worker) {
  await learnShortSteps(engine, worker);
  const gated = await createTasks(engine, 'gated', 5);
  await waitUntil(10, 'all 5 gated steps in progress',
    async () => (await gatedStates(engine, gated)).every((state) => state === 'in_progress'));
  // The engine marks a step in progress as it claims it, before the claim's answer reaches this thread's event loop.
  await waitUntil(10, 'a Gated handler', () => gate.started > 0);
  await sleep(100);
  assert.equal(gate.started, 1);
  return gated;
}

test('a worker with short steps claims ahead up to its prefetch', async (t) => {
  const { engine, gate } = await gatedEngine(t);
  const worker = new tasker.Worker(engine, { concurrency: 1, prefetch: 4, waitSeconds: 0.2, logger: quiet });
  const running = worker.run({ handleSignals: false });
  try {
    const gated = await claimedAhead(engine, gate, worker);
    gate.open();
    await waitUntil(10, 'the gated tasks', () => allComplete(engine, gated));
  } finally {
    gate.open();
    await worker.stop();
  }
  const stats = await running;
  assert.deepEqual([stats.completed, stats.failed], [15, 0]);
});

test('a worker claims no more than its slots until its steps are known to be short', async (t) => {
  const { engine, gate } = await gatedEngine(t);
  const worker = new tasker.Worker(engine, { concurrency: 1, prefetch: 4, waitSeconds: 0.2, logger: quiet });
  const running = worker.run({ handleSignals: false });
  try {
    const gated = await createTasks(engine, 'gated', 3);
    await waitUntil(10, 'a Gated handler', () => gate.started === 1);
    await sleep(300);
    assert.deepEqual((await gatedStates(engine, gated)).sort(), ['in_progress', 'pending', 'pending']);
    gate.open();
    await waitUntil(10, 'the gated tasks', () => allComplete(engine, gated));
  } finally {
    gate.open();
    await worker.stop();
  }
  await running;
});

test('a stopping worker runs the steps it claimed ahead', async (t) => {
  const { engine, gate } = await gatedEngine(t);
  const worker = new tasker.Worker(engine, { concurrency: 1, prefetch: 4, waitSeconds: 0.2, graceSeconds: 10, logger: quiet });
  const running = worker.run({ handleSignals: false });
  let gated;
  try {
    gated = await claimedAhead(engine, gate, worker);
  } finally {
    worker.stop();
    gate.open();
  }
  const stats = await running;
  assert.ok(await allComplete(engine, gated));
  assert.deepEqual(await gatedStates(engine, gated), Array(5).fill('complete')); // none in progress
  assert.deepEqual([stats.shutdown, stats.completed], [0, 15]);
});

test("a task's next step claimed by its report waits behind the steps claimed ahead", async (t) => {
  const { engine, gate } = await gatedEngine(t);
  const worker = new tasker.Worker(engine, { concurrency: 1, prefetch: 4, waitSeconds: 0.2, logger: quiet });
  const running = worker.run({ handleSignals: false });
  try {
    await learnShortSteps(engine, worker);
    const { uuid: pair } = await engine.createTask('pair', { namespace: 'conformance' });
    await waitUntil(10, "the pair's first step", () => gate.started === 1);
    const gated = await createTasks(engine, 'gated', 3);
    await waitUntil(10, '3 gated steps claimed ahead',
      async () => (await gatedStates(engine, gated)).every((state) => state === 'in_progress'));
    gate.open();
    await waitUntil(10, 'every task', () => allComplete(engine, [pair, ...gated]));
    assert.deepEqual(gate.order.slice(-5), [pair, ...gated, pair]); // first, the three claimed ahead, then second
  } finally {
    gate.open();
    await worker.stop();
  }
  await running;
});

test('a worker claims nothing ahead while one of its steps runs long', async (t) => {
  // Known to be short, steps are claimed ahead; one turning long stops that at once, not when it returns: the steps in
  // hand would wait behind it, and once their leases ran out the worker's own claims would take them over again.
  const { engine, gate } = await gatedEngine(t);
  const worker = new tasker.Worker(engine, { concurrency: 1, prefetch: 4, waitSeconds: 0.2, leaseSeconds: 2, logger: quiet });
  const running = worker.run({ handleSignals: false });
  let gated;
  let later;
  try {
    await learnShortSteps(engine, worker);
    gated = await createTasks(engine, 'gated', 2);
    await waitUntil(10, 'a gated step running, the other claimed ahead',
      async () => gate.started === 1 && (await gatedStates(engine, gated)).every((state) => state === 'in_progress'));
    await sleep(2500); // the lease of the step in hand ran out
    [later] = await createTasks(engine, 'gated', 1);
    await sleep(500); // two of the claimer's waits
    assert.deepEqual(await gatedStates(engine, [later]), ['pending']);
    assert.deepEqual(await Promise.all(gated.map(async (uuid) => (await engine.getTask(uuid)).step('gated').attempts)), [1, 1]);
    gate.open();
    await waitUntil(10, 'the gated tasks', () => allComplete(engine, [...gated, later]));
  } finally {
    gate.open();
    await worker.stop();
  }
  await running;
  assert.deepEqual(startsOf(gate, [...gated, later]), Array(3).fill(1));
  assert.deepEqual([worker.stats.completed, worker.stats.stale, worker.stats.failed], [13, 0, 0]);
});

test('a step claimed ahead whose lease ran out in hand runs once', async (t) => {
  // A step in hand has no heartbeat: once its lease ran out another worker may take it over, and the worker then must
  // not run it too. The steps still its own it runs (a heartbeat confirms each first).
  const { engine, gate } = await gatedEngine(t);
  const worker = new tasker.Worker(engine, { concurrency: 1, prefetch: 4, waitSeconds: 0.2, leaseSeconds: 2, logger: quiet });
  const running = worker.run({ handleSignals: false });
  const other = new tasker.Worker(engine, { concurrency: 1, prefetch: 0, waitSeconds: 0.2, logger: quiet });
  let gated;
  try {
    gated = await claimedAhead(engine, gate, worker);
    await sleep(2500); // the leases of the four in hand ran out
    const otherRunning = other.run({ handleSignals: false });
    try {
      await waitUntil(10, 'the other worker taking a step over', () => gate.started === 2);
    } finally {
      other.stop(); // its one slot is busy: it claims nothing more
      gate.open();
      await otherRunning;
    }
    await waitUntil(10, 'the gated tasks', () => allComplete(engine, gated));
  } finally {
    gate.open();
    await worker.stop();
  }
  await running;
  assert.deepEqual(startsOf(gate, gated), Array(5).fill(1));
  assert.deepEqual([worker.stats.completed, worker.stats.stale, worker.stats.failed], [14, 1, 0]);
  assert.deepEqual([other.stats.completed, other.stats.failed], [1, 0]);
});
