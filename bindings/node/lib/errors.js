'use strict';
// Core errors (thrown by the engine) and handler signals (thrown by your step handlers).

class TaskerError extends Error {
  constructor(message, details = {}) {
    super(message);
    this.name = this.constructor.name;
    this.details = details;
  }
  get code() { return this.constructor.code ?? 12; }
}

const define = (name, code, Base = TaskerError) => {
  const Class = { [name]: class extends Base {} }[name];
  Class.code = code;
  return Class;
};

const ValidationError = define('ValidationError', 1);
const errors = {
  TaskerError,
  ValidationError,
  InvalidHandleError: define('InvalidHandleError', 2),
  InvalidUtf8Error: define('InvalidUtf8Error', 3, ValidationError),
  InvalidJsonError: define('InvalidJsonError', 4, ValidationError),
  NotFoundError: define('NotFoundError', 5),
  ConflictError: define('ConflictError', 6),
  InvalidDagError: define('InvalidDagError', 7, ValidationError),
  InvalidStateError: define('InvalidStateError', 8),
  StaleClaimError: define('StaleClaimError', 9),
  DatabaseError: define('DatabaseError', 10),
  TimeoutError: define('TimeoutError', 11),
  InternalError: define('InternalError', 12),
  AbiMismatchError: define('AbiMismatchError', 13),
};
const byCode = new Map(Object.values(errors).filter((c) => c.code).map((c) => [c.code, c]));

function errorForCode(code, message, detailsJson) {
  let details = {};
  try { details = JSON.parse(detailsJson); } catch { /* keep {} */ }
  const Class = byCode.get(code) ?? TaskerError;
  return new Class(message, details);
}

/** Throw from a handler for a failure worth retrying; `retryAfter` (seconds) overrides the backoff. */
class RetryableError extends Error {
  constructor(message, { retryAfter } = {}) {
    super(message);
    this.name = 'RetryableError';
    this.retryAfter = retryAfter;
  }
}

/** Throw from a handler when retrying cannot help: the step fails at once. */
class PermanentError extends Error {
  constructor(message) {
    super(message);
    this.name = 'PermanentError';
  }
}

module.exports = { ...errors, RetryableError, PermanentError, errorForCode };
