'use strict';
// Two families of errors:
// - TaskerError and its subclasses: thrown by the engine (one class per C error code, mapped here and only here);
// - RetryableError and PermanentError: thrown by your step handlers to say how a failure should be retried.

/** An error reported by libtasker. `code` is the C error code, `details` its JSON details (strings). */
class TaskerError extends Error {
  constructor(message, details = {}, options = undefined) {
    super(message, options);
    this.name = new.target.name;
    this.details = details;
  }

  /** The tasker_error_code_t value (TASKER_ERROR_INTERNAL for errors raised by the binding itself). */
  get code() {
    return this.constructor.code ?? 12;
  }
}

const define = (name, code, Base = TaskerError) => {
  const Class = { [name]: class extends Base {} }[name];
  Class.code = code;
  return Class;
};

/** Bad input: a missing or ill-typed field, a malformed template, a context that fails the input schema. */
const ValidationError = define('ValidationError', 1);

const classes = {
  TaskerError,
  ValidationError,
  /** The engine or subscription is closed. */
  InvalidHandleError: define('InvalidHandleError', 2),
  InvalidUtf8Error: define('InvalidUtf8Error', 3, ValidationError),
  /** Malformed JSON; `details` give the line and byte. */
  InvalidJsonError: define('InvalidJsonError', 4, ValidationError),
  /** An unknown template, version, task or step; `details` {kind, key}. */
  NotFoundError: define('NotFoundError', 5),
  /** A concurrent change won; the call may be repeated. */
  ConflictError: define('ConflictError', 6),
  /** Duplicate or unknown step names, a cycle (named in the message), no steps. */
  InvalidDagError: define('InvalidDagError', 7, ValidationError),
  /** An illegal transition; `details` name both states. */
  InvalidStateError: define('InvalidStateError', 8),
  /** The claim token is no longer current: someone else owns the step now. */
  StaleClaimError: define('StaleClaimError', 9),
  /** PostgreSQL failed or is unreachable (the message never contains the password). */
  DatabaseError: define('DatabaseError', 10),
  TimeoutError: define('TimeoutError', 11),
  /** A bug in tasker; also any error code this binding does not know yet. */
  InternalError: define('InternalError', 12),
  /** The loaded libtasker speaks another ABI version than this binding. */
  AbiMismatchError: define('AbiMismatchError', 13),
};

const byCode = new Map(Object.values(classes).filter((c) => c.code).map((c) => [c.code, c]));

/** The TaskerError for a C error code (unknown codes, which newer libraries may add, become InternalError). */
function errorForCode(code, message, detailsJson) {
  let details = {};
  try {
    details = JSON.parse(detailsJson);
  } catch {
    // keep {}: details are informative only
  }
  const Class = byCode.get(code) ?? classes.InternalError;
  return new Class(message || `libtasker error ${code}`, details);
}

/** Throw from a handler for a failure worth retrying; `retryAfter` (seconds) overrides the backoff. */
class RetryableError extends Error {
  constructor(message, { retryAfter, cause } = {}) {
    super(message, cause === undefined ? undefined : { cause });
    if (retryAfter != null && !(Number.isFinite(retryAfter) && retryAfter >= 0)) {
      throw new RangeError(`retryAfter must be a number of seconds >= 0, not ${retryAfter}`);
    }
    this.name = new.target.name;
    this.retryAfter = retryAfter ?? null;
  }
}

/** Throw from a handler when retrying cannot help: the step fails at once, whatever attempts are left. */
class PermanentError extends Error {
  constructor(message, { cause } = {}) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = new.target.name;
  }
}

/** How much of each failed step's message a WorkflowFailedError's message carries (the whole one is on the step). */
const FAILED_STEP_MESSAGE_CHARS = 200;
/** How many failed steps a WorkflowFailedError's message names (the rest are counted). */
const FAILED_STEPS_NAMED = 5;

/** One line of at most FAILED_STEP_MESSAGE_CHARS characters: what logs and queue messages show of an error. */
function shorten(text) {
  const line = String(text ?? '').split(/\s+/).filter(Boolean).join(' ');
  return line.length <= FAILED_STEP_MESSAGE_CHARS ? line : `${line.slice(0, FAILED_STEP_MESSAGE_CHARS - 1)}…`;
}

/**
 * Thrown by a queue adapter's processor (tasker/bullmq, tasker/bull; `failOnError`, on by default) when the task it
 * drove ended in `error`, so the queue's own tools (Bull Board, `worker.on('failed')`) show the job failed. Not a
 * TaskerError: it has no C error code and the engine never throws it. `failedSteps`: [{ name, errorType, message }].
 */
class WorkflowFailedError extends Error {
  constructor(message, { taskUuid, failedSteps = [] } = {}) {
    super(message);
    this.name = new.target.name;
    this.taskUuid = taskUuid;
    this.failedSteps = failedSteps;
  }

  /** The error for a Task (engine.getTask) that ended in `error`: its failed steps, in step order. */
  static forTask(task) {
    const failedSteps = task.steps.filter((s) => s.state === 'error')
      .map((s) => ({ name: s.name, errorType: String(s.error?.errorType ?? 'Error'), message: String(s.error?.message ?? '') }));
    const described = failedSteps.slice(0, FAILED_STEPS_NAMED)
      .map(({ name, errorType, message }) => (message ? `${name}: ${errorType}: ${shorten(message)}` : `${name}: ${errorType}`));
    if (failedSteps.length > FAILED_STEPS_NAMED) described.push(`and ${failedSteps.length - FAILED_STEPS_NAMED} more failed step(s)`);
    const steps = described.join('; ') || 'no step failed (the task timed out or was failed as a whole)';
    return new WorkflowFailedError(`task ${task.uuid} (${task.namespace}/${task.name}) ended in error: ${steps}`,
      { taskUuid: task.uuid, failedSteps });
  }
}

// ERROR_CLASSES (code -> class) is the table scripts/abi-parity.sh checks against the header, as in every binding.
module.exports = {
  ...classes, RetryableError, PermanentError, WorkflowFailedError, errorForCode, shorten, ERROR_CLASSES: byCode,
};
