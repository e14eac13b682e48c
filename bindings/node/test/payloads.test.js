'use strict';
// Text crosses the boundary as (pointer, length) UTF-8 and comes back byte for byte, whatever its size.
const test = require('node:test');
const assert = require('node:assert/strict');
const { tasker, handler, oneStep, manualEngine } = require('./support/helpers');

const MULTIBYTE = 'größe ✓ 🚚 日本語 e\u0301 \u0001 "quoted" \\ \n\t 𝄞';

/** Handles a one-step task whose handler returns `fn(context)`; resolves with the stored task. */
async function echo(t, context, fn = (c) => c.text, engineOptions = {}) {
  const engine = manualEngine(t, engineOptions);
  await engine.registerTemplate(oneStep('echo'));
  engine.registerHandler('Echo', handler((ctx) => fn(ctx.task.context)));
  const task = await engine.createTask('echo', { namespace: 'js', context });
  assert.equal((await engine.handle(task.uuid)).action, 'complete');
  return engine.getTask(task.uuid);
}

test('multi-byte UTF-8, control characters and escapes in the context reach the handler and the result unchanged', async (t) => {
  const done = await echo(t, { text: MULTIBYTE });
  assert.equal(done.context.text, MULTIBYTE);
  assert.equal(done.step('s').result, MULTIBYTE);
});

test('multi-byte UTF-8 in object keys round-trips', async (t) => {
  const value = { 'ключ 🔑': { '日本': [1, 'ü'] } };
  const done = await echo(t, { value }, (c) => c.value);
  assert.deepEqual(done.step('s').result, value);
});

test('a 5 MB multi-byte payload round-trips exactly', async (t) => {
  const big = MULTIBYTE.repeat(Math.ceil((5 * 1024 * 1024) / Buffer.byteLength(MULTIBYTE)));
  assert.ok(Buffer.byteLength(big) >= 5 * 1024 * 1024);
  const done = await echo(t, { text: big });
  assert.equal(done.context.text.length, big.length);
  assert.ok(done.step('s').result === big, 'the result differs from what the handler returned');
});

test('a 5 MB payload also round-trips with every call on a worker thread', async (t) => {
  const big = 'x🚚'.repeat(5 * 1024 * 1024 / 5);
  const done = await echo(t, { text: big }, (c) => c.text, { syncCalls: false });
  assert.ok(done.step('s').result === big);
});

test('large numbers and deep structures keep their values', async (t) => {
  const value = { max: Number.MAX_SAFE_INTEGER, tiny: 5e-324, neg: -0.5, nested: [[[[[[{ deep: true }]]]]]] };
  const done = await echo(t, { value }, (c) => c.value);
  assert.deepEqual(done.step('s').result, value);
});

test('a template with multi-byte text in its description registers', async (t) => {
  const engine = manualEngine(t);
  const template = await engine.registerTemplate(oneStep('unicode').replace('version: 1.0.0', 'version: 1.0.0\ndescription: Größe ✓ 🚚'));
  assert.equal(template.name, 'unicode');
});

test('U+0000 in a task context is a ValidationError naming the field, and no task is created', async (t) => {
  const engine = manualEngine(t);
  await engine.registerTemplate(oneStep('nul'));
  await assert.rejects(engine.createTask('nul', { namespace: 'js', context: { text: 'a\u0000b' } }),
    (e) => e instanceof tasker.ValidationError && e.details.field === 'context');
  assert.deepEqual(await engine.listTasks(), []);
});

test('a result holding U+0000 is refused by the engine: an InvalidResult failure naming the field', async (t) => {
  const engine = manualEngine(t);
  await engine.registerTemplate(oneStep('nul'));
  engine.registerHandler('Echo', handler(() => ({ text: 'a\u0000b' })));
  const task = await engine.createTask('nul', { namespace: 'js' });
  assert.equal((await engine.handle(task.uuid)).action, 'reenqueue');
  const { error } = (await engine.getTask(task.uuid)).step('s');
  assert.equal(error.errorType, 'InvalidResult');
  assert.match(error.message, /^the engine refused the step's result: result contains a NUL character/);
});

test('a payload over the 64 MiB input limit is a ValidationError, not a crash', async (t) => {
  const engine = manualEngine(t);
  await engine.registerTemplate(oneStep('huge'));
  await assert.rejects(engine.createTask('huge', { namespace: 'js', context: { text: 'x'.repeat(65 * 1024 * 1024) } }),
    tasker.ValidationError);
});
