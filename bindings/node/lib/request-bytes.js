'use strict';
// The report of a finished step written as UTF-8 straight into the buffer of synchronous calls (native.js), for the
// memory store's step path: the bytes JSON.stringify of report.js's stepRequest would give, without its text. That
// text costs about three times its length a step (JSON.stringify builds it in parts, and the parts are joined into a
// flat copy to count its UTF-8 bytes) and is most of what the step path allocates that the engine's answers do not
// (docs/performance.md, "Node: what survives a scavenge"). Only the common case is written here (a completed step whose
// result is null, a boolean, a finite number or a string): anything else, and a request that would not fit, is left to
// JSON.stringify (`writeStepReport` returns -1). request-bytes.test.js checks the bytes against JSON.stringify.
const native = require('./native');

const ascii = (text) => Buffer.from(text, 'latin1');
const TASK_UUID = ascii('{"task_uuid":');
const STEP_UUID = ascii(',"step_uuid":');
const CLAIM_TOKEN = ascii(',"claim_token":');
const TRACEPARENT = ascii(',"traceparent":');
const STARTED_AT = ascii(',"handler":{"started_at":');
const FINISHED_AT = ascii(',"finished_at":');
const ATTRIBUTES = ascii(',"attributes":');
const CLAIM_NEXT = ascii('},"claim_next":');
const RESULT = ascii(',"result":');
const RESULT_AFTER_RUN = ascii('},"result":'); // no claim_next: the handler object closes, then the result
const EMPTY = ascii('{}');
const NULL = ascii('null');
const CLOSE = ascii('}');
const TRUE = ascii('true');
const FALSE = ascii('false');

// A field's value may be written as a quoted copy of its characters: printable ASCII without '"' or '\'.
const plain = (c) => c >= 0x20 && c < 0x7f && c !== 0x22 && c !== 0x5c;

let buffer; // native.js's scratch buffer while a report is written
let at; // where the next byte goes

/** Room for `n` more bytes (the buffer grows up to native.js's limit); false when the request would not fit. */
function room(n) {
  if (at + n <= buffer.length) return true;
  const grown = native.scratchBuffer(at + n, buffer, at);
  if (grown === undefined) return false;
  buffer = grown;
  return true;
}

function bytes(chunk) {
  if (!room(chunk.length)) return false;
  buffer.set(chunk, at);
  at += chunk.length;
  return true;
}

/** Text JSON.stringify wrote (or a number's text), as UTF-8. */
function text(json) {
  if (!room(json.length * 3)) return false;
  at += buffer.write(json, at, 'utf8');
  return true;
}

/** A string value, as JSON.stringify writes it: copied when every character is plain, else JSON.stringify's text. */
function string(value) {
  const n = value.length;
  if (!room(n + 2)) return false;
  const start = at;
  buffer[at++] = 0x22;
  for (let i = 0; i < n; i++) {
    const c = value.charCodeAt(i);
    if (!plain(c)) {
      at = start;
      return text(JSON.stringify(value));
    }
    buffer[at++] = c;
  }
  buffer[at++] = 0x22;
  return true;
}

// A number's text is JSON.stringify's: the same digits as String(), without V8's number-to-string cache, which would
// keep each step's times alive past young-generation collections (and so promote them).
function number(value) {
  return Number.isFinite(value) ? digits(JSON.stringify(value)) : bytes(NULL);
}

/** A number's text (ASCII), copied byte by byte: shorter than a call into Buffer's C++ write for a few characters. */
function digits(json) {
  const n = json.length;
  if (!room(n)) return false;
  for (let i = 0; i < n; i++) buffer[at++] = json.charCodeAt(i);
  return true;
}

/** A step's result when it is one this writer writes (a primitive JSON.stringify writes as it is), else false. */
function result(value) {
  if (value === null || value === undefined) return bytes(NULL);
  switch (typeof value) {
    case 'boolean':
      return bytes(value ? TRUE : FALSE);
    case 'number':
      return Number.isFinite(value) && digits(JSON.stringify(value));
    case 'string':
      return value.isWellFormed() && string(value);
    default:
      return false;
  }
}

/** A plain object with no own enumerable keys (the attributes of a run that set none). */
function isEmpty(object) {
  for (const key in object) if (Object.hasOwn(object, key)) return false;
  return true;
}

// claim_next objects are made once per count of free slots (runner.js) and never changed: their text once each.
const claimNextBytes = new WeakMap();
function claimNextText(claimNext) {
  let encoded = claimNextBytes.get(claimNext);
  if (encoded === undefined) {
    encoded = Buffer.from(JSON.stringify(claimNext), 'utf8');
    claimNextBytes.set(claimNext, encoded);
  }
  return encoded;
}

/**
 * Writes the complete of finished step `done` (report.js's stepRequest with its result) into the buffer of
 * synchronous calls: its length in bytes, or -1 when this writer leaves it to JSON.stringify (a failed step, a result
 * or attributes it does not write, a request larger than that buffer). The bytes are good until the next
 * synchronous call.
 */
function writeStepReport(done, claimNext) {
  if (done.failed) return -1;
  const { ref, run } = done;
  const { attributes } = run;
  if (attributes === null || typeof attributes !== 'object' || Object.getPrototypeOf(attributes) !== Object.prototype) return -1;
  const empty = isEmpty(attributes);
  if (!empty && Object.hasOwn(attributes, 'toJSON')) return -1;
  buffer = native.scratchBuffer(0);
  at = 0;
  try {
    const ok = bytes(TASK_UUID) && string(ref.task_uuid)
      && bytes(STEP_UUID) && string(ref.step_uuid)
      && bytes(CLAIM_TOKEN) && string(ref.claim_token)
      && (ref.traceparent === undefined || (bytes(TRACEPARENT) && string(ref.traceparent)))
      && bytes(STARTED_AT) && number(run.started_at)
      && bytes(FINISHED_AT) && number(run.finished_at)
      // Attributes a handler set: JSON.stringify's text (it throws for what is not JSON, as the request's would).
      && bytes(ATTRIBUTES) && (empty ? bytes(EMPTY) : text(JSON.stringify(attributes)))
      && (claimNext === undefined ? bytes(RESULT_AFTER_RUN)
        : (bytes(CLAIM_NEXT) && bytes(claimNextText(claimNext)) && bytes(RESULT)))
      && result(done.output)
      && bytes(CLOSE);
    return ok ? at : -1;
  } catch {
    return -1; // JSON.stringify's path reports what is wrong, as it always has
  } finally {
    buffer = undefined;
  }
}

/** The buffer writeStepReport wrote into. */
const written = () => native.scratchBuffer(0);

module.exports = { writeStepReport, written };
