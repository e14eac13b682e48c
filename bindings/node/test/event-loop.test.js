'use strict';
// The event loop keeps running while handle() is in progress: handlers await, and calls that may wait run on
// koffi's worker threads.
const test = require('node:test');
const assert = require('node:assert/strict');
const { handler, registerOrder, createOrder, manualEngine, sleep } = require('./support/helpers');

/** A template `name` of `length` steps in a chain, every one with handler Noop. */
const chain = (name, length) => `name: ${name}\nnamespace_name: js\nversion: 1.0.0\nsteps:\n` +
  Array.from({ length }, (_, i) => `  - name: s${i}\n    handler: { callable: Noop }\n` +
    (i > 0 ? `    dependencies: [s${i - 1}]\n` : '')).join('');

/** Counts setInterval ticks (every `ms`) while `work()` runs; resolves with [ticks, the work's result]. */
async function ticksDuring(ms, work) {
  let ticks = 0;
  const timer = setInterval(() => { ticks += 1; }, ms);
  try {
    const result = await work();
    return [ticks, result];
  } finally {
    clearInterval(timer);
  }
}

test('a setInterval keeps ticking while a handler awaits during handle', async (t) => {
  const engine = manualEngine(t);
  await registerOrder(engine, handler(async () => { await sleep(200); return 'paid'; }));
  const task = await createOrder(engine);
  const [ticks, outcome] = await ticksDuring(5, () => engine.handle(task.uuid));
  assert.equal(outcome.action, 'complete');
  assert.ok(ticks >= 20, `only ${ticks} ticks in 200 ms of handling`);
});

test('the engine answers other calls while a handler awaits', async (t) => {
  const engine = manualEngine(t);
  await registerOrder(engine, handler(async () => { await sleep(100); return 'paid'; }));
  const task = await createOrder(engine);
  const handling = engine.handle(task.uuid);
  await sleep(30);
  assert.equal((await engine.getTask(task.uuid)).step('process_payment').state, 'in_progress');
  assert.equal((await handling).action, 'complete');
});

test('a large template registers on a worker thread while the loop keeps ticking', async (t) => {
  const engine = manualEngine(t);
  const [ticks, template] = await ticksDuring(1, () => engine.registerTemplate(chain('long', 5000)));
  assert.equal(template.steps.length, 5000);
  assert.ok(ticks >= 1, 'the loop ticked during registration');
});

/** Counts event-loop turns (setImmediate) until `promise` settles; resolves with [turns, its value]. */
async function turnsUntil(promise) {
  let turns = 0;
  let done = false;
  const settled = promise.finally(() => { done = true; });
  while (!done) {
    turns += 1;
    await new Promise(setImmediate);
  }
  return [turns, await settled];
}

test('with synchronous calls and synchronous handlers, a long workflow still lets the event loop turn', async (t) => {
  const engine = manualEngine(t, { concurrency: 1 });
  await engine.registerTemplate(chain('long', 3000));
  engine.registerHandler('Noop', () => null);
  const task = await engine.createTask('long', { namespace: 'js' });
  const started = performance.now();
  const [turns, outcome] = await turnsUntil(engine.handle(task.uuid));
  const elapsed = performance.now() - started;
  assert.equal(outcome.action, 'complete');
  assert.ok(turns >= Math.floor(elapsed / 10), `${turns} turns of the event loop in ${elapsed.toFixed(0)} ms`);
});

test('with every call on a worker thread, ticks continue between the calls of a long workflow', async (t) => {
  const engine = manualEngine(t, { syncCalls: false, concurrency: 1 });
  await engine.registerTemplate(chain('chain', 50));
  engine.registerHandler('Noop', () => null);
  const task = await engine.createTask('chain', { namespace: 'js' });
  const [turns, outcome] = await turnsUntil(engine.handle(task.uuid));
  assert.equal(outcome.action, 'complete');
  assert.ok(turns >= 50, `the loop turned only ${turns} times during 100 native calls`);
});
