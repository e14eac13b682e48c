'use strict';
// Shared fixtures for the tests: the order-fulfillment template, small handlers and engines closed after each test.
const fs = require('node:fs');
const path = require('node:path');
const tasker = require('../..');

const REPO = path.resolve(__dirname, '../../../..');
const CONFORMANCE = path.join(REPO, 'tests', 'conformance');
const ORDER_TEMPLATE = fs.readFileSync(path.join(REPO, 'examples', 'templates', 'order_fulfillment.yaml'), 'utf8');
const ORDER_CONTEXT = { order: { id: 7, total: 12.5, items: [{ sku: 'A', quantity: 1 }] } };
const ORDER_STEPS = ['validate_order', 'reserve_inventory', 'process_payment', 'ship_order'];

/** Returns which step ran and which dependency results it saw. */
class Returns extends tasker.StepHandler {
  async process(ctx) {
    return { step: ctx.step.name, saw: Object.keys(ctx.dependencyResults).sort() };
  }
}

/** A StepHandler subclass whose process is `fn`. */
const handler = (fn) => class extends tasker.StepHandler {
  async process(ctx) {
    return fn(ctx);
  }
};

/** Fails the first attempt (retryable, with `retryAfter` seconds when given), then returns `result`. */
const failsOnce = (result = 'paid', retryAfter = undefined) => handler((ctx) => {
  if (ctx.step.attempt === 1) throw new tasker.RetryableError('gateway timeout', { retryAfter });
  return result;
});

/** Registers order_fulfillment with Returns everywhere except ProcessPayment (`payment`). */
async function registerOrder(engine, payment = Returns) {
  await engine.registerTemplate(ORDER_TEMPLATE);
  engine.registerHandlers({ ValidateOrder: Returns, ReserveInventory: Returns, ShipOrder: Returns, ProcessPayment: payment });
}

const createOrder = (engine, extra = {}) =>
  engine.createTask('order_fulfillment', { namespace: 'fulfillment', context: ORDER_CONTEXT, ...extra });

/** A one-step template `name` whose step `s` uses handler `callable`. */
const oneStep = (name, callable = 'Echo', retry = '') =>
  `name: ${name}\nnamespace_name: js\nversion: 1.0.0\nsteps:\n  - name: s\n    handler: { callable: ${callable} }\n${retry}`;

/** Closes `resource` (an engine or subscription) when test `t` ends. */
function track(t, resource) {
  t.after(() => resource.close());
  return resource;
}

/** An engine on the memory store with a manual clock and no jitter, closed when `t` ends. */
const manualEngine = (t, options = {}) =>
  track(t, new tasker.Engine({ clock: 'manual', backoff: { jitter: 0 }, ...options }));

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Handles the task again as long as there is something to do here: after each re-enqueue delay (advanced on the
 * manual clock), or at once for 'execute'; stops when only workers with other handlers can go on. At most 100
 * rounds. Resolves with the last outcome and the delays seen.
 */
async function handleToEnd(engine, taskUuid) {
  const delays = [];
  let outcome = await engine.handle(taskUuid);
  for (let round = 0; round < 100; round += 1) {
    if (outcome.action === 'reenqueue' && outcome.waitingForHandlers.length === 0) {
      delays.push(outcome.delaySeconds);
      engine.advanceClock(outcome.delaySeconds);
    } else if (outcome.action !== 'execute') {
      break;
    }
    outcome = await engine.handle(taskUuid);
  }
  return { outcome, delays };
}

/** Redis connection options for bullmq/bull from TASKER_TEST_REDIS_URL. */
function redisConnection(url) {
  const u = new URL(url);
  const db = Number(u.pathname.slice(1) || 0);
  return { host: u.hostname, port: Number(u.port || 6379), db, maxRetriesPerRequest: null };
}

module.exports = {
  tasker, REPO, CONFORMANCE, ORDER_TEMPLATE, ORDER_CONTEXT, ORDER_STEPS, Returns, handler, failsOnce, registerOrder,
  createOrder, oneStep, track, manualEngine, sleep, handleToEnd, redisConnection,
};
