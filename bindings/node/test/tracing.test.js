'use strict';
// Trace context through the binding: W3C traceparent on createTask and handle, handler span attributes.
const test = require('node:test');
const assert = require('node:assert/strict');
const { tasker, registerOrder, ORDER_CONTEXT } = require('./support/helpers');

const TRACEPARENT = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';

async function withOrderEngine(body) {
  const engine = new tasker.Engine();
  try {
    await registerOrder(engine);
    return await body(engine);
  } finally {
    await engine.close();
  }
}

test('a task created with a traceparent runs to completion with one given to handle', () => withOrderEngine(async (engine) => {
  const task = await engine.createTask('order_fulfillment', { namespace: 'fulfillment', context: ORDER_CONTEXT, traceparent: TRACEPARENT });
  assert.equal((await engine.handle(task.uuid, { traceparent: TRACEPARENT })).action, 'complete');
}));

test('a malformed traceparent is refused and creates nothing', () => withOrderEngine(async (engine) => {
  await assert.rejects(engine.createTask('order_fulfillment', { namespace: 'fulfillment', context: ORDER_CONTEXT, traceparent: '00-nope' }),
    (e) => e instanceof tasker.ValidationError && /traceparent/.test(e.message));
  assert.deepEqual(await engine.listTasks(), []);
}));

test('handle refuses a malformed traceparent before running anything', () => withOrderEngine(async (engine) => {
  const task = await engine.createTask('order_fulfillment', { namespace: 'fulfillment', context: ORDER_CONTEXT });
  await assert.rejects(engine.handle(task.uuid, { traceparent: 'garbage' }), (e) => e instanceof tasker.ValidationError && /traceparent/.test(e.message));
  assert.ok((await engine.getTask(task.uuid)).steps.every((s) => s.attempts === 0));
}));

test('attributes a handler sets travel with its report and the engine accepts them', () => withOrderEngine(async (engine) => {
  const seen = {};
  engine.registerHandler('ShipOrder', class extends tasker.StepHandler {
    process(ctx) {
      ctx.setAttribute('order.id', 'o-17');
      ctx.setAttribute('items', 3);
      ctx.setAttribute('express', true);
      Object.assign(seen, ctx.attributes);
      return { ok: true };
    }
  });
  const task = await engine.createTask('order_fulfillment', { namespace: 'fulfillment', context: ORDER_CONTEXT });
  assert.equal((await engine.handle(task.uuid)).action, 'complete');
  assert.deepEqual(seen, { 'order.id': 'o-17', items: 3, express: true });
}));

for (const [key, value, error] of [['', 'x', RangeError], ['k'.repeat(257), 'x', RangeError], ['obj', { a: 1 }, TypeError],
  ['nan', Number.NaN, TypeError], ['none', null, TypeError]]) {
  test(`setAttribute refuses ${JSON.stringify(key.slice(0, 8))} = ${String(value)}`, () => withOrderEngine(async (engine) => {
    let thrown;
    engine.registerHandler('ValidateOrder', class extends tasker.StepHandler {
      process(ctx) {
        try { ctx.setAttribute(key, value); } catch (e) { thrown = e; }
        return { ok: true };
      }
    });
    const task = await engine.createTask('order_fulfillment', { namespace: 'fulfillment', context: ORDER_CONTEXT });
    await engine.handle(task.uuid);
    assert.ok(thrown instanceof error, `${thrown}`);
  }));
}
