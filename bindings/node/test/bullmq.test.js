'use strict';
// The BullMQ adapter with a real BullMQ worker on a real Redis (TASKER_TEST_REDIS_URL).
const test = require('node:test');
const assert = require('node:assert/strict');
const http = require('node:http');
const crypto = require('node:crypto');
const {
  tasker, ORDER_TEMPLATE, ORDER_CONTEXT, Returns, failsOnce, registerOrder, createOrder, track, manualEngine, redisConnection,
  handler,
} = require('./support/helpers');

const REDIS_URL = process.env.TASKER_TEST_REDIS_URL;
const skip = !REDIS_URL && 'TASKER_TEST_REDIS_URL is not set (scripts/redis-test-server.sh start prints one)';

/**
 * A fresh BullMQ queue and, with `processorFor(queue)`, a worker running that processor; removed when `t` ends.
 */
function queueFor(t, processorFor) {
  const { Queue, Worker } = require('bullmq');
  const connection = redisConnection(REDIS_URL);
  const name = `tasker-test-${crypto.randomBytes(4).toString('hex')}`;
  const queue = new Queue(name, { connection });
  const worker = processorFor ? new Worker(name, processorFor(queue), { connection, concurrency: 2 }) : null;
  t.after(async () => {
    await worker?.close();
    await queue.obliterate({ force: true });
    await queue.close();
  });
  return { queue, worker };
}

