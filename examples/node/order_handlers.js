'use strict';
// The order-fulfillment handlers, shared by the examples (order_fulfillment.js, express_app.js).
const path = require('node:path');
const tasker = require('../../bindings/node');

const TEMPLATE = path.join(__dirname, '..', 'templates', 'order_fulfillment.yaml');

class ValidateOrder extends tasker.StepHandler {
  async process(ctx) {
    const { order } = ctx.task.context;
    const total = order.items.reduce((sum, item) => sum + item.quantity * item.price, 0);
    if (Math.abs(total - order.total) > 0.005) throw new tasker.PermanentError(`order total ${order.total} != ${total}`);
    return { valid: true, total };
  }
}

class ReserveInventory extends tasker.StepHandler {
  async process(ctx) {
    const { order } = ctx.task.context;
    return {
      reservation: `RSV-${order.id}`,
      warehouse: ctx.step.initialization.warehouse,
      skus: order.items.map((item) => item.sku),
    };
  }
}

class ProcessPayment extends tasker.StepHandler {
  async process(ctx) {
    // A flaky gateway: the first attempt times out; the engine retries after retryAfter seconds.
    if (ctx.step.attempt === 1) throw new tasker.RetryableError('payment gateway timed out', { retryAfter: 1 });
    await new Promise((resolve) => setTimeout(resolve, 50)); // the call to the gateway
    return { paymentId: `PAY-${ctx.task.context.order.id}`, charged: ctx.dependencyResults.validate_order.total };
  }
}

class ShipOrder extends tasker.StepHandler {
  async process(ctx) {
    return { tracking: `TRK-${ctx.task.context.order.id}`, reservation: ctx.dependencyResults.reserve_inventory.reservation };
  }

  processResults(output) {
    return { ...output, carrier: 'tasker-post' };
  }
}

module.exports = { TEMPLATE, handlers: { ValidateOrder, ReserveInventory, ProcessPayment, ShipOrder } };
