'use strict';
// request-bytes.js writes a step's report as bytes, for the memory store's step path: they must be exactly the
// JSON.stringify text of report.js's request, and anything it does not write is left to that text (-1).
const test = require('node:test');
const assert = require('node:assert/strict');
const { writeStepReport, written } = require('../lib/request-bytes');
const { encode, stepRequest } = require('../lib/report');
const { manualEngine, oneStep } = require('./support/helpers');

const CLAIM_NEXT = { max_steps: 3, handlers: ['Noop', 'Other "quoted"'], worker_id: 'node-1' };

function finished({ output = null, failed = false, error, attributes = {}, traceparent, startedAt = 1796215108.821 } = {}) {
  return {
    ref: { task_uuid: '01a236c3-74d1-7a95-86f6-0dc342756d7f', step_uuid: '01a236c3-74d1-76a2-a0d8-3e7749af63a1',
      claim_token: 'fd14d1e333aceae8e133d60a50e693c0', traceparent },
    stepName: 's0',
    run: { started_at: startedAt, finished_at: startedAt + 0.0000073, attributes },
    failed, output, error,
  };
}

/** The bytes writeStepReport wrote, as text, or -1. */
function bytesOf(done, claimNext) {
  const length = writeStepReport(done, claimNext);
  return length < 0 ? -1 : written().subarray(0, length).toString('utf8');
}

const textOf = (done, claimNext) => encode(stepRequest(done, claimNext), done).text;

test('a completed step is written as the bytes of its JSON.stringify text', () => {
  const outputs = [null, undefined, true, false, 0, -1.5, 1e21, 123456789.123, '', 'plain', 'quote " backslash \\ newline \n',
    'tab\t and U+0000 \u0000', 'é, ß and 中文', 'emoji 😀', '\u007f delete'];
  for (const output of outputs) {
    for (const claimNext of [undefined, CLAIM_NEXT]) {
      for (const traceparent of [undefined, '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01', 'odd "trace" é']) {
        for (const attributes of [{}, { 'order.id': 'A-1 "x"', count: 3, ok: true, 'é': 'ü' }]) {
          const done = finished({ output, traceparent, attributes, startedAt: Date.now() / 1000 });
          assert.equal(bytesOf(done, claimNext), textOf(done, claimNext), JSON.stringify({ output, traceparent, attributes }));
        }
      }
    }
  }
});

test('what the byte writer does not write is left to JSON.stringify', () => {
  const left = [
    finished({ failed: true, error: new Error('boom') }), // a failure
    finished({ output: { total: 1 } }), // an object result
    finished({ output: [1, 2] }),
    finished({ output: Number.NaN }), // not JSON: the text path turns it into a failure
    finished({ output: 'lone \ud800 surrogate' }),
    finished({ output: 10n }),
    finished({ attributes: { big: 1n } }), // attributes that are not JSON
    finished({ attributes: { toJSON: () => ({}) } }),
    finished({ attributes: new Map() }),
    finished({ output: 'x'.repeat(70 * 1024) }), // larger than the buffer of synchronous calls
  ];
  for (const done of left) assert.equal(writeStepReport(done, CLAIM_NEXT), -1);
  // And the buffer is usable again afterwards.
  const done = finished();
  assert.equal(bytesOf(done, CLAIM_NEXT), textOf(done, CLAIM_NEXT));
});

test('a request larger than the buffer so far grows it, keeping what was written', () => {
  const done = finished({ output: 'y'.repeat(20000), attributes: { a: 'z'.repeat(10000) } });
  assert.equal(bytesOf(done, CLAIM_NEXT), textOf(done, CLAIM_NEXT));
});

test('results written as bytes are stored as the handler returned them', async (t) => {
  const results = [null, true, false, 0, -2.5, 'quote " backslash \\ newline \n', 'é 中文 😀', 'x'.repeat(100000)];
  const engine = manualEngine(t);
  await engine.registerTemplate(oneStep('echo', 'Echo'));
  for (const result of results) {
    engine.registerHandler('Echo', (ctx) => {
      ctx.setAttribute('kind', typeof result);
      return result;
    });
    const task = await engine.createTask('echo', { namespace: 'js' });
    const outcome = await engine.handle(task.uuid);
    assert.equal(outcome.action, 'complete');
    assert.deepEqual((await engine.getTask(task.uuid)).step('s').result, result);
  }
  // A handler returning undefined stores null.
  engine.registerHandler('Echo', () => undefined);
  const task = await engine.createTask('echo', { namespace: 'js' });
  await engine.handle(task.uuid);
  assert.equal((await engine.getTask(task.uuid)).step('s').result, null);
});
