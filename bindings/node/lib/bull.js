'use strict';
// Classic Bull 4: the same adapter as tasker/bullmq. Bull's jobs are added as `queue.add(data, options)` (the
// default job name, so a plain `queue.process(...)` runs them).
//
//   const Queue = require('bull');
//   const { createProcessor, startWorkflow } = require('tasker/bull');
//   const queue = new Queue('tasker', redisUrl);
//   queue.process(4, createProcessor(engine, { queue }));
const { checkQueue, drive, jobData, retryAndEnqueue } = require('./queue');

/**
 * A Bull processor: handles `job.data.taskUuid`; adds the job again after `outcome.requeueAfterSeconds` unless null.
 * `failOnError` (default true): a task that ended in `error` fails the job with WorkflowFailedError, without retries.
 */
function createProcessor(engine, { queue, jobOptions = {}, onOutcome, failOnError = true } = {}) {
  checkQueue(queue, 'createProcessor');
  return (job) => drive(engine, job, (delay) => queue.add(job.data, { ...jobOptions, delay }), onOutcome, failOnError);
}

/** An operator's retry that also adds the task's job when the outcome says so (see tasker/bullmq). */
async function retry(engine, queue, taskUuid, { actor, reason, jobOptions = {} } = {}) {
  checkQueue(queue, 'retry');
  return retryAndEnqueue(engine, taskUuid, { actor, reason }, (delay) => queue.add({ taskUuid }, { ...jobOptions, delay }));
}

/** Creates a task and adds its first job (job id derived from the task); resolves with the task. */
async function startWorkflow(engine, queue, name, options = {}, { jobOptions = {} } = {}) {
  checkQueue(queue, 'startWorkflow');
  const task = await engine.createTask(name, options);
  await queue.add(jobData(task, options), { ...jobOptions, jobId: `tasker-start-${task.uuid}` });
  return task;
}

/** Adds a job for every task nobody is driving (see tasker/bullmq). Resolves with the task uuids. */
async function enqueueStaleWork(engine, queue, { limit = 100, jobOptions = {} } = {}) {
  checkQueue(queue, 'enqueueStaleWork');
  const { taskUuids } = await engine.staleWork({ limit });
  for (const taskUuid of taskUuids) await queue.add({ taskUuid }, jobOptions);
  return taskUuids;
}

module.exports = { createProcessor, startWorkflow, enqueueStaleWork, retry };
