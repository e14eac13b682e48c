'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const { tasker, ORDER_TEMPLATE, Returns, handler, registerOrder, createOrder, track } = require('./helpers');

const open = () => new tasker.Engine({ clock: 'manual', backoff: { jitter: 0 } });

test('handle runs every step and passes dependency results', async (t) => {
  const engine = track(t, open());
  await registerOrder(engine);
  const task = await createOrder(engine);
  const outcome = await engine.handle(task.uuid);
  assert.deepEqual([outcome.action, outcome.taskState], ['complete', 'complete']);
  const done = await engine.getTask(task.uuid);
  assert.deepEqual(done.steps.map((s) => s.state), Array(4).fill('complete'));
  assert.deepEqual(done.step('ship_order').result,
    { step: 'ship_order', saw: ['process_payment', 'reserve_inventory', 'validate_order'] });
});

test('ready steps run concurrently', async (t) => {
  let running = 0;
  let peak = 0;
  const Slow = handler(async () => {
    running += 1;
    peak = Math.max(peak, running);
    await new Promise((r) => setTimeout(r, 50));
    running -= 1;
    return 'ok';
  });
  const engine = track(t, new tasker.Engine({ concurrency: 4 }));
  await engine.registerTemplate('name: fan\nnamespace_name: js\nversion: 1.0.0\nsteps:\n' +
    [1, 2, 3, 4].map((i) => `  - name: s${i}\n    handler: { callable: Slow }\n`).join(''));
  engine.registerHandler('Slow', Slow);
  assert.equal((await engine.handle((await engine.createTask('fan', { namespace: 'js' })).uuid)).action, 'complete');
  assert.equal(peak, 4);
});

test('the event loop stays responsive while a handler awaits', async (t) => {
  let ticks = 0;
  const timer = setInterval(() => { ticks += 1; }, 5);
  const engine = track(t, open());
  await registerOrder(engine, handler(async () => { await new Promise((r) => setTimeout(r, 200)); return 'paid'; }));
  await engine.handle((await createOrder(engine)).uuid);
  clearInterval(timer);
  assert.ok(ticks >= 20, `only ${ticks} ticks while handling`);
});

test('processResults transforms the output', async (t) => {
  const engine = track(t, open());
  await registerOrder(engine);
  engine.registerHandler('ShipOrder', class extends tasker.StepHandler {
    async process() { return 21; }
    processResults(output) { return output * 2; }
  });
  const task = await createOrder(engine);
  await engine.handle(task.uuid);
  assert.equal((await engine.getTask(task.uuid)).step('ship_order').result, 42);
});

test('RetryableError with retryAfter re-enqueues after that delay', async (t) => {
  const engine = track(t, open());
  await registerOrder(engine, handler((ctx) => {
    if (ctx.step.attempt === 1) throw new tasker.RetryableError('gateway busy', { retryAfter: 30 });
    return 'paid';
  }));
  const task = await createOrder(engine);
  const outcome = await engine.handle(task.uuid);
  assert.deepEqual([outcome.action, outcome.delaySeconds, outcome.taskState], ['reenqueue', 30, 'waiting_for_retry']);
  engine.advanceClock(30);
  assert.equal((await engine.handle(task.uuid)).action, 'complete');
  assert.equal((await engine.getTask(task.uuid)).step('process_payment').attempts, 2);
});

test('a thrown error becomes a retryable failure with name, message and stack', async (t) => {
  const engine = track(t, open());
  await registerOrder(engine, handler(() => { throw new RangeError('bad sku'); }));
  const task = await createOrder(engine);
  assert.equal((await engine.handle(task.uuid)).action, 'reenqueue');
  const { error } = (await engine.getTask(task.uuid)).step('process_payment');
  assert.deepEqual([error.error_type, error.message, error.permanent], ['RangeError', 'bad sku', false]);
  assert.ok(error.backtrace.some((line) => line.includes('engine.test.js')));
});

test('PermanentError fails the step and the task at once', async (t) => {
  const engine = track(t, open());
  await registerOrder(engine, handler(() => { throw new tasker.PermanentError('card declined'); }));
  const task = await createOrder(engine);
  assert.equal((await engine.handle(task.uuid)).action, 'error');
  const step = (await engine.getTask(task.uuid)).step('process_payment');
  assert.deepEqual([step.state, step.attempts], ['error', 1]);
});

