'use strict';
// A real BullMQ worker on a real Redis runs a workflow whose payment step fails once; the processor re-adds the
// job with the outcome's delay and the task completes.
const test = require('node:test');
const assert = require('node:assert/strict');
const { tasker, registerOrder, handler, ORDER_CONTEXT, track } = require('./helpers');

const REDIS_URL = process.env.TASKER_TEST_REDIS_URL;

test('a BullMQ worker completes the workflow, re-adding the retry with its delay', { skip: !REDIS_URL && 'TASKER_TEST_REDIS_URL is not set' }, async (t) => {
  const { Queue, Worker } = require('bullmq');
  const { createProcessor, startWorkflow } = require('../lib/bullmq');
  const url = new URL(REDIS_URL);
  const connection = { host: url.hostname, port: Number(url.port), maxRetriesPerRequest: null };
  const name = `tasker-test-${process.pid}`;
  const queue = new Queue(name, { connection });
  t.after(() => queue.obliterate({ force: true }).then(() => queue.close()));

  const engine = track(t, new tasker.Engine());
  await registerOrder(engine, handler((ctx) => {
    if (ctx.step.attempt === 1) throw new tasker.RetryableError('gateway timeout', { retryAfter: 1 });
    return { paid: true };
  }));
  const outcomes = [];
  let finished;
  const done = new Promise((resolve) => { finished = resolve; });
  const worker = new Worker(name, createProcessor(engine, {
    queue,
    onOutcome: (uuid, outcome) => { outcomes.push(outcome); if (outcome.action === 'complete') finished(); },
  }), { connection });
  t.after(() => worker.close());

  const started = Date.now();
  const task = await startWorkflow(engine, queue, 'order_fulfillment', { namespace: 'fulfillment', context: ORDER_CONTEXT });
  await Promise.race([done, new Promise((_, reject) => setTimeout(() => reject(new Error('timed out')), 30_000))]);

  assert.deepEqual(outcomes.map((o) => o.action), ['reenqueue', 'complete']);
  assert.ok(Math.abs(outcomes[0].delaySeconds - 1) < 0.1);
  assert.ok(Date.now() - started >= 900, 'the retry waited for the delayed job');
  assert.equal((await engine.getTask(task.uuid)).state, 'complete');
});
