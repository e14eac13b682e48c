'use strict';
// Bad input gives clear errors of the right class and never crashes the process.
const test = require('node:test');
const assert = require('node:assert/strict');
const { tasker, registerOrder, createOrder, oneStep, manualEngine } = require('./support/helpers');

test('malformed YAML is a ValidationError with the line', async (t) => {
  const engine = manualEngine(t);
  await assert.rejects(engine.registerTemplate('name: x\nsteps: [\n  - {'), (e) =>
    e instanceof tasker.ValidationError && e.code === 1 && /line/i.test(e.message));
});

test('malformed JSON in a template is an InvalidJsonError', async (t) => {
  const engine = manualEngine(t);
  await assert.rejects(engine.registerTemplate('{"name": '), (e) => e instanceof tasker.InvalidJsonError && e instanceof tasker.ValidationError);
});

test('a template with a cycle is an InvalidDagError naming the cycle', async (t) => {
  const engine = manualEngine(t);
  const cyclic = 'name: x\nnamespace_name: n\nversion: 1.0.0\nsteps:\n' +
    '  - name: a\n    handler: { callable: A }\n    dependencies: [b]\n' +
    '  - name: b\n    handler: { callable: B }\n    dependencies: [a]\n';
  await assert.rejects(engine.registerTemplate(cyclic), (e) => e instanceof tasker.InvalidDagError && /a -> b -> a|b -> a -> b/.test(e.message));
});

test('a template with an unknown dependency is an InvalidDagError naming it', async (t) => {
  const engine = manualEngine(t);
  await assert.rejects(engine.registerTemplate(`${oneStep('x')}    dependencies: [ghost]\n`),
    (e) => e instanceof tasker.InvalidDagError && /ghost/.test(e.message));
});

test('a template with a bad version is a ValidationError', async (t) => {
  const engine = manualEngine(t);
  await assert.rejects(engine.registerTemplate(oneStep('x').replace('1.0.0', 'one')), tasker.ValidationError);
});

test('registerTemplate of something that is not text is a ValidationError', async (t) => {
  const engine = manualEngine(t);
  await assert.rejects(engine.registerTemplate(42), /YAML or JSON text/);
});

test('a missing template file rejects with the file system error', async (t) => {
  const engine = manualEngine(t);
  await assert.rejects(engine.registerTemplate({ path: '/nonexistent/template.yaml' }), { code: 'ENOENT' });
});

test('creating a task of an unknown template is a NotFoundError with kind and key', async (t) => {
  const engine = manualEngine(t);
  await assert.rejects(engine.createTask('missing', { namespace: 'nowhere' }), (e) =>
    e instanceof tasker.NotFoundError && e.code === 5 && /missing/.test(e.message) && Object.keys(e.details).length > 0);
});

test('creating a task without a namespace is a ValidationError naming the field', async (t) => {
  const engine = manualEngine(t);
  await registerOrder(engine);
  await assert.rejects(engine.createTask('order_fulfillment', {}), (e) => e instanceof tasker.ValidationError && e.details.field === 'namespace');
});

test('a context that fails the input schema is a ValidationError with the violations', async (t) => {
  const engine = manualEngine(t);
  await registerOrder(engine);
  await assert.rejects(createOrder(engine, { context: { order: { id: 'seven' } } }), (e) =>
    e instanceof tasker.ValidationError && 'schema_errors' in e.details);
});

test('a context with a lone surrogate is a TypeError, and no task is created', async (t) => {
  const engine = manualEngine(t);
  await registerOrder(engine);
  await assert.rejects(createOrder(engine, { context: { order: { id: 1, total: 1, items: [{ sku: '\udc00', quantity: 1 }] } } }),
    (e) => e instanceof TypeError && /the task request is not JSON-serializable: property "sku" has a lone surrogate/.test(e.message));
  assert.deepEqual(await engine.listTasks(), []);
});

