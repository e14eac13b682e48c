'use strict';
// The Node worker of the polyglot example: the customer notification.
//   node ../../bindings/node/bin/tasker-worker.js node_side.js     (npx tasker-worker ./node_side.js in an app)
const path = require('node:path');
const tasker = require('../../bindings/node');

class NotifyCustomer extends tasker.StepHandler {
  async process(ctx) {
    const payment = ctx.dependencyResults.process_payment;
    return { by: 'node', notified: `order ${ctx.task.context.order.id} paid (${payment.payment_id})` };
  }
}

module.exports = async function makeEngine() {
  const engine = await tasker.Engine.open({ databaseUrl: process.env.DATABASE_URL, schema: process.env.TASKER_SCHEMA || 'polyglot' });
  await engine.registerTemplate({ path: path.join(__dirname, 'order_flow.yaml') });
  return engine.registerHandlers({ NotifyCustomer });
};
