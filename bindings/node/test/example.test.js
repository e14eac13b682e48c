'use strict';
// examples/node/order_fulfillment.js runs on the memory store with no set-up, prints each step, and exits 0.
const test = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');
const { spawnSync } = require('node:child_process');
const { REPO } = require('./support/helpers');

test('the order-fulfillment example completes its task, retrying the payment once', () => {
  const result = spawnSync(process.execPath, [path.join(REPO, 'examples', 'node', 'order_fulfillment.js')],
    { encoding: 'utf8', timeout: 30_000 });
  assert.equal(result.status, 0, result.stdout + result.stderr);
  assert.match(result.stdout, /step\.retry_scheduled\s+process_payment\s+attempt 1 {2}\(payment gateway timed out\)/);
  assert.match(result.stdout, /-> re-enqueued: handling again in 1\.00 s/);
  assert.match(result.stdout, /task complete: .*process_payment complete \(2 attempts\), ship_order complete \(1 attempt\)/);
});
