'use strict';
// The Engine's surface on the memory store: templates, tasks, handle, operations, events, lifecycle.
const test = require('node:test');
const assert = require('node:assert/strict');
const {
  tasker, ORDER_TEMPLATE, ORDER_CONTEXT, ORDER_STEPS, Returns, handler, failsOnce, registerOrder, createOrder, oneStep,
  track, manualEngine, sleep,
} = require('./support/helpers');

test('registerTemplate resolves with the namespace, name, version, step names and details', async (t) => {
  const engine = manualEngine(t);
  const { namespace, name, version, steps, has_input_schema: schema, step_details: details, ...rest } =
    await engine.registerTemplate(ORDER_TEMPLATE);
  assert.deepEqual({ namespace, name, version, steps, schema },
    { namespace: 'fulfillment', name: 'order_fulfillment', version: '1.0.0', steps: ORDER_STEPS, schema: true });
  assert.deepEqual(details.map((s) => [s.name, s.skippable]), ORDER_STEPS.map((s) => [s, false]));
  assert.deepEqual(Object.keys(rest), ['description']); // keys the template does not have are absent, not null
});

test('registerTemplate reads { path } and Buffers', async (t) => {
  const engine = manualEngine(t);
  const { REPO } = require('./support/helpers');
  const fromFile = await engine.registerTemplate({ path: `${REPO}/examples/templates/order_fulfillment.yaml` });
  const fromBuffer = await engine.registerTemplate(Buffer.from(oneStep('buffered')));
  assert.deepEqual([fromFile.name, fromBuffer.name], ['order_fulfillment', 'buffered']);
});