test('createTask and handle reject on bad input, never throw as they are called', async (t) => {
  const engine = manualEngine(t);
  await registerOrder(engine);
  // Each call returns a promise (the error is its rejection) even where it fails before anything is sent.
  const calls = [
    [() => engine.createTask('order_fulfillment', null), TypeError],
    [() => engine.createTask('order_fulfillment', { namespace: 'fulfillment', context: { n: 1n } }), TypeError],
    [() => engine.handle('00000000-0000-0000-0000-000000000000', { traceparent: 5 }), tasker.ValidationError],
    [() => engine.handle('00000000-0000-0000-0000-000000000000', null), TypeError],
    [() => engine.handle('nope'), tasker.ValidationError],
    [() => engine.handle('00000000-0000-0000-0000-000000000000'), tasker.NotFoundError],
  ];
  for (const [call, kind] of calls) {
    let promise;
    assert.doesNotThrow(() => { promise = call(); });
    assert.ok(promise instanceof Promise);
    await assert.rejects(promise, kind);
  }
  const closed = manualEngine(t);
  await closed.close();
  for (const call of [() => closed.createTask('order_fulfillment', { namespace: 'fulfillment' }), () => closed.handle('x')]) {
    let promise;
    assert.doesNotThrow(() => { promise = call(); });
    await assert.rejects(promise, tasker.InvalidHandleError);
  }
});

test('a task uuid that is not a uuid is a ValidationError', async (t) => {
  const engine = manualEngine(t);
  await assert.rejects(engine.getTask('nope'), (e) => e instanceof tasker.ValidationError && /uuid/.test(e.message));
});

test('an unknown task is a NotFoundError', async (t) => {
  const engine = manualEngine(t);
  await assert.rejects(engine.getTask('00000000-0000-0000-0000-000000000000'), tasker.NotFoundError);
});

test('listTasks with an unknown state is a ValidationError', async (t) => {
  const engine = manualEngine(t);
  await assert.rejects(engine.listTasks({ state: 'sleeping' }), tasker.ValidationError);
});

test('resolving an unknown step is a NotFoundError', async (t) => {
  const engine = manualEngine(t);
  await registerOrder(engine);
  const task = await createOrder(engine);
  await assert.rejects(engine.resolveStep(task.uuid, 'ghost'), tasker.NotFoundError);
});

test('a resolveStep result that is not JSON is a TypeError before anything is sent', async (t) => {
  const engine = manualEngine(t);
  await registerOrder(engine);
  const task = await createOrder(engine);
  await assert.rejects(engine.resolveStep(task.uuid, 'validate_order', { n: 1n }), TypeError);
});

test('invalid engine options are ValidationErrors', () => {
  assert.throws(() => new tasker.Engine({ concurrency: 0 }), /concurrency must be an integer/);
  assert.throws(() => new tasker.Engine('memory'), /options must be an object/);
  assert.throws(() => new tasker.Engine({ databaseUrl: 5 }), /databaseUrl must be a string/);
});

test('an engine option of the wrong type is refused by the library', () => {
  assert.throws(() => new tasker.Engine({ clock: 'sundial' }), tasker.ValidationError);
});

test('advanceClock refuses going back in time', (t) => {
  const engine = manualEngine(t);
  assert.throws(() => engine.advanceClock(-1), tasker.ValidationError);
});

test('a subscription with an empty pattern is a ValidationError', (t) => {
  const engine = manualEngine(t);
  assert.throws(() => engine.subscribe(''), tasker.ValidationError);
});

test('every engine error is a TaskerError with code and details', async (t) => {
  const engine = manualEngine(t);
  const error = await engine.createTask('missing', { namespace: 'nowhere' }).catch((e) => e);
  assert.ok(error instanceof tasker.TaskerError && error instanceof Error);
  assert.equal(error.name, 'NotFoundError');
  assert.equal(typeof error.details, 'object');
});