test('an unregistered handler fails its step permanently', async (t) => {
  const engine = track(t, open());
  await engine.registerTemplate(ORDER_TEMPLATE);
  const task = await createOrder(engine);
  assert.equal((await engine.handle(task.uuid)).action, 'error');
  assert.equal((await engine.getTask(task.uuid)).step('validate_order').error.error_type, 'UnknownHandler');
});

test('a result that cannot be serialized, or a throwing processResults, is a step failure', async (t) => {
  const engine = track(t, open());
  await registerOrder(engine, handler(() => ({ big: 10n })));
  engine.registerHandler('ShipOrder', class extends Returns { processResults() { throw new Error('cannot summarize'); } });
  const task = await createOrder(engine);
  assert.equal((await engine.handle(task.uuid)).action, 'reenqueue');
  assert.equal((await engine.getTask(task.uuid)).step('process_payment').error.error_type, 'TypeError');
});

test('retry, cancel and resolve', async (t) => {
  const engine = track(t, open());
  let calls = 0;
  await registerOrder(engine, handler(() => { calls += 1; if (calls === 1) throw new tasker.PermanentError('down'); return 'ok'; }));
  const task = await createOrder(engine);
  assert.equal((await engine.handle(task.uuid)).action, 'error');
  assert.equal((await engine.retryTask(task.uuid, { actor: 'ops' })).taskState, 'pending');
  assert.equal((await engine.handle(task.uuid)).action, 'complete');

  const other = await createOrder(engine);
  assert.equal((await engine.resolveStep(other.uuid, 'validate_order', { by: 'hand' })).action, 'execute');
  assert.equal((await engine.cancelTask(other.uuid)).action, 'cancelled');
  await assert.rejects(engine.retryTask(other.uuid), (e) => e instanceof tasker.InvalidStateError
    && e.details.from === 'cancelled' && e.details.to === 'pending');
});

test('an idempotency key returns the existing task', async (t) => {
  const engine = track(t, open());
  await registerOrder(engine);
  const first = await createOrder(engine, { idempotencyKey: 'order-7' });
  const second = await createOrder(engine, { idempotencyKey: 'order-7' });
  assert.deepEqual([first.created, second.created, second.uuid], [true, false, first.uuid]);
});

test('listTasks, health and an async-iterated subscription', async (t) => {
  const engine = track(t, open());
  await registerOrder(engine);
  const events = track(t, engine.subscribe('step.completed'));
  const done = await createOrder(engine);
  await engine.handle(done.uuid);
  await createOrder(engine);
  assert.deepEqual((await engine.listTasks({ state: 'complete' })).map((t) => t.task_uuid), [done.uuid]);
  assert.equal((await engine.health()).tasks.complete, 1);
  const names = [];
  for await (const e of events) {
    names.push(e.step_name);
    if (names.length === 4) break;
  }
  assert.deepEqual(names, ['validate_order', 'reserve_inventory', 'process_payment', 'ship_order']);
});

test('core errors map to classes', async (t) => {
  const engine = track(t, open());
  await assert.rejects(engine.createTask('missing', { namespace: 'nowhere' }), tasker.NotFoundError);
  await assert.rejects(engine.getTask('nope'), /not a uuid/);
  await assert.rejects(engine.registerTemplate('name: x\nnamespace_name: n\nversion: 1.0.0\nsteps:\n  - name: a\n    handler: { callable: A }\n    dependencies: [a]\n'),
    (e) => e instanceof tasker.InvalidDagError && /a -> a/.test(e.message));
  await assert.rejects(engine.registerTemplate('{"name": '), tasker.InvalidJsonError);
  assert.throws(() => engine.registerHandler('X', Object), tasker.ValidationError);
});

test('a closed engine throws instead of crashing', async (t) => {
  const engine = new tasker.Engine();
  engine.close();
  engine.close();
  await assert.rejects(engine.listTasks(), tasker.InvalidHandleError);
});

test('multi-byte UTF-8 and a 5 MB payload round-trip exactly', async (t) => {
  const engine = track(t, open());
  const big = 'größe ✓ 🚚 日本語 '.repeat(5 * 1024 * 1024 / 30);
  await engine.registerTemplate('name: echo\nnamespace_name: js\nversion: 1.0.0\nsteps:\n  - name: e\n    handler: { callable: Echo }\n');
  engine.registerHandler('Echo', handler((ctx) => ctx.task.context.text));
  const task = await engine.createTask('echo', { namespace: 'js', context: { text: big } });
  await engine.handle(task.uuid);
  assert.equal((await engine.getTask(task.uuid)).step('e').result, big);
});
