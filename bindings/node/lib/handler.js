'use strict';
// Step handlers and how a step's output or failure becomes the request that reports it.
const { PermanentError, RetryableError, ValidationError } = require('./errors');

/**
 * Subclass and implement `async process(ctx)` (a plain `process` works too); optionally `processResults(output)`.
 * Return any JSON value. Throw `RetryableError` (optionally with `retryAfter`) or `PermanentError` to say how to
 * retry; anything else thrown is a retryable failure carrying its name, message and stack.
 */
class StepHandler {
  async process(ctx) {
    throw new Error(`${this.constructor.name}.process is not implemented`);
  }

  /** Transforms `process`'s output before it is stored (may be async). The default keeps it as it is. */
  processResults(output) {
    return output;
  }
}

const isClass = (fn) => /^class[\s{]/.test(Function.prototype.toString.call(fn));

/** A registered handler as a factory of objects with process/processResults. */
function handlerFactory(name, handler) {
  if (typeof name !== 'string' || name === '') throw new ValidationError('a handler name must be a non-empty string');
  if (typeof handler === 'function' && handler.prototype instanceof StepHandler) return () => new handler();
  if (handler instanceof StepHandler) return () => handler;
  if (typeof handler === 'function' && !isClass(handler)) {
    const wrapped = { process: handler, processResults: (output) => output };
    return () => wrapped;
  }
  throw new ValidationError(`the handler for '${name}' must be a tasker.StepHandler subclass, an instance of one, ` +
    'or a function (ctx) => result');
}

const describe = (holder, key) => {
  if (key === '') return 'the value';
  return Array.isArray(holder) ? `element ${key}` : `property ${JSON.stringify(key)}`;
};

// JSON.stringify silently drops functions and symbols, turns NaN into null and a Map into {}, and escapes lone
// surrogates (text that is not Unicode); what is stored must round-trip, so those are errors here.
function strictJson(key, value) {
  if (!key.isWellFormed()) throw new TypeError(`the key ${JSON.stringify(key)} has a lone surrogate (it is not valid Unicode)`);
  switch (typeof value) {
    case 'string':
      if (!value.isWellFormed()) throw new TypeError(`${describe(this, key)} has a lone surrogate (it is not valid Unicode)`);
      return value;
    case 'function':
    case 'symbol':
    case 'bigint':
      throw new TypeError(`${describe(this, key)} is a ${typeof value}`);
    case 'number':
      if (!Number.isFinite(value)) throw new TypeError(`${describe(this, key)} is ${value}`);
      return value;
    case 'object':
      if (value instanceof Map || value instanceof Set || value instanceof WeakMap || value instanceof WeakSet) {
        throw new TypeError(`${describe(this, key)} is a ${value.constructor.name} (convert it to an object or array)`);
      }
      return value;
    default:
      return value;
  }
}

/** `value` as JSON text, or a TypeError saying why `what` is not JSON; `undefined` is null. */
function toJson(value, what) {
  if (value === undefined) return 'null';
  try {
    return JSON.stringify(value, strictJson);
  } catch (e) {
    throw new TypeError(`${what} is not JSON-serializable: ${e.message}`);
  }
}

/** A step's output as JSON text (see toJson). */
const resultJson = (output, stepName) => toJson(output, `the result of step '${stepName}'`);

/** A request holding a step's output as JSON text: the request is stringified once, checked like toJson. */
const requestJson = (request, stepName) => toJson(request, `the result of step '${stepName}'`);

/** String(value) as well-formed Unicode, even for values whose toString throws. */
function safeString(value) {
  try {
    return String(value).toWellFormed();
  } catch {
    return Object.prototype.toString.call(value);
  }
}

/**
 * The `error` object of tasker_step_fail for anything a handler threw: the whole message and every frame (the core
 * cuts failure text, once, for every binding).
 */
function failureOf(thrown) {
  const error = thrown instanceof Error ? thrown : new Error(safeString(thrown));
  let frames = [];
  try {
    frames = safeString(error.stack ?? '').split('\n').filter((line) => /^\s+at /.test(line)).map((l) => l.trim());
  } catch {
    // a stack getter that throws: report without frames
  }
  const name = safeString(error.name || error.constructor?.name || 'Error');
  const body = {
    message: safeString(error.message) || name,
    error_type: name,
    permanent: error instanceof PermanentError,
    backtrace: frames,
  };
  if (error instanceof RetryableError && error.retryAfter != null) body.retry_after_seconds = error.retryAfter;
  return body;
}

module.exports = { StepHandler, handlerFactory, toJson, resultJson, requestJson, failureOf };
