'use strict';
// Failed step attempts are warnings on the host's logger: console by default, the engine's `logger` option, or none.
const test = require('node:test');
const assert = require('node:assert/strict');
const { tasker, handler, registerOrder, createOrder, manualEngine } = require('./support/helpers');

const flaky = handler((ctx) => {
  if (ctx.step.attempt === 1) throw new TypeError('gateway reset');
  return { paid: true };
});

test('each failed attempt is one warning on the given logger, with task, step, attempt and error, never context or results', async (t) => {
  const lines = [];
  const engine = manualEngine(t, { logger: { warn: (message, fields) => lines.push([message, fields]) } });
  await registerOrder(engine, flaky);
  const task = await createOrder(engine);
  assert.equal((await engine.handle(task.uuid)).action, 'reenqueue');
  engine.advanceClock(5);
  assert.equal((await engine.handle(task.uuid)).action, 'complete');
  assert.deepEqual(lines, [[
    `tasker: step process_payment of task ${task.uuid} (fulfillment/order_fulfillment) failed, attempt 1 of 3: TypeError: gateway reset`,
    { taskUuid: task.uuid, step: 'process_payment', attempt: 1, errorType: 'TypeError' },
  ]]);
  assert.ok(!JSON.stringify(lines).includes('12.5') && !JSON.stringify(lines).includes('paid'));
});

test('by default the warning goes to console.warn; logger: false logs nothing', async (t) => {
  const warned = t.mock.method(console, 'warn', () => {});
  const engine = manualEngine(t);
  await registerOrder(engine, flaky);
  await engine.handle((await createOrder(engine)).uuid);
  assert.equal(warned.mock.callCount(), 1);
  assert.match(warned.mock.calls[0].arguments[0], /^tasker: step process_payment of task .* failed, attempt 1 of 3: TypeError: gateway reset$/);

  const quiet = manualEngine(t, { logger: false });
  await registerOrder(quiet, flaky);
  await quiet.handle((await createOrder(quiet)).uuid);
  assert.equal(warned.mock.callCount(), 1);
});

test('a logger without warn is refused when the engine opens', () => {
  assert.throws(() => new tasker.Engine({ logger: {} }), (e) => e instanceof tasker.ValidationError && /logger must have a warn/.test(e.message));
});
