'use strict';
const fs = require('node:fs');
const path = require('node:path');
const tasker = require('..');

const REPO = path.resolve(__dirname, '../../..');
const CONFORMANCE = path.join(REPO, 'tests', 'conformance');
const ORDER_TEMPLATE = fs.readFileSync(path.join(REPO, 'examples', 'templates', 'order_fulfillment.yaml'), 'utf8');
const ORDER_CONTEXT = { order: { id: 7, total: 12.5, items: [{ sku: 'A', quantity: 1 }] } };

class Returns extends tasker.StepHandler {
  async process(ctx) { return { step: ctx.step.name, saw: Object.keys(ctx.dependencyResults).sort() }; }
}

const handler = (fn) => class extends tasker.StepHandler { async process(ctx) { return fn(ctx); } };

async function registerOrder(engine, payment = Returns) {
  await engine.registerTemplate(ORDER_TEMPLATE);
  for (const name of ['ValidateOrder', 'ReserveInventory', 'ShipOrder']) engine.registerHandler(name, Returns);
  engine.registerHandler('ProcessPayment', payment);
}

const createOrder = (engine, extra = {}) =>
  engine.createTask('order_fulfillment', { namespace: 'fulfillment', context: ORDER_CONTEXT, ...extra });

/** Closes `resource` (an engine or subscription) when test `t` ends. */
const track = (t, resource) => {
  t.after(() => resource.close());
  return resource;
};

module.exports = { track, tasker, REPO, CONFORMANCE, ORDER_TEMPLATE, ORDER_CONTEXT, Returns, handler, registerOrder, createOrder };