test('createTask resolves with a pending task carrying its context and steps', async (t) => {
  const engine = manualEngine(t);
  await registerOrder(engine);
  const task = await createOrder(engine, { initiator: 'tests', tags: ['js'], priority: 3 });
  assert.equal(task.created, true);
  assert.match(task.uuid, /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
  assert.deepEqual([task.state, task.namespace, task.name, task.version], ['pending', 'fulfillment', 'order_fulfillment', '1.0.0']);
  assert.deepEqual([task.context, task.tags, task.priority, task.initiator], [ORDER_CONTEXT, ['js'], 3, 'tests']);
  assert.deepEqual(task.steps.map((s) => [s.name, s.state]), ORDER_STEPS.map((n) => [n, 'pending']));
});

test('createTask sends its own options in snake_case, leaving out undefined ones', async (t) => {
  const engine = manualEngine(t);
  await registerOrder(engine);
  // An inherited key is not an option (as with object rest, which createTask used before).
  const options = Object.assign(Object.create({ reason: 'inherited' }), { namespace: 'fulfillment', context: ORDER_CONTEXT,
    sourceSystem: 'crm', correlationId: 'c-1', idempotencyKey: undefined, version: undefined, initiator: 'tests' });
  const task = await engine.createTask('order_fulfillment', options);
  assert.deepEqual([task.sourceSystem, task.correlationId, task.initiator, task.reason, task.idempotencyKey, task.version],
    ['crm', 'c-1', 'tests', null, null, '1.0.0']);
});

test('a task and its steps carry the engine\'s JSON as a hidden, read-only raw', async (t) => {
  const engine = manualEngine(t);
  await registerOrder(engine);
  const task = await createOrder(engine);
  for (const [view, uuid] of [[task, task.raw.task_uuid], [task.steps[0], task.steps[0].raw.step_uuid]]) {
    const { value, ...descriptor } = Object.getOwnPropertyDescriptor(view, 'raw');
    assert.deepEqual(descriptor, { writable: false, enumerable: false, configurable: false });
    assert.equal(view.uuid, uuid);
    assert.ok(!Object.keys(view).includes('raw'));
  }
});

test('an idempotency key returns the existing task with created: false', async (t) => {
  const engine = manualEngine(t);
  await registerOrder(engine);
  const first = await createOrder(engine, { idempotencyKey: 'order-7' });
  const second = await createOrder(engine, { idempotencyKey: 'order-7' });
  assert.deepEqual([first.created, second.created, second.uuid], [true, false, first.uuid]);
});

test('handle runs every step and resolves with a complete outcome', async (t) => {
  const engine = manualEngine(t);
  await registerOrder(engine);
  const task = await createOrder(engine);
  const outcome = await engine.handle(task.uuid);
  assert.ok(outcome instanceof tasker.Outcome);
  assert.deepEqual([outcome.action, outcome.taskState, outcome.finished, outcome.delaySeconds], ['complete', 'complete', true, null]);
  const done = await engine.getTask(task.uuid);
  assert.equal(done.state, 'complete');
  assert.deepEqual(done.steps.map((s) => [s.state, s.attempts]), ORDER_STEPS.map(() => ['complete', 1]));
});

test('handle passes each step the results of its dependencies', async (t) => {
  const engine = manualEngine(t);
  await registerOrder(engine);
  const task = await createOrder(engine);
  await engine.handle(task.uuid);
  assert.deepEqual((await engine.getTask(task.uuid)).step('ship_order').result,
    { step: 'ship_order', saw: ['process_payment', 'reserve_inventory', 'validate_order'] });
});

test('handle gives every step its task, also the steps claimed with a report (whose answers are lean)', async (t) => {
  const engine = manualEngine(t, { concurrency: 1 });
  await registerOrder(engine);
  const seen = [];
  for (const name of ['ValidateOrder', 'ReserveInventory', 'ProcessPayment', 'ShipOrder']) {
    engine.registerHandler(name, handler(async (ctx) => {
      const { uuid, namespace, name: taskName, version, context, tags } = structuredClone(ctx.task);
      seen.push({ uuid, namespace, taskName, version, context, tags });
      ctx.task.context.changedBy = ctx.step.name; // each step's copy: the next step does not see this
      ctx.task.tags.push(ctx.step.name);
      return null;
    }));
  }
  const task = await createOrder(engine, { tags: ['js'] });
  const outcome = await engine.handle(task.uuid);
  assert.equal(outcome.taskState, 'complete');
  assert.equal(seen.length, ORDER_STEPS.length);
  for (const step of seen) {
    assert.deepEqual(step, { uuid: task.uuid, namespace: 'fulfillment', taskName: 'order_fulfillment', version: '1.0.0',
      context: ORDER_CONTEXT, tags: ['js'] });
  }
});

test('handle runs ready steps concurrently, up to the concurrency bound', async (t) => {
  let running = 0;
  let peak = 0;
  const Slow = handler(async () => {
    running += 1;
    peak = Math.max(peak, running);
    await sleep(30);
    running -= 1;
    return 'ok';
  });
  const engine = manualEngine(t, { concurrency: 3 });
  await engine.registerTemplate('name: fan\nnamespace_name: js\nversion: 1.0.0\nsteps:\n' +
    [1, 2, 3, 4, 5, 6].map((i) => `  - name: s${i}\n    handler: { callable: Slow }\n`).join(''));
  engine.registerHandler('Slow', Slow);
  const task = await engine.createTask('fan', { namespace: 'js' });
  assert.equal((await engine.handle(task.uuid)).action, 'complete');
  assert.equal(peak, 3);
});

test('handle starts a newly ready step as soon as its parent finishes, without waiting for the slow sibling', async (t) => {
  // a (slow) and b (fast) are independent; c depends on b only, so c runs while a is still running.
  const order = [];
  const engine = manualEngine(t);
  await engine.registerTemplate('name: overlap\nnamespace_name: js\nversion: 1.0.0\nsteps:\n' +
    '  - name: a\n    handler: { callable: Log }\n  - name: b\n    handler: { callable: Log }\n' +
    '  - name: c\n    handler: { callable: Log }\n    dependencies: [b]\n');
  engine.registerHandler('Log', handler(async (ctx) => {
    if (ctx.step.name === 'a') await sleep(100);
    order.push(ctx.step.name);
  }));
  const task = await engine.createTask('overlap', { namespace: 'js' });
  assert.equal((await engine.handle(task.uuid)).action, 'complete');
  assert.deepEqual(order, ['b', 'c', 'a']);
});

test('handle of a task whose retry is not due yet resolves with reenqueue and the remaining delay', async (t) => {
  const engine = manualEngine(t);
  await registerOrder(engine, failsOnce('paid', 30));
  const task = await createOrder(engine);
  assert.deepEqual([(await engine.handle(task.uuid)).delaySeconds], [30]);
  engine.advanceClock(10);
  const outcome = await engine.handle(task.uuid);
  assert.deepEqual([outcome.action, outcome.delaySeconds, outcome.taskState], ['reenqueue', 20, 'waiting_for_retry']);
});

test('handle after the delay passed runs the retry to completion', async (t) => {
  const engine = manualEngine(t);
  await registerOrder(engine, failsOnce('paid', 30));
  const task = await createOrder(engine);
  await engine.handle(task.uuid);
  engine.advanceClock(30);
  assert.equal((await engine.handle(task.uuid)).action, 'complete');
  assert.equal((await engine.getTask(task.uuid)).step('process_payment').attempts, 2);
});

test('handle of an unknown task rejects with NotFoundError', async (t) => {
  const engine = manualEngine(t);
  await assert.rejects(engine.handle('00000000-0000-0000-0000-000000000000'), tasker.NotFoundError);
});

test('handle of a finished task resolves with its final outcome and runs nothing', async (t) => {
  let runs = 0;
  const engine = manualEngine(t);
  await registerOrder(engine, handler(() => { runs += 1; }));
  const task = await createOrder(engine);
  await engine.handle(task.uuid);
  const again = await engine.handle(task.uuid);
  assert.deepEqual([again.action, runs], ['complete', 1]);
});

test('handle works the same with every call on a worker thread (syncCalls: false)', async (t) => {
  const engine = manualEngine(t, { syncCalls: false });
  await registerOrder(engine, failsOnce('paid', 5));
  const task = await createOrder(engine);
  assert.equal((await engine.handle(task.uuid)).delaySeconds, 5);
  engine.advanceClock(5);
  assert.equal((await engine.handle(task.uuid)).action, 'complete');
});

test('evaluate tells what to do without running anything', async (t) => {
  const engine = manualEngine(t);
  await registerOrder(engine);
  const task = await createOrder(engine);
  const outcome = await engine.evaluate(task.uuid);
  assert.deepEqual([outcome.action, outcome.executionStatus, outcome.readySteps], ['execute', 'has_ready_steps', 1]);
  assert.equal((await engine.getTask(task.uuid)).step('validate_order').state, 'pending');
});

test('getTask returns camelCase steps, their readiness and the audit trail', async (t) => {
  const engine = manualEngine(t);
  await registerOrder(engine);
  const task = await createOrder(engine);
  const fresh = await engine.getTask(task.uuid);
  const payment = fresh.step('process_payment');
  assert.deepEqual([payment.maxAttempts, payment.retryable, payment.handler], [3, true, 'ProcessPayment']);
  assert.deepEqual(payment.dependencies, ['validate_order', 'reserve_inventory']);
  assert.deepEqual(payment.readiness.waitingOn, ['validate_order', 'reserve_inventory']);
  await engine.handle(task.uuid);
  const done = await engine.getTask(task.uuid);
  const last = done.transitions.at(-1);
  assert.deepEqual([last.stepName, last.from, last.to], [null, 'in_progress', 'complete']);
  assert.equal(done.raw.task_uuid, task.uuid);
  assert.equal(done.step('nope'), undefined);
});

test('listTasks filters by state, newest first', async (t) => {
  const engine = manualEngine(t);
  await registerOrder(engine);
  const first = await createOrder(engine);
  engine.advanceClock(1);
  const second = await createOrder(engine);
  const pending = await createOrder(engine);
  await engine.handle(first.uuid);
  await engine.handle(second.uuid);
  assert.deepEqual((await engine.listTasks({ state: 'complete' })).map((s) => s.uuid), [second.uuid, first.uuid]);
  assert.deepEqual((await engine.listTasks({ state: 'pending' })).map((s) => [s.uuid, s.name]), [[pending.uuid, 'order_fulfillment']]);
});

test('retryTask returns a failed task to pending and it can then complete', async (t) => {
  let calls = 0;
  const engine = manualEngine(t);
  await registerOrder(engine, handler(() => {
    calls += 1;
    if (calls === 1) throw new tasker.PermanentError('gateway down');
    return 'paid';
  }));
  const task = await createOrder(engine);
  assert.equal((await engine.handle(task.uuid)).action, 'error');
  assert.equal((await engine.retryTask(task.uuid, { actor: 'ops', reason: 'gateway back' })).taskState, 'pending');
  assert.equal((await engine.handle(task.uuid)).action, 'complete');
  const retried = (await engine.getTask(task.uuid)).transitions.find((tr) => tr.actor === 'ops');
  assert.equal(retried.reason, 'gateway back');
});

test('cancelTask cancels the task and its unfinished steps', async (t) => {
  const engine = manualEngine(t);
  await registerOrder(engine);
  const task = await createOrder(engine);
  const outcome = await engine.cancelTask(task.uuid, { actor: 'ops', reason: 'customer cancelled' });
  assert.deepEqual([outcome.action, outcome.taskState], ['cancelled', 'cancelled']);
  assert.deepEqual((await engine.getTask(task.uuid)).steps.map((s) => s.state), ORDER_STEPS.map(() => 'cancelled'));
});

test('cancelling a task while a handler runs makes handle resolve with cancelled; the late result is dropped', async (t) => {
  const engine = manualEngine(t);
  await registerOrder(engine, handler(async () => { await sleep(50); return 'paid'; }));
  const task = await createOrder(engine);
  const handling = engine.handle(task.uuid);
  await sleep(20);
  await engine.cancelTask(task.uuid);
  const outcome = await handling;
  assert.deepEqual([outcome.action, outcome.taskState], ['cancelled', 'cancelled']);
  const payment = (await engine.getTask(task.uuid)).step('process_payment');
  assert.deepEqual([payment.state, payment.result], ['cancelled', null]);
});

test('closing the engine while handle runs rejects handle with InvalidHandleError', async () => {
  const engine = new tasker.Engine();
  await registerOrder(engine, handler(async () => { await sleep(50); return 'paid'; }));
  const task = await createOrder(engine);
  const handling = engine.handle(task.uuid);
  await sleep(20);
  await engine.close();
  await assert.rejects(handling, tasker.InvalidHandleError);
});

test('a cancelled task cannot be retried: InvalidStateError names both states', async (t) => {
  const engine = manualEngine(t);
  await registerOrder(engine);
  const task = await createOrder(engine);
  await engine.cancelTask(task.uuid);
  await assert.rejects(engine.retryTask(task.uuid), (e) => e instanceof tasker.InvalidStateError
    && e.code === 8 && e.details.from === 'cancelled' && e.details.to === 'pending');
});

test('resolveStep resolves a step by hand and its dependents see the given result', async (t) => {
  const engine = manualEngine(t);
  await registerOrder(engine, handler(() => { throw new tasker.PermanentError('card declined'); }));
  const task = await createOrder(engine);
  assert.equal((await engine.handle(task.uuid)).action, 'error');
  const outcome = await engine.resolveStep(task.uuid, 'process_payment', { paid: 'by phone' }, { actor: 'ops' });
  assert.equal(outcome.action, 'execute');
  assert.equal((await engine.handle(task.uuid)).action, 'complete');
  const done = await engine.getTask(task.uuid);
  assert.deepEqual([done.step('process_payment').state, done.step('process_payment').result], ['resolved_manually', { paid: 'by phone' }]);
});

test('staleWork lists a task whose retry is due', async (t) => {
  const engine = manualEngine(t);
  await registerOrder(engine, failsOnce('paid', 10));
  const task = await createOrder(engine);
  await engine.handle(task.uuid);
  assert.deepEqual((await engine.staleWork()).taskUuids, []);
  engine.advanceClock(10);
  const stale = await engine.staleWork();
  assert.deepEqual([stale.taskUuids, stale.retryDue.map((r) => r.taskUuid)], [[task.uuid], [task.uuid]]);
});

test('health reports the memory store and task counts', async (t) => {
  const engine = manualEngine(t);
  await registerOrder(engine);
  await engine.handle((await createOrder(engine)).uuid);
  const health = await engine.health();
  assert.deepEqual([health.healthy, health.store, health.tasks.complete], [true, 'memory', 1]);
});

test('advanceClock on an engine with the system clock is an InvalidStateError', async (t) => {
  const engine = track(t, new tasker.Engine());
  assert.throws(() => engine.advanceClock(1), tasker.InvalidStateError);
});

test('migrate is a no-op on the memory store', async (t) => {
  const engine = manualEngine(t);
  await engine.migrate();
  assert.equal((await engine.health()).healthy, true);
});

test('subscribe yields matching events through for await, in order', async (t) => {
  const engine = manualEngine(t);
  await registerOrder(engine);
  const events = engine.subscribe('step.completed');
  await engine.handle((await createOrder(engine)).uuid);
  const names = [];
  for await (const e of events) {
    assert.equal(e.name, 'step.completed');
    names.push(e.stepName);
    if (names.length === 4) break;
  }
  assert.deepEqual(names, ORDER_STEPS);
});

test('leaving a for await loop closes the subscription', async (t) => {
  const engine = manualEngine(t);
  await registerOrder(engine);
  const events = engine.subscribe('*');
  await engine.handle((await createOrder(engine)).uuid);
  for await (const e of events) if (e) break;
  assert.equal(events.closed, true);
  assert.throws(() => events.pull(), tasker.InvalidHandleError);
});

test('a subscription waits for events published after the loop started', async (t) => {
  const engine = manualEngine(t);
  await registerOrder(engine);
  const events = engine.subscribe('task.*', { pollInterval: 5 });
  const first = (async () => { for await (const e of events) return e; })();
  await sleep(30);
  const task = await createOrder(engine);
  const e = await first;
  assert.deepEqual([e.taskUuid, e.namespace, e.name.startsWith('task.')], [task.uuid, 'fulfillment', true]);
});

test('pull returns only what is buffered now and counts dropped events', async (t) => {
  const engine = manualEngine(t);
  await registerOrder(engine);
  const events = track(t, engine.subscribe('step.*', { capacity: 2 }));
  assert.deepEqual(events.pull(), []);
  await engine.handle((await createOrder(engine)).uuid);
  assert.equal(events.pull().length, 2);
  assert.ok(events.dropped > 0);
});

test('closing the engine ends an iterating subscription', async (t) => {
  const engine = new tasker.Engine();
  const events = engine.subscribe('*', { pollInterval: 10 });
  const seen = (async () => { const got = []; for await (const e of events) got.push(e); return got; })();
  await sleep(20);
  await engine.close();
  assert.deepEqual(await seen, []);
  assert.equal(events.closed, true);
});

test('close is idempotent and later calls reject with InvalidHandleError', async () => {
  const engine = new tasker.Engine();
  await engine.close();
  await engine.close();
  assert.equal(engine.closed, true);
  await assert.rejects(engine.listTasks(), tasker.InvalidHandleError);
  assert.throws(() => engine.subscribe(), tasker.InvalidHandleError);
});

test('Symbol.dispose and Symbol.asyncDispose close the engine', async () => {
  const a = new tasker.Engine();
  a[Symbol.dispose]();
  const b = new tasker.Engine();
  await b[Symbol.asyncDispose]();
  assert.deepEqual([a.closed, b.closed], [true, true]);
});

test('Engine.open resolves with a ready engine', async (t) => {
  const engine = track(t, await tasker.Engine.open({ clock: 'manual' }));
  await registerOrder(engine);
  assert.equal((await engine.handle((await createOrder(engine)).uuid)).action, 'complete');
});

test('tasks of several handle calls run side by side on one engine', async (t) => {
  const engine = manualEngine(t);
  await registerOrder(engine, handler(async () => { await sleep(20); return 'paid'; }));
  const tasks = await Promise.all([1, 2, 3, 4, 5].map(() => createOrder(engine)));
  const started = Date.now();
  const outcomes = await Promise.all(tasks.map((task) => engine.handle(task.uuid)));
  assert.deepEqual(outcomes.map((o) => o.action), Array(5).fill('complete'));
  assert.ok(Date.now() - started < 5 * 20, 'the five payments overlapped');
});

test('version() is the loaded library version', () => {
  assert.match(tasker.version(), /^\d+\.\d+\.\d+/);
  assert.equal(tasker.ABI_VERSION, 2);
});
