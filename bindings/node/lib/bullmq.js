'use strict';
// BullMQ: a processor that drives a Tasker task and re-adds its job when the outcome says so, and a helper that
// starts a workflow (e.g. from an Express or Fastify route). bullmq itself is not required here: you pass your
// Queue, so `require('tasker')` works without it installed.
//
//   const { Queue, Worker } = require('bullmq');
//   const { createProcessor, startWorkflow } = require('tasker/bullmq');
//   const queue = new Queue('tasker', { connection });
//   new Worker('tasker', createProcessor(engine, { queue }), { connection, concurrency: 4 });
//   app.post('/orders', async (req, res) => {
//     const task = await startWorkflow(engine, queue, 'order_fulfillment', { namespace: 'fulfillment', context: req.body });
//     res.status(202).json({ taskUuid: task.uuid });
//   });
const { JOB_NAME, checkQueue, drive, jobData, retryAndEnqueue } = require('./queue');

/**
 * A BullMQ processor: `engine.handle(job.data.taskUuid)`; when `outcome.requeueAfterSeconds` is not null, adds the
 * job again with `{ delay: requeueAfterSeconds * 1000 }`. `jobOptions` go to every re-added job (e.g. removeOnComplete); `onOutcome`
 * (outcome, job) is called after each handling. `failOnError` (default true): a task that ended in `error` fails
 * the job with WorkflowFailedError (its message names the failed steps; Bull Board shows it red), without retries.
 */
function createProcessor(engine, { queue, jobName = JOB_NAME, jobOptions = {}, onOutcome, failOnError = true } = {}) {
  checkQueue(queue, 'createProcessor');
  return (job) => drive(engine, job, (delay) => queue.add(jobName, job.data, { ...jobOptions, delay }), onOutcome, failOnError);
}

/**
 * An operator's retry that also drives the task: `engine.retryTask(taskUuid, { actor, reason })`, then a job when
 * `outcome.requeueAfterSeconds` is not null (at once for `execute`). Resolves with the retry's outcome.
 */
async function retry(engine, queue, taskUuid, { actor, reason, jobName = JOB_NAME, jobOptions = {} } = {}) {
  checkQueue(queue, 'retry');
  return retryAndEnqueue(engine, taskUuid, { actor, reason }, (delay) => queue.add(jobName, { taskUuid }, { ...jobOptions, delay }));
}

/**
 * Creates a task and adds its first job; resolves with the task (`task.uuid` goes back to the client). The job id
 * is derived from the task, so repeating a request with the same idempotency key does not add a second job. A
 * `traceparent` option also travels in the job, so the worker's spans join the caller's trace.
 */
async function startWorkflow(engine, queue, name, options = {}, { jobName = JOB_NAME, jobOptions = {} } = {}) {
  checkQueue(queue, 'startWorkflow');
  const task = await engine.createTask(name, options);
  await queue.add(jobName, jobData(task, options), { ...jobOptions, jobId: `tasker-start-${task.uuid}` });
  return task;
}

/**
 * Adds a job for every task nobody is driving (a crashed worker's expired leases, retries that are due but were
 * never re-enqueued, ready steps nobody claimed, pending tasks nobody drove). Run it periodically, e.g. from a repeatable job. Resolves with the task uuids.
 */
async function enqueueStaleWork(engine, queue, { limit = 100, jobName = JOB_NAME, jobOptions = {} } = {}) {
  checkQueue(queue, 'enqueueStaleWork');
  const { taskUuids } = await engine.staleWork({ limit });
  for (const taskUuid of taskUuids) await queue.add(jobName, { taskUuid }, jobOptions);
  return taskUuids;
}

module.exports = { createProcessor, startWorkflow, enqueueStaleWork, retry, JOB_NAME };
