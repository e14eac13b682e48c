'use strict';
// Step failures through the host's logger: one warning per failed attempt (task uuid, step name, attempt, error name
// and a shortened message), never the task's context or a step's result. The engine option `logger` chooses where:
// `console` (the default), any object with `warn(message, fields)` (pino, winston, bunyan, a console), or
// `false` / `null` for none.
const { shorten } = require('./errors');

/** The logger an Engine's `logger` option names (undefined: console; false/null: none), or a TypeError. */
function loggerOption(logger) {
  if (logger === undefined) return console;
  if (logger === false || logger === null) return null;
  if (typeof logger?.warn !== 'function') throw new TypeError('logger must have a warn(message, fields) method, or be false');
  return logger;
}

/** Logs a failed attempt of the claim's step; `error` is the failure body reported to the engine. */
function stepFailed(logger, claim, error) {
  if (!logger) return;
  const { task, step } = claim;
  const fields = { taskUuid: task.task_uuid, step: step.name, attempt: step.attempt, errorType: error.error_type };
  try {
    logger.warn(`tasker: step ${step.name} of task ${task.task_uuid} (${task.namespace}/${task.name}) failed, `
      + `attempt ${step.attempt} of ${step.max_attempts}: ${error.error_type}: ${shorten(error.message)}`, fields);
  } catch {
    // a broken logger must not lose the step's report
  }
}

module.exports = { loggerOption, stepFailed };
