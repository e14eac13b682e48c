'use strict';
// What the BullMQ and Bull adapters share: drive a task with engine.handle and follow the one rule every queue
// adapter follows: when `outcome.requeueAfterSeconds` is not null, add the task's job again with that delay (0 for
// steps ready now, the retry delay, the wait for a worker with a missing handler); otherwise do not. The adapters
// only differ in how a job is added.

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
 * Resolves with a small summary (stored by the queue as the job's return value).
 */
async function drive(engine, job, add, onOutcome) {
  const taskUuid = taskUuidOf(job);
  // job.data.traceparent (W3C, set by startWorkflow from the task request): the job's step spans join that trace.
  const { traceparent } = job.data;
  const outcome = await engine.handle(taskUuid, typeof traceparent === 'string' && traceparent ? { traceparent } : {});
  if (outcome.requeueAfterSeconds !== null) await add(delayMs(outcome));
  if (onOutcome) await onOutcome(outcome, job);
  return { taskUuid, action: outcome.action, taskState: outcome.taskState, delaySeconds: outcome.delaySeconds,
    requeueAfterSeconds: outcome.requeueAfterSeconds };
}

/** The data of a task's first job: its uuid, and the request's traceparent when there was one. */
const jobData = (task, options) => (options.traceparent ? { taskUuid: task.uuid, traceparent: options.traceparent } : { taskUuid: task.uuid });

module.exports = { JOB_NAME, delayMs, checkQueue, drive, jobData };
