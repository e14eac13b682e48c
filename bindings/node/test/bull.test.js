'use strict';
// The classic Bull 4 adapter with a real Bull queue on a real Redis (TASKER_TEST_REDIS_URL).
const test = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const { tasker, ORDER_CONTEXT, failsOnce, registerOrder, track, redisConnection, handler } = require('./support/helpers');

const REDIS_URL = process.env.TASKER_TEST_REDIS_URL;
const skip = !REDIS_URL && 'TASKER_TEST_REDIS_URL is not set (scripts/redis-test-server.sh start prints one)';

/** A fresh Bull queue, removed when `t` ends. */
function queueFor(t) {
  const Queue = require('bull');
  const { host, port, db } = redisConnection(REDIS_URL);
  const queue = new Queue(`tasker-bull-${crypto.randomBytes(4).toString('hex')}`, { redis: { host, port, db } });
  t.after(async () => {
    await queue.obliterate({ force: true });
    await queue.close();
  });
  return queue;
}

test('a Bull 4 worker runs a workflow with a retrying step to completion through a delayed re-add', { skip }, async (t) => {
  const { createProcessor, startWorkflow } = require('../lib/bull');
  const engine = track(t, new tasker.Engine());
  await registerOrder(engine, failsOnce({ paid: true }, 1));
  const queue = queueFor(t);
  const actions = [];
  const delayed = [];
  let finished;
  const done = new Promise((resolve) => { finished = resolve; });
  queue.process(2, createProcessor(engine, {
    queue,
    onOutcome: async (outcome) => {
      actions.push(outcome.action);
      if (outcome.action === 'reenqueue') delayed.push(...(await queue.getDelayed()).map((j) => [j.data, j.opts.delay]));
      if (outcome.finished) finished(outcome);
    },
  }));

  const started = Date.now();
  const task = await startWorkflow(engine, queue, 'order_fulfillment', { namespace: 'fulfillment', context: ORDER_CONTEXT });
  const timeout = setTimeout(() => finished(null), 20_000);
  const outcome = await done;
  clearTimeout(timeout);

  assert.equal(outcome?.action, 'complete');
  assert.deepEqual(actions, ['reenqueue', 'complete']);
  assert.deepEqual(delayed, [[{ taskUuid: task.uuid }, 1000]]);
  assert.ok(Date.now() - started >= 950, 'the retry ran only after the job\'s delay');
  assert.equal((await engine.getTask(task.uuid)).step('process_payment').attempts, 2);
});

test('Bull: repeating startWorkflow with the same idempotency key adds one job', { skip }, async (t) => {
  const { startWorkflow } = require('../lib/bull');
  const engine = track(t, new tasker.Engine());
  await registerOrder(engine);
  const queue = queueFor(t);
  const options = { namespace: 'fulfillment', context: ORDER_CONTEXT, idempotencyKey: 'order-8' };
  await startWorkflow(engine, queue, 'order_fulfillment', options);
  await startWorkflow(engine, queue, 'order_fulfillment', options);
  assert.equal(await queue.count(), 1);
});

test('Bull: a workflow that ends in error fails its job once, without retries, naming the failed step', { skip }, async (t) => {
  const { createProcessor, startWorkflow } = require('../lib/bull');
  const engine = track(t, new tasker.Engine({ logger: false }));
  await registerOrder(engine, handler(() => { throw new tasker.PermanentError('card declined'); }));
  const queue = queueFor(t);
  const failed = new Promise((resolve) => queue.on('failed', (job, error) => resolve([job, error])));
  queue.process(2, createProcessor(engine, { queue }));
  const task = await startWorkflow(engine, queue, 'order_fulfillment', { namespace: 'fulfillment', context: ORDER_CONTEXT },
    { jobOptions: { attempts: 5, backoff: 10 } });

  const [, error] = await failed;
  const message = `task ${task.uuid} (fulfillment/order_fulfillment) ended in error: process_payment: PermanentError: card declined`;
  assert.ok(error instanceof tasker.WorkflowFailedError);
  assert.equal(error.message, message);
  await new Promise((r) => setTimeout(r, 300));
  const job = await queue.getJob(`tasker-start-${task.uuid}`);
  assert.equal(await job.getState(), 'failed');
  assert.equal(job.failedReason, message);
  assert.equal(job.attemptsMade, 1, 'Bull retried the job of a finished task');
});

test('Bull: with failOnError off, the job of an errored workflow completes with the outcome', { skip }, async (t) => {
  const { createProcessor, startWorkflow } = require('../lib/bull');
  const engine = track(t, new tasker.Engine({ logger: false }));
  await registerOrder(engine, handler(() => { throw new tasker.PermanentError('card declined'); }));
  const queue = queueFor(t);
  const completed = new Promise((resolve) => queue.on('completed', (job, result) => resolve(result)));
  queue.process(2, createProcessor(engine, { queue, failOnError: false }));
  await startWorkflow(engine, queue, 'order_fulfillment', { namespace: 'fulfillment', context: ORDER_CONTEXT });
  const result = await completed;
  assert.deepEqual([result.action, result.taskState], ['error', 'error']);
});
