'use strict';
// What the BullMQ and Bull adapters share: drive a task with engine.handle and follow the one rule every queue
// adapter follows: when `outcome.requeueAfterSeconds` is not null, add the task's job again with that delay (0 for
// steps ready now, the retry delay, the wait for a worker with a missing handler); otherwise do not. The adapters
// only differ in how a job is added. A task that ends in `error` fails its job (WorkflowFailedError), never retried
// by the queue: running a finished task again changes nothing.
const { WorkflowFailedError } = require('./errors');

/** The name of the jobs the adapters add (BullMQ jobs have names; Bull 4 jobs use its default name). */
const JOB_NAME = 'tasker.handle';

/** An outcome's requeue delay in milliseconds, as queues take it (rounded up, so a job never runs before its time). */
const delayMs = (outcome) => Math.max(0, Math.ceil(outcome.requeueAfterSeconds * 1000));

function checkQueue(queue, what) {
  if (!queue || typeof queue.add !== 'function') throw new TypeError(`${what} needs the queue to add jobs to ({ queue })`);
}

/** The task uuid a job carries, or a TypeError naming the job. */
function taskUuidOf(job) {
  const taskUuid = job?.data?.taskUuid;
  if (typeof taskUuid !== 'string' || taskUuid === '') {
    throw new TypeError(`job ${job?.id} has no data.taskUuid: it was not added by tasker's startWorkflow or processor`);
  }
  return taskUuid;
}

/**
 * Handles the job's task; when the outcome says to requeue, calls `add(delayMs)` so the queue runs it again then
 * (the re-added job carries the same data, traceparent included).
 * Resolves with a small summary (stored by the queue as the job's return value). With `failOnError` (the default),
 * a task that ended in `error` rejects with WorkflowFailedError naming the failed steps, after discarding the job:
 * Bull and BullMQ then fail it at once, whatever `attempts` it has left.
 */
async function drive(engine, job, add, onOutcome, failOnError = true) {
  const taskUuid = taskUuidOf(job);
  // job.data.traceparent (W3C, set by startWorkflow from the task request): the job's step spans join that trace.
  const { traceparent } = job.data;
  const outcome = await engine.handle(taskUuid, typeof traceparent === 'string' && traceparent ? { traceparent } : {});
  if (outcome.requeueAfterSeconds !== null) await add(delayMs(outcome));
  if (onOutcome) await onOutcome(outcome, job);
  if (failOnError && outcome.action === 'error') {
    const error = WorkflowFailedError.forTask(await engine.getTask(taskUuid));
    job.discard?.(); // Bull 4 and BullMQ 5: no retry for this job, whatever attempts it has left
    throw error;
  }
  return { taskUuid, action: outcome.action, taskState: outcome.taskState, delaySeconds: outcome.delaySeconds,
    requeueAfterSeconds: outcome.requeueAfterSeconds };
}

/** The data of a task's first job: its uuid, and the request's traceparent when there was one. */
const jobData = (task, options) => (options.traceparent ? { taskUuid: task.uuid, traceparent: options.traceparent } : { taskUuid: task.uuid });

/**
 * An operator's retry that also drives the task: `engine.retryTask` (failed steps get fresh attempts, completed ones
 * keep their results; actor and reason go to the audit trail), then `add(delayMs)` when `outcome.requeueAfterSeconds`
 * is not null (0 when steps are ready: `execute`). Resolves with the retry's outcome.
 */
async function retryAndEnqueue(engine, taskUuid, { actor, reason } = {}, add) {
  const outcome = await engine.retryTask(taskUuid, { actor, reason });
  if (outcome.requeueAfterSeconds !== null) await add(delayMs(outcome));
  return outcome;
}

module.exports = { JOB_NAME, delayMs, checkQueue, drive, jobData, retryAndEnqueue };
