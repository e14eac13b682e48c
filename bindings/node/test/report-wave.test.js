'use strict';
// handle reports the steps that finished together in one tasker_steps_report call (report.js): the calls are
// counted at the binding's one seam to the library (native.jsonSync / jsonAsync), on the sync and the async path.
const test = require('node:test');
const assert = require('node:assert/strict');
const native = require('../lib/native');
const { tasker, handler, manualEngine } = require('./support/helpers');

/** A template whose steps (name -> handler) have no dependencies, then `last` (handler Last) after all of them. */
function waveTemplate(name, steps, last = true) {
  const lines = Object.entries(steps).map(([step, callable]) => `  - name: ${step}\n    handler: { callable: ${callable} }\n`);
  if (last) lines.push(`  - name: last\n    handler: { callable: Last }\n    dependencies: [${Object.keys(steps).join(', ')}]\n`);
  return `name: ${name}\nnamespace_name: js\nversion: 1.0.0\nsteps:\n${lines.join('')}`;
}

/** Runs `work`, recording the name of every JSON call it makes to the library (sync or async), in order, and its request in `requests`. */
async function recordingCalls(work, requests = []) {
  const { jsonSync, jsonAsync } = native;
  const calls = [];
  const record = (name, input) => { calls.push(name); requests.push(String(input)); };
  native.jsonSync = (name, engine, input) => { record(name, input); return jsonSync(name, engine, input); };
  native.jsonAsync = (name, engine, input) => { record(name, input); return jsonAsync(name, engine, input); };
  try {
    await work();
  } finally {
    Object.assign(native, { jsonSync, jsonAsync });
  }
  return calls;
}

const nested = (depth) => {
  let value = 'leaf';
  for (let i = 0; i < depth; i++) value = { v: value };
  return value;
};

/** Registers `handlers` (name -> what its step returns, or a function of the context) and handles one task. */
async function handleWave(t, template, handlers, { requests, ...options } = {}) {
  const engine = manualEngine(t, options);
  await engine.registerTemplate(template);
  for (const [name, returns] of Object.entries(handlers)) {
    engine.registerHandler(name, handler((ctx) => (typeof returns === 'function' ? returns(ctx) : returns)));
  }
  const task = await engine.createTask('wave', { namespace: 'js' });
  let outcome;
  const calls = await recordingCalls(async () => { outcome = await engine.handle(task.uuid); }, requests);
  return { calls, outcome, task: await engine.getTask(task.uuid) };
}

for (const syncCalls of [true, false]) {
  const path = syncCalls ? 'sync calls' : 'async calls';

  test(`${path}: a wave of quick steps is reported in one stepsReport call, which claims the next step`, async (t) => {
    const steps = { a: 'A', b: 'B', c: 'C', d: 'D' };
    const { calls, outcome, task } = await handleWave(t, waveTemplate('wave', steps),
      { A: 1, B: 2, C: 3, D: 4, Last: (ctx) => Object.keys(ctx.dependencyResults).sort() }, { syncCalls });
    // One claim for the wave, one report for its four steps (claiming `last`), one complete for `last` alone.
    assert.deepEqual(calls, ['stepsClaim', 'stepsReport', 'stepComplete']);
    assert.equal(outcome.action, 'complete');
    assert.deepEqual(['a', 'b', 'c', 'd'].map((s) => [task.step(s).state, task.step(s).result]),
      [['complete', 1], ['complete', 2], ['complete', 3], ['complete', 4]]);
    assert.deepEqual(task.step('last').result, ['a', 'b', 'c', 'd']);
  });

  test(`${path}: a result holding U+0000 in a wave fails only its own step (InvalidResult); its siblings complete`, async (t) => {
    const steps = { a: 'A', nul: 'Nul', b: 'B' };
    const { calls, task } = await handleWave(t, waveTemplate('wave', steps, false),
      { A: 'fine', Nul: { text: 'a\u0000b' }, B: 'also fine' }, { syncCalls });
    // The wave's report, then the refused step's failure on its own.
    assert.deepEqual(calls, ['stepsClaim', 'stepsReport', 'stepFail']);
    assert.deepEqual([task.step('a').state, task.step('a').result], ['complete', 'fine']);
    assert.deepEqual([task.step('b').state, task.step('b').result], ['complete', 'also fine']);
    const refused = task.step('nul');
    assert.deepEqual([refused.state, refused.attempts, refused.error.errorType], ['waiting_for_retry', 1, 'InvalidResult']);
    assert.match(refused.error.message, /the engine refused the step's result/);
  });

  test(`${path}: a result nested 80 deep in a wave fails only its own step (InvalidResult); its siblings complete`, async (t) => {
    const steps = { a: 'A', deep: 'Deep', b: 'B' };
    const { calls, task } = await handleWave(t, waveTemplate('wave', steps, false),
      { A: 'fine', Deep: nested(80), B: { ok: true } }, { syncCalls });
    // The whole request does not parse (too deep for it): each step is then reported on its own.
    assert.deepEqual(calls, ['stepsClaim', 'stepsReport', 'stepComplete', 'stepComplete', 'stepFail', 'stepComplete']);
    assert.deepEqual([task.step('a').state, task.step('a').result], ['complete', 'fine']);
    assert.deepEqual([task.step('b').state, task.step('b').result], ['complete', { ok: true }]);
    const refused = task.step('deep');
    assert.deepEqual([refused.state, refused.attempts, refused.error.errorType], ['waiting_for_retry', 1, 'InvalidResult']);
  });
}

test('handler failures and results that are not JSON in a wave are reported with the wave, each as its own failure', async (t) => {
  const steps = { a: 'A', boom: 'Boom', big: 'Big' };
  const { calls, task } = await handleWave(t, waveTemplate('wave', steps, false), {
    A: 'fine',
    Boom: () => { throw new tasker.PermanentError('no such order'); },
    Big: 10n, // a BigInt: not JSON
  });
  assert.deepEqual(calls, ['stepsClaim', 'stepsReport']);
  assert.deepEqual([task.step('a').state, task.step('a').result], ['complete', 'fine']);
  assert.deepEqual([task.step('boom').state, task.step('boom').error.errorType, task.step('boom').error.message],
    ['error', 'PermanentError', 'no such order']);
  assert.deepEqual([task.step('big').state, task.step('big').error.errorType], ['waiting_for_retry', 'TypeError']);
});

test('handler runs are sent with Unix-second times, which the engine takes', async (t) => {
  const before = Date.now() / 1000;
  const requests = [];
  const { calls, task } = await handleWave(t, waveTemplate('wave', { a: 'A', b: 'B' }, false), { A: 1, B: 2 },
    { clock: 'system', requests });
  const after = Date.now() / 1000; // whole milliseconds: up to 1 ms behind the finish it follows
  assert.deepEqual(calls, ['stepsClaim', 'stepsReport']);
  const { reports } = JSON.parse(requests[calls.indexOf('stepsReport')]);
  for (const { handler: run } of reports) {
    assert.equal(typeof run.started_at, 'number');
    assert.ok(before <= run.started_at && run.started_at <= run.finished_at && run.finished_at <= after + 0.001, JSON.stringify({ before, after, run }));
  }
  assert.deepEqual([task.step('a').state, task.step('b').state], ['complete', 'complete']);
});