/** Resolves with the outcome that satisfies `predicate` (an onOutcome callback collects them), or times out. */
function outcomes(timeoutMs = 20_000) {
  const seen = [];
  let waiters = [];
  return {
    seen,
    onOutcome(outcome, job) {
      seen.push({ outcome, job });
      waiters = waiters.filter(({ predicate, resolve }) => (predicate(outcome) ? (resolve(outcome), false) : true));
    },
    until(predicate) {
      const found = seen.find(({ outcome }) => predicate(outcome));
      if (found) return Promise.resolve(found.outcome);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no such outcome after ${timeoutMs} ms`)), timeoutMs);
        waiters.push({ predicate, resolve: (o) => { clearTimeout(timer); resolve(o); } });
      });
    },
  };
}

test('a BullMQ worker runs a workflow with a retrying step to completion through a delayed re-add', { skip }, async (t) => {
  const { createProcessor, startWorkflow } = require('../lib/bullmq');
  const engine = track(t, new tasker.Engine());
  await registerOrder(engine, failsOnce({ paid: true }, 1)); // the payment gateway fails once; retry after 1 s
  const seen = outcomes();
  const delayedAtReenqueue = [];
  const { queue } = queueFor(t, (q) => createProcessor(engine, {
    queue: q,
    onOutcome: async (outcome, job) => {
      if (outcome.action === 'reenqueue') delayedAtReenqueue.push(...(await q.getDelayed()).map((j) => [j.data, j.opts.delay]));
      seen.onOutcome(outcome, job);
    },
  }));

  const started = Date.now();
  const task = await startWorkflow(engine, queue, 'order_fulfillment', { namespace: 'fulfillment', context: ORDER_CONTEXT });
  await seen.until((o) => o.finished);

  assert.deepEqual(seen.seen.map(({ outcome }) => outcome.action), ['reenqueue', 'complete']);
  assert.equal(seen.seen[0].outcome.delaySeconds, 1);
  assert.deepEqual(delayedAtReenqueue, [[{ taskUuid: task.uuid }, 1000]]);
  assert.ok(Date.now() - started >= 950, 'the retry ran only after the job\'s delay');
  const done = await engine.getTask(task.uuid);
  assert.deepEqual([done.state, done.step('process_payment').attempts, done.step('process_payment').result], ['complete', 2, { paid: true }]);
});

test('a traceparent given to startWorkflow travels in the job and its delayed re-add, and handle gets it', { skip }, async (t) => {
  const { createProcessor, startWorkflow } = require('../lib/bullmq');
  const traceparent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
  const engine = track(t, new tasker.Engine());
  await registerOrder(engine, failsOnce({ paid: true }, 1));
  const handled = [];
  const handle = engine.handle.bind(engine);
  engine.handle = (uuid, options) => { handled.push(options?.traceparent); return handle(uuid, options); };
  const seen = outcomes();
  const { queue } = queueFor(t, (q) => createProcessor(engine, { queue: q, onOutcome: seen.onOutcome }));

  await startWorkflow(engine, queue, 'order_fulfillment', { namespace: 'fulfillment', context: ORDER_CONTEXT, traceparent });
  await seen.until((o) => o.finished);

  assert.deepEqual(seen.seen.map(({ job }) => job.data.traceparent), [traceparent, traceparent]);
  assert.deepEqual(handled, [traceparent, traceparent]);
});

test('the processor returns a summary that BullMQ stores as the job result', { skip }, async (t) => {
  const { createProcessor, startWorkflow } = require('../lib/bullmq');
  const engine = track(t, new tasker.Engine());
  await registerOrder(engine);
  const seen = outcomes();
  const { queue } = queueFor(t, (q) => createProcessor(engine, { queue: q, onOutcome: seen.onOutcome }));
  const task = await startWorkflow(engine, queue, 'order_fulfillment', { namespace: 'fulfillment', context: ORDER_CONTEXT });
  await seen.until((o) => o.finished);
  const job = await queue.getJob(`tasker-start-${task.uuid}`);
  for (let i = 0; i < 50 && !(await job.isCompleted()); i += 1) await new Promise((r) => setTimeout(r, 20));
  const stored = (await queue.getJob(job.id)).returnvalue;
  assert.deepEqual(stored, { taskUuid: task.uuid, action: 'complete', taskState: 'complete', delaySeconds: null, requeueAfterSeconds: null });
});

test('startWorkflow serves an HTTP route: 202 with the task uuid, and the worker completes the task', { skip }, async (t) => {
  const { createProcessor, startWorkflow } = require('../lib/bullmq');
  const engine = track(t, new tasker.Engine());
  await registerOrder(engine);
  const seen = outcomes();
  const { queue } = queueFor(t, (q) => createProcessor(engine, { queue: q, onOutcome: seen.onOutcome }));

  // The route as an Express or Fastify handler would write it, on plain node:http.
  const server = http.createServer(async (req, res) => {
    let body = '';
    for await (const chunk of req) body += chunk;
    try {
      const task = await startWorkflow(engine, queue, 'order_fulfillment', { namespace: 'fulfillment', context: JSON.parse(body) });
      res.writeHead(202, { 'content-type': 'application/json' }).end(JSON.stringify({ taskUuid: task.uuid }));
    } catch (e) {
      res.writeHead(e instanceof tasker.ValidationError ? 422 : 500).end(e.message);
    }
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise((resolve) => server.close(resolve)));
  const url = `http://127.0.0.1:${server.address().port}/orders`;

  const accepted = await fetch(url, { method: 'POST', body: JSON.stringify(ORDER_CONTEXT) });
  assert.equal(accepted.status, 202);
  const { taskUuid } = await accepted.json();
  const outcome = await seen.until((o) => o.taskUuid === taskUuid && o.finished);
  assert.equal(outcome.action, 'complete');

  const rejected = await fetch(url, { method: 'POST', body: JSON.stringify({ order: { id: 'x' } }) });
  assert.equal(rejected.status, 422);
});

test('a worker without a step\'s handler re-adds the job after requeueAfterSeconds; with the handler, the task completes and nothing is re-added', { skip }, async (t) => {
  const { createProcessor, startWorkflow } = require('../lib/bullmq');
  const engine = track(t, new tasker.Engine({ missingHandlerRequeueSeconds: 1 }));
  await engine.registerTemplate(ORDER_TEMPLATE);
  engine.registerHandlers({ ValidateOrder: Returns, ReserveInventory: Returns, ProcessPayment: Returns }); // no ShipOrder yet
  const seen = outcomes();
  const delayed = [];
  const { queue } = queueFor(t, (q) => createProcessor(engine, {
    queue: q,
    onOutcome: async (outcome, job) => {
      if (outcome.requeueAfterSeconds !== null) {
        delayed.push(...(await q.getDelayed()).map((j) => j.opts.delay));
        engine.registerHandler('ShipOrder', Returns); // a deploy brings the missing handler
      }
      seen.onOutcome(outcome, job);
    },
  }));

  await startWorkflow(engine, queue, 'order_fulfillment', { namespace: 'fulfillment', context: ORDER_CONTEXT });
  await seen.until((o) => o.finished);

  assert.deepEqual(seen.seen.map(({ outcome }) => [outcome.action, outcome.requeueAfterSeconds, outcome.waitingForHandlers]),
    [['reenqueue', 1, [{ handler: 'ShipOrder', steps: ['ship_order'] }]], ['complete', null, []]]);
  assert.deepEqual(delayed, [1000]);
  const { delayed: later, waiting } = await queue.getJobCounts('delayed', 'waiting');
  assert.deepEqual([later, waiting], [0, 0], 'a job was re-added after the task completed');
});

/** A stand-in engine whose handle resolves with `outcome`, and the jobs the adapter's processor adds for it. */
async function readds(adapter, outcome) {
  const added = [];
  const queue = { add: async (...args) => { added.push(args.at(-1).delay); } };
  const engine = { handle: async () => Object.assign(Object.create(tasker.Outcome.prototype), outcome) };
  await adapter.createProcessor(engine, { queue, failOnError: false })({ id: '1', data: { taskUuid: 'u' } });
  return added;
}

test('the BullMQ and Bull processors re-add a job exactly when requeueAfterSeconds is not null, with that delay', async () => {
  for (const adapter of [require('../lib/bullmq'), require('../lib/bull')]) {
    const cases = [
      [{ action: 'execute', requeueAfterSeconds: 0 }, [0]],
      [{ action: 'reenqueue', delaySeconds: 2.5, requeueAfterSeconds: 2.5 }, [2500]],
      [{ action: 'reenqueue', delaySeconds: 5, requeueAfterSeconds: 5, waitingForHandlers: [{ handler: 'C', steps: ['c'] }] }, [5000]],
      [{ action: 'wait', requeueAfterSeconds: null }, []],
      [{ action: 'complete', requeueAfterSeconds: null }, []],
      [{ action: 'error', requeueAfterSeconds: null }, []],
    ];
    for (const [outcome, expected] of cases) assert.deepEqual(await readds(adapter, outcome), expected, JSON.stringify(outcome));
  }
});

test('repeating startWorkflow with the same idempotency key adds one job', { skip }, async (t) => {
  const { startWorkflow } = require('../lib/bullmq');
  const engine = manualEngine(t);
  await registerOrder(engine);
  const { queue } = queueFor(t);
  const options = { namespace: 'fulfillment', context: ORDER_CONTEXT, idempotencyKey: 'order-7' };
  const first = await startWorkflow(engine, queue, 'order_fulfillment', options);
  const second = await startWorkflow(engine, queue, 'order_fulfillment', options);
  assert.equal(second.uuid, first.uuid);
  assert.equal(await queue.count(), 1);
});

test('enqueueStaleWork adds a job for a retry nobody re-enqueued, and the worker finishes the task', { skip }, async (t) => {
  const { createProcessor, enqueueStaleWork } = require('../lib/bullmq');
  const engine = manualEngine(t);
  await registerOrder(engine, failsOnce('paid', 30));
  const task = await createOrder(engine);
  assert.equal((await engine.handle(task.uuid)).action, 'reenqueue'); // ... and the worker died before re-adding it
  engine.advanceClock(30);
  const seen = outcomes();
  const { queue } = queueFor(t, (q) => createProcessor(engine, { queue: q, onOutcome: seen.onOutcome }));
  assert.deepEqual(await enqueueStaleWork(engine, queue), [task.uuid]);
  assert.equal((await seen.until((o) => o.finished)).action, 'complete');
});

test('a job without a task uuid fails with a TypeError naming the job', { skip }, async (t) => {
  const { createProcessor } = require('../lib/bullmq');
  const engine = track(t, new tasker.Engine());
  const { queue, worker } = queueFor(t, (q) => createProcessor(engine, { queue: q }));
  const failed = new Promise((resolve) => worker.on('failed', (job, error) => resolve([job.id, error])));
  const job = await queue.add('tasker.handle', { something: 'else' });
  const [id, error] = await failed;
  assert.equal(id, job.id);
  assert.ok(error instanceof TypeError);
  assert.match(error.message, new RegExp(`job ${job.id} has no data.taskUuid`));
});

test('createProcessor without a queue is a TypeError', () => {
  const { createProcessor } = require('../lib/bullmq');
  assert.throws(() => createProcessor({}, {}), /needs the queue/);
});

/** Declines the card the first time for each task (permanently: the workflow ends in error), then pays. */
function declinedOnce() {
  const declined = new Set();
  return handler((ctx) => {
    if (!declined.has(ctx.task.uuid)) {
      declined.add(ctx.task.uuid);
      throw new tasker.PermanentError('card declined');
    }
    return { paid: true };
  });
}

/** Resolves when `job` is in `state` (polling BullMQ's own record of it), or rejects after a few seconds. */
async function settledAs(queue, jobId, state) {
  for (let i = 0; i < 250; i += 1) {
    if ((await queue.getJobState(jobId)) === state) return queue.getJob(jobId);
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`job ${jobId} is ${await queue.getJobState(jobId)}, not ${state}`);
}

test('a workflow that ends in error fails its BullMQ job once, without retries, naming the failed step', { skip }, async (t) => {
  const { createProcessor, startWorkflow } = require('../lib/bullmq');
  const engine = track(t, new tasker.Engine({ logger: false }));
  await registerOrder(engine, declinedOnce());
  const seen = outcomes();
  const { queue, worker } = queueFor(t, (q) => createProcessor(engine, { queue: q, onOutcome: seen.onOutcome }));
  const failed = new Promise((resolve) => worker.on('failed', (job, error) => resolve(error)));
  const task = await startWorkflow(engine, queue, 'order_fulfillment', { namespace: 'fulfillment', context: ORDER_CONTEXT },
    { jobOptions: { attempts: 5, backoff: { type: 'fixed', delay: 10 } } });

  const error = await failed;
  const job = await settledAs(queue, `tasker-start-${task.uuid}`, 'failed');
  const message = `task ${task.uuid} (fulfillment/order_fulfillment) ended in error: process_payment: PermanentError: card declined`;
  assert.ok(error instanceof tasker.WorkflowFailedError && !(error instanceof tasker.TaskerError));
  assert.equal(error.message, message);
  assert.deepEqual(error.failedSteps, [{ name: 'process_payment', errorType: 'PermanentError', message: 'card declined' }]);
  assert.equal(job.failedReason, message);
  assert.equal(job.attemptsMade, 1, 'BullMQ retried the job of a finished task');
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(await queue.getJobState(job.id), 'failed');
  assert.deepEqual(seen.seen.map(({ outcome }) => outcome.action), ['error']);
});

test('with failOnError off, the job of a workflow that ends in error completes with the outcome', { skip }, async (t) => {
  const { createProcessor, startWorkflow } = require('../lib/bullmq');
  const engine = track(t, new tasker.Engine({ logger: false }));
  await registerOrder(engine, declinedOnce());
  const { queue } = queueFor(t, (q) => createProcessor(engine, { queue: q, failOnError: false }));
  const task = await startWorkflow(engine, queue, 'order_fulfillment', { namespace: 'fulfillment', context: ORDER_CONTEXT });
  const job = await settledAs(queue, `tasker-start-${task.uuid}`, 'completed');
  assert.deepEqual([job.returnvalue.action, job.returnvalue.taskState], ['error', 'error']);
});

test('retry: an operator\'s retry adds the task\'s job, and the worker completes the task', { skip }, async (t) => {
  const { createProcessor, startWorkflow, retry } = require('../lib/bullmq');
  const engine = track(t, new tasker.Engine({ logger: false }));
  await registerOrder(engine, declinedOnce());
  const seen = outcomes();
  const { queue } = queueFor(t, (q) => createProcessor(engine, { queue: q, onOutcome: seen.onOutcome }));
  const task = await startWorkflow(engine, queue, 'order_fulfillment', { namespace: 'fulfillment', context: ORDER_CONTEXT });
  await seen.until((o) => o.action === 'error');

  const outcome = await retry(engine, queue, task.uuid, { actor: 'alice', reason: 'card replaced' });
  assert.deepEqual([outcome.action, outcome.requeueAfterSeconds], ['execute', 0]);
  assert.equal((await seen.until((o) => o.action === 'complete')).taskState, 'complete');
  assert.ok((await engine.getTask(task.uuid)).transitions.some((tr) => tr.actor === 'alice' && tr.reason === 'card replaced'));
});

test('retry adds no job when the task has nothing to run (a finished task cannot be retried)', async (t) => {
  const { retry } = require('../lib/bullmq');
  const engine = manualEngine(t);
  await registerOrder(engine);
  const task = await createOrder(engine);
  await engine.handle(task.uuid);
  const added = [];
  await assert.rejects(retry(engine, { add: async (...args) => added.push(args) }, task.uuid), tasker.InvalidStateError);
  assert.deepEqual(added, []);
});
