'use strict';
// BullMQ integration: a processor that drives a Tasker task and re-adds its job with the outcome's delay.
//
//   const { Queue, Worker } = require('bullmq');
//   const { createProcessor, startWorkflow } = require('tasker/bullmq');
//   const queue = new Queue('tasker', { connection });
//   new Worker('tasker', createProcessor(engine, { queue }), { connection });
//   app.post('/orders', async (req, res) => {                    // Express or Fastify
//     const task = await startWorkflow(engine, queue, 'order_fulfillment', { namespace: 'fulfillment', context: req.body });
//     res.status(202).json({ taskUuid: task.uuid });
//   });
//
// The same shape works with classic Bull 4: its `queue.add(name, data, { delay })` takes the same arguments.

const JOB_NAME = 'tasker.handle';

/** A BullMQ processor: handle(job.data.taskUuid); on `reenqueue`, add the job again with `delay` (ms). */
function createProcessor(engine, { queue, onOutcome } = {}) {
  if (!queue) throw new TypeError('createProcessor needs { queue } to re-add delayed jobs');
  return async (job) => {
    const outcome = await engine.handle(job.data.taskUuid);
    if (outcome.action === 'reenqueue') {
      await queue.add(JOB_NAME, job.data, { delay: Math.ceil((outcome.delaySeconds ?? 0) * 1000) });
    }
    if (onOutcome) await onOutcome(job.data.taskUuid, outcome);
    return { taskUuid: job.data.taskUuid, action: outcome.action, taskState: outcome.taskState, delaySeconds: outcome.delaySeconds };
  };
}

/** Creates a task and enqueues its first handling; resolves with the task (`task.uuid` goes back to the client). */
async function startWorkflow(engine, queue, name, options) {
  const task = await engine.createTask(name, options);
  await queue.add(JOB_NAME, { taskUuid: task.uuid });
  return task;
}

module.exports = { createProcessor, startWorkflow, JOB_NAME };
