'use strict';
// The one module that touches libtasker (through koffi). Everything else in the package is plain JavaScript.
//
// JSON never crosses as a C string: it is encoded once into a Buffer and passed as pointer + length, and results
// are read as exactly `len` bytes. Calls that may wait (anything touching the store) run through koffi's async
// calls on a worker thread, so the event loop never blocks. Native memory is freed in `finally`.
const fs = require('node:fs');
const path = require('node:path');
const koffi = require('koffi');
const { errorForCode, TaskerError } = require('./errors');

const ABI_VERSION = 1;

function findLibrary() {
  if (process.env.TASKER_LIBRARY_PATH) return process.env.TASKER_LIBRARY_PATH;
  for (const name of ['libtasker.so', 'libtasker.dylib', 'tasker.dll']) {
    const candidate = path.join(__dirname, '..', 'native', name);
    if (fs.existsSync(candidate)) return candidate;
  }
  throw new TaskerError('libtasker not found: set TASKER_LIBRARY_PATH, or run ./build.sh native to bundle it');
}

let lib;
let fns;

// Loaded on first use, not at require(): libtasker's runtime starts with the first call and does not survive fork.
function load() {
  if (fns) return fns;
  const file = findLibrary();
  lib = koffi.load(file);
  const Bytes = koffi.struct('tasker_bytes_t', { data: 'void *', len: 'size_t' });
  const jsonCall = (name) => lib.func(name, 'void *', ['void *', 'const uint8_t *', 'size_t', koffi.out(koffi.pointer(Bytes))]);
  fns = {
    Bytes,
    version: lib.func('tasker_version', 'const char *', []),
    abiVersion: lib.func('tasker_abi_version', 'uint32_t', []),
    errorCode: lib.func('tasker_error_code', 'int32_t', ['void *']),
    errorMessage: lib.func('tasker_error_message', 'const char *', ['void *']),
    errorDetails: lib.func('tasker_error_details', 'const char *', ['void *']),
    errorFree: lib.func('tasker_error_free', 'void', ['void *']),
    bytesFree: lib.func('tasker_bytes_free', 'void', [koffi.pointer(Bytes)]),
    engineOpen: lib.func('tasker_engine_open', 'void *', ['const uint8_t *', 'size_t', koffi.out(koffi.pointer('void *'))]),
    engineFree: lib.func('tasker_engine_free', 'void *', ['void *']),
    engineMigrate: lib.func('tasker_engine_migrate', 'void *', ['void *']),
    engineAdvanceClock: lib.func('tasker_engine_advance_clock', 'void *', ['void *', 'int64_t']),
    engineHealth: lib.func('tasker_engine_health', 'void *', ['void *', koffi.out(koffi.pointer(Bytes))]),
    subscriptionOpen: lib.func('tasker_subscription_open', 'void *',
      ['void *', 'const uint8_t *', 'size_t', 'uint32_t', koffi.out(koffi.pointer('void *'))]),
    subscriptionPull: lib.func('tasker_subscription_pull', 'void *', ['void *', 'uint32_t', koffi.out(koffi.pointer(Bytes))]),
    subscriptionFree: lib.func('tasker_subscription_free', 'void *', ['void *']),
    json: Object.fromEntries([
      'tasker_template_register', 'tasker_task_create', 'tasker_task_get', 'tasker_task_list', 'tasker_steps_claim',
      'tasker_step_heartbeat', 'tasker_step_complete', 'tasker_step_fail', 'tasker_task_evaluate',
      'tasker_task_retry', 'tasker_task_cancel', 'tasker_step_resolve', 'tasker_stale_work_list',
    ].map((name) => [name, jsonCall(name)])),
  };
  const found = fns.abiVersion();
  if (found !== ABI_VERSION) {
    fns = undefined;
    throw new TaskerError(`libtasker at ${file} has ABI version ${found}; this binding needs ${ABI_VERSION}`);
  }
  return fns;
}

// Throws the TaskerError subclass for a returned error, and frees it.
function check(error) {
  if (!error) return;
  const f = load();
  let code, message, details;
  try {
    code = f.errorCode(error);
    message = f.errorMessage(error);
    details = f.errorDetails(error);
  } finally {
    f.errorFree(error);
  }
  throw errorForCode(code, message, details);
}

// Copies exactly `len` bytes out of a tasker_bytes_t and frees it.
function take(out) {
  const f = load();
  try {
    if (!out.data) return '';
    return Buffer.from(koffi.view(out.data, Number(out.len))).toString('utf8');
  } finally {
    f.bytesFree(out);
  }
}

function callAsync(fn, ...args) {
  return new Promise((resolve, reject) => {
    fn.async(...args, (err, result) => (err ? reject(err) : resolve(result)));
  });
}

const encode = (value) => (Buffer.isBuffer(value) ? value : Buffer.from(value, 'utf8'));

module.exports = {
  ABI_VERSION,
  version: () => load().version(),

  /** Calls one of the (engine, data, len, out) functions on a worker thread; resolves with the output text. */
  async callJson(name, handle, payload) {
    const f = load();
    const input = encode(payload);
    const out = {};
    check(await callAsync(f.json[name], handle, input, input.length, out));
    return take(out);
  },

  /** The same, synchronously, for calls that never wait on I/O with the memory store (used by tests). */
  callJsonSync(name, handle, payload) {
    const f = load();
    const input = encode(payload);
    const out = {};
    check(f.json[name](handle, input, input.length, out));
    return take(out);
  },

  async engineOpen(config) {
    const f = load();
    const input = encode(config);
    const slot = [null];
    check(await callAsync(f.engineOpen, input, input.length, slot));
    return slot[0];
  },

  engineOpenSync(config) {
    const input = encode(config);
    const slot = [null];
    check(load().engineOpen(input, input.length, slot));
    return slot[0];
  },

  async engineFree(handle) { check(await callAsync(load().engineFree, handle)); },
  engineFreeSync(handle) { check(load().engineFree(handle)); },
  async engineMigrate(handle) { check(await callAsync(load().engineMigrate, handle)); },
  engineAdvanceClock(handle, ms) { check(load().engineAdvanceClock(handle, ms)); },

  async engineHealth(handle) {
    const out = {};
    check(await callAsync(load().engineHealth, handle, out));
    return take(out);
  },

  subscriptionOpen(handle, pattern, capacity) {
    const input = encode(pattern);
    const slot = [null];
    check(load().subscriptionOpen(handle, input, input.length, capacity, slot));
    return slot[0];
  },

  subscriptionPull(handle, max) {
    const out = {};
    check(load().subscriptionPull(handle, max, out));
    return take(out);
  },

  subscriptionFree(handle) { check(load().subscriptionFree(handle)); },
};
