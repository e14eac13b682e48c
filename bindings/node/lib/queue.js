'use strict';
// What the BullMQ and Bull adapters share: drive a task with engine.handle and put it back on the queue with the
// outcome's delay. The adapters only differ in how a job is added.

/** The name of the jobs the adapters add (BullMQ jobs have names; Bull 4 jobs use its default name). */
const JOB_NAME = 'tasker.handle';

/** An outcome's delay in milliseconds, as queues take it (rounded up, so a job never runs before its time). */
const delayMs = (outcome) => Math.max(0, Math.ceil((outcome.delaySeconds ?? 0) * 1000));

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
 * Handles the job's task; on 'reenqueue' calls `add(delayMs)` so the queue runs it again when a retry is due.
 * Resolves with a small summary (stored by the queue as the job's return value).
 */
async function drive(engine, job, add, onOutcome) {
  const taskUuid = taskUuidOf(job);
  const outcome = await engine.handle(taskUuid);
  if (outcome.action === 'reenqueue') await add(delayMs(outcome));
  if (onOutcome) await onOutcome(outcome, job);
  return { taskUuid, action: outcome.action, taskState: outcome.taskState, delaySeconds: outcome.delaySeconds };
}

module.exports = { JOB_NAME, delayMs, checkQueue, drive };
