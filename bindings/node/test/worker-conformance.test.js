'use strict';
// Worker behaviour stated once for every binding: the same three scenarios, with the same names, templates and
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
