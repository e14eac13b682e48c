'use strict';
// The one module that touches libtasker, through koffi. Everything above it is plain JavaScript.
//
// - JSON never crosses as a C string: a request is encoded once into a Buffer and passed as (pointer, length);
//   an answer is read as exactly `len` bytes of UTF-8 from the tasker_bytes_t the library filled, then freed. That
//   tasker_bytes_t lives in native memory (a slot, below), not in a JS object koffi converts: koffi.decode(ptr,
//   'char', len) leaks the name of the array type it makes for every call (about 20 bytes a call, koffi 2.16 and
//   3.3), so the answer is read as a 'const char *' with a length, which makes no type. Handles are koffi opaque
//   pointer types, one per kind.
// - Every returned tasker_error_t* is turned into a TaskerError subclass (errors.js) and freed, in `finally`.
// - Each call has a synchronous form and an asynchronous one (koffi's `.async`: the call runs on a worker thread
//   and the event loop keeps running). The engine decides which to use; the out-parameters of an async call are
//   buffers owned by that call alone, read only after its callback ran.
// - The library is loaded on first use, not by require('tasker'): its runtime starts with the first call, and a
//   process that requires tasker and then forks must not have started it (the runtime does not survive fork).
const fs = require('node:fs');
const path = require('node:path');
// koffi loads with the library (loadKoffi), not with require('tasker').
let koffi;
const { AbiMismatchError, TaskerError, errorForCode } = require('./errors');
const { callStarted, callEnded } = require('./thread-pool');

/** The ABI this binding speaks (TASKER_ABI_VERSION of include/tasker.h). */
const ABI_VERSION = 2;

const LIBRARY_NAMES = { linux: 'libtasker.so', darwin: 'libtasker.dylib', win32: 'tasker.dll' };

// The library ships in one package per platform (the esbuild/swc pattern): tasker-native lists them all as optional
// dependencies and npm installs the one whose os/cpu/libc match. Platforms with a published package:
const PLATFORM_PACKAGES = ['linux-x64'];
const PLATFORM = `${process.platform}-${process.arch}`;
const PLATFORM_PACKAGE = `@tasker-native/${PLATFORM}`;

/** True on Linux with musl (Alpine): the prebuilt library needs glibc. */
function isMusl() {
  if (process.platform !== 'linux') return false;
  const report = typeof process.report?.getReport === 'function' ? process.report.getReport() : null;
  return Boolean(report && !report.header?.glibcVersionRuntime);
}

/** What to install to get the library on this machine. */
function installHint() {
  if (PLATFORM_PACKAGES.includes(PLATFORM) && !isMusl()) {
    return `install ${PLATFORM_PACKAGE}, the package that carries it for this platform: npm installs it with ` +
      `tasker-native unless optional dependencies are omitted (--omit=optional, --no-optional); ` +
      `npm install ${PLATFORM_PACKAGE}. Or set TASKER_LIBRARY_PATH to a libtasker built for this machine`;
  }
  return `tasker-native has no prebuilt libtasker for ${PLATFORM}${isMusl() ? ' with musl' : ''} (packages exist ` +
    `for ${PLATFORM_PACKAGES.map((p) => `${p} with glibc`).join(', ')}): set TASKER_LIBRARY_PATH to a libtasker ` +
    'built for this machine';
}

/** The repository, when this binding runs from a checkout's bindings/node (not from an installed package). */
function checkout() {
  const root = path.resolve(__dirname, '..', '..', '..');
  return fs.existsSync(path.join(root, 'include', 'tasker.h')) ? root : null;
}

/**
 * What to do about a library of another release: the packages of this release, the platform one carrying its own.
 * The build step is named only where there is something to build (a checkout).
 */
function sameReleaseHint() {
  const { version } = require('../package.json');
  const install = `npm install tasker-native@${version} ${PLATFORM_PACKAGE}@${version}`;
  const hint = process.env.TASKER_LIBRARY_PATH
    ? 'TASKER_LIBRARY_PATH names a libtasker of another release: unset it to use the library of the packages ' +
      `(${install}), or point it at the libtasker of release ${version}`
    : `the library of the packages is from another release: ${install}`;
  return checkout() ? `${hint} (in this checkout: ./build.sh native)` : hint;
}

/**
 * TASKER_LIBRARY_PATH, else the platform package's copy, else the copy `./build.sh native` puts in the package's
 * `native/` folder (a checkout).
 */
function findLibrary() {
  const fromEnv = process.env.TASKER_LIBRARY_PATH;
  if (fromEnv) {
    if (!fs.existsSync(fromEnv)) throw new TaskerError(`TASKER_LIBRARY_PATH is ${fromEnv}, which does not exist`);
    return fromEnv;
  }
  const name = LIBRARY_NAMES[process.platform] ?? 'libtasker.so';
  let platformDir = null;
  try {
    platformDir = path.dirname(require.resolve(`${PLATFORM_PACKAGE}/package.json`));
  } catch {
    // not installed: the checkout copy below, else the error says what to install
  }
  if (platformDir) {
    const packaged = path.join(platformDir, name);
    if (fs.existsSync(packaged)) return packaged;
    throw new TaskerError(`${PLATFORM_PACKAGE} is installed at ${platformDir} but holds no ${name}: reinstall it ` +
      `(npm install ${PLATFORM_PACKAGE}), or set TASKER_LIBRARY_PATH`);
  }
  const bundled = path.join(__dirname, '..', 'native', name);
  if (fs.existsSync(bundled)) return bundled;
  throw new TaskerError(`libtasker not found for ${PLATFORM}: ${installHint()}`);
}

let fns; // the declared functions, once loaded

/**
 * The C types, declared once per process (koffi's type names are global): handles are opaque struct pointers, so
 * koffi refuses a subscription where an engine is expected; tasker_bytes_t is the {data, len} struct of the header.
 */
let types;
function declareTypes() {
  if (types) return types; // a load that failed after declaring them may be tried again
  const engine = koffi.pointer(koffi.opaque('tasker_engine_t'));
  const subscription = koffi.pointer(koffi.opaque('tasker_subscription_t'));
  const error = koffi.pointer(koffi.opaque('tasker_error_t'));
  const bytes = koffi.struct('tasker_bytes_t', { data: 'const uint8_t *', len: 'size_t' });
  types = {
    engine, subscription, error,
    bytesStruct: bytes, bytes: koffi.pointer(bytes), lenOffset: koffi.offsetof(bytes, 'len'),
  };
  return types;
}

/**
 * koffi's native addon, which is all of koffi this binding uses. koffi's entry point (its index.js) also loads the
 * tools of its installer (https, crypto, zlib), about 3.5 MB of every process that requires it; so the addon is
 * loaded directly where koffi's package keeps it, when it is there and of the package's version, and through that
 * entry point otherwise (another layout, musl, a bundler).
 */
function loadKoffi() {
  try {
    const manifest = require.resolve('koffi/package.json');
    const addon = require(path.join(path.dirname(manifest), 'build', 'koffi', `${process.platform}_${process.arch}`,
      'koffi.node'));
    if (addon.version === require(manifest).version && typeof addon.load === 'function') return addon;
  } catch {
    // not where this koffi release keeps it: its entry point finds it
  }
  return require('koffi');
}

function load() {
  if (fns) return fns;
  const file = findLibrary();
  koffi ??= loadKoffi();
  let lib;
  try {
    lib = koffi.load(file);
  } catch (e) {
    const why = process.env.TASKER_LIBRARY_PATH ? 'TASKER_LIBRARY_PATH names a library this process cannot load'
      : `it is not a library for this ${PLATFORM} machine, or is damaged: ${installHint()}`;
    throw new TaskerError(`cannot load ${file}: ${e.message}: ${why}`);
  }
  // A function the library lacks: it is not libtasker, or not a release of it this binding can use.
  const func = (name, result, params) => {
    try {
      return lib.func(name, result, params);
    } catch {
      throw new AbiMismatchError(`${file} has no function ${name}: it is not libtasker, or not the release this ` +
        `binding needs: ${sameReleaseHint()}`, { library: file, missing: name });
    }
  };
  // The ABI check comes first, so that a library of another ABI is refused before anything else is declared.
  const found = func('tasker_abi_version', 'uint32_t', [])();
  const version = func('tasker_version', 'const char *', []);
  if (found !== ABI_VERSION) {
    throw new AbiMismatchError(`${file} (libtasker ${version()}) has ABI version ${found}; this binding needs ` +
      `${ABI_VERSION}: ${sameReleaseHint()}`,
      { library: file, found: String(found), expected: String(ABI_VERSION) });
  }
  const t = declareTypes();
  const json = (name) => func(name, t.error, [t.engine, 'const uint8_t *', 'size_t', t.bytes]);
  fns = {
    version,
    errorCode: func('tasker_error_code', 'int32_t', [t.error]),
    errorMessage: func('tasker_error_message', 'const char *', [t.error]),
    errorDetails: func('tasker_error_details', 'const char *', [t.error]),
    errorFree: func('tasker_error_free', 'void', [t.error]),
    bytesFree: func('tasker_bytes_free', 'void', [t.bytes]),
    engineOpen: func('tasker_engine_open', t.error, ['const uint8_t *', 'size_t', koffi.out(koffi.pointer(t.engine))]),
    engineClose: func('tasker_engine_close', t.error, [t.engine]),
    engineFree: func('tasker_engine_free', 'void', [t.engine]),
    engineMigrate: func('tasker_engine_migrate', t.error, [t.engine]),
    engineAdvanceClock: func('tasker_engine_advance_clock', t.error, [t.engine, 'int64_t']),
    engineHealth: func('tasker_engine_health', t.error, [t.engine, t.bytes]),
    subscriptionOpen: func('tasker_subscription_open', t.error,
      [t.engine, 'const uint8_t *', 'size_t', 'uint32_t', koffi.out(koffi.pointer(t.subscription))]),
    subscriptionPull: func('tasker_subscription_pull', t.error, [t.subscription, 'uint32_t', t.bytes]),
    subscriptionFree: func('tasker_subscription_free', 'void', [t.subscription]),
    json: {
      templateRegister: json('tasker_template_register'),
      taskCreate: json('tasker_task_create'),
      taskGet: json('tasker_task_get'),
      taskList: json('tasker_task_list'),
      taskEvaluate: json('tasker_task_evaluate'),
      taskRetry: json('tasker_task_retry'),
      taskCancel: json('tasker_task_cancel'),
      staleWorkList: json('tasker_stale_work_list'),
      stepsClaim: json('tasker_steps_claim'),
      // Worker mode: waits up to wait_seconds for work, so a Worker only ever calls its async form.
      workClaim: json('tasker_work_claim'),
      stepHeartbeat: json('tasker_step_heartbeat'),
      stepComplete: json('tasker_step_complete'),
      stepFail: json('tasker_step_fail'),
      stepsReport: json('tasker_steps_report'),
      stepResolve: json('tasker_step_resolve'),
    },
  };
  return fns;
}

/** Throws the TaskerError subclass for a returned error; the error object is freed either way. */
function check(error) {
  if (error === null) return;
  const f = fns;
  let code;
  let message;
  let details;
  try {
    code = f.errorCode(error);
    message = f.errorMessage(error);
    details = f.errorDetails(error);
  } finally {
    f.errorFree(error);
  }
  throw errorForCode(code, message, details);
}

/**
 * tasker_bytes_t out-parameters, in native memory, each {NULL, 0} whenever it is not in a call (tasker_bytes_free
 * resets it). Synchronous calls cannot overlap, so they share one; an asynchronous call takes its own and gives it
 * back once its answer is read.
 */
let syncSlot;
const spareSlots = [];
function newSlot() {
  const slot = koffi.alloc(types.bytesStruct, 1);
  koffi.encode(slot, types.bytesStruct, { data: null, len: 0 });
  return slot;
}
const takeSlot = () => spareSlots.pop() ?? newSlot();
const giveBack = (slot) => spareSlots.push(slot);
const sharedSlot = () => (syncSlot ??= newSlot());

/** The exactly `len` bytes of UTF-8 a slot holds, as a string; the bytes are freed (the slot reset) either way. */
function take(slot) {
  try {
    const len = Number(koffi.decode(slot, types.lenOffset, 'size_t'));
    return len === 0 ? '' : koffi.decode(slot, 'const char *', len); // `data` is the struct's first field
  } finally {
    fns.bytesFree(slot);
  }
}

/** Encodes a request once: bytes (a Buffer or Uint8Array) as they are, a string as UTF-8. */
const encode = (input) => (input instanceof Uint8Array ? input : Buffer.from(input, 'utf8'));

/**
 * Runs `fn` through koffi's async call, on a thread of libuv's pool, counted while it holds or waits for one
 * (thread-pool.js); `input` (and the out object) stay referenced until the callback.
 */
function callAsync(fn, ...args) {
  return new Promise((resolve, reject) => {
    callStarted();
    try {
      fn.async(...args, (err, result) => {
        callEnded();
        if (err) reject(err);
        else resolve(result);
      });
    } catch (e) {
      callEnded(); // refused before it reached the pool
      reject(e);
    }
  });
}

// The request text of synchronous calls, written into one reused buffer instead of a new Buffer a call (ten a task
// on the step path): synchronous calls cannot overlap, and the library only borrows the bytes for the call. Grown to
// the largest request up to SCRATCH_MAX; a larger one gets a Buffer of its own (kept no longer than its call).
const SCRATCH_MAX = 64 * 1024;
let scratch;

/**
 * The bytes of a synchronous call's request: a string in the scratch buffer, bytes as they are; their length is
 * left in `encodedLength` (not returned in a pair: an array a call).
 */
let encodedLength = 0;
function encodeSync(input) {
  if (input instanceof Uint8Array) {
    encodedLength = input.length;
    return input;
  }
  const length = Buffer.byteLength(input, 'utf8');
  encodedLength = length;
  if (length > SCRATCH_MAX) return Buffer.from(input, 'utf8');
  if (scratch === undefined || scratch.length < length) scratch = Buffer.allocUnsafe(Math.max(length, 4096));
  scratch.write(input, 0, 'utf8');
  return scratch;
}

/**
 * The scratch buffer, at least `length` bytes long, for a request written straight into it (request-bytes.js), or
 * undefined when `length` is over SCRATCH_MAX. When it grows, the first `keep` bytes of `written` (the buffer it
 * replaces) are copied over. Its bytes are good until the next synchronous call.
 */
function scratchBuffer(length, written = undefined, keep = 0) {
  if (length > SCRATCH_MAX) return undefined;
  if (scratch === undefined || scratch.length < length) {
    const grown = Buffer.allocUnsafe(Math.min(Math.max(length, 2 * (scratch?.length ?? 0), 4096), SCRATCH_MAX));
    if (written !== undefined && keep > 0) written.copy(grown, 0, 0, keep);
    scratch = grown;
  }
  return scratch;
}

/**
 * One (engine, data, len, out) call, synchronously: the answer as text. `input`: the request's text or bytes; with
 * `length`, its first `length` bytes (the scratch buffer a request was written into).
 */
function jsonSync(name, engine, input, length = undefined) {
  const f = load();
  let data;
  if (length === undefined) {
    data = encodeSync(input);
    length = encodedLength;
  } else {
    data = input;
  }
  const out = sharedSlot();
  check(f.json[name](engine, data, length, out));
  return take(out);
}

/** Runs `call(slot)` on a worker thread with a slot of its own: the answer as text. */
async function withSlotAsync(call) {
  load();
  const out = takeSlot();
  try {
    check(await call(out));
    return take(out);
  } finally {
    giveBack(out);
  }
}

/** The same on a worker thread: resolves with the answer as text. */
async function jsonAsync(name, engine, input) {
  const f = load();
  const data = encode(input);
  return withSlotAsync((out) => callAsync(f.json[name], engine, data, data.length, out));
}

function engineOpenSync(config) {
  const f = load();
  const data = encode(config);
  const slot = [null];
  check(f.engineOpen(data, data.length, slot));
  return slot[0];
}

async function engineOpenAsync(config) {
  const f = load();
  const data = encode(config);
  const slot = [null];
  check(await callAsync(f.engineOpen, data, data.length, slot));
  return slot[0];
}

module.exports = {
  ABI_VERSION,
  findLibrary,
  version: () => load().version(),
  jsonSync,
  jsonAsync,
  scratchBuffer,
  engineOpenSync,
  engineOpenAsync,
  /** Shuts the engine down and releases its handle; throws what failed on the way out (the handle is released even then). */
  engineCloseSync: (engine) => check(load().engineClose(engine)),
  engineCloseAsync: async (engine) => check(await callAsync(load().engineClose, engine)),
  /** The destructor: releases the handle, ignoring failures and stale handles (finalizers). */
  engineFreeAsync: (engine) => callAsync(load().engineFree, engine),
  engineMigrateAsync: async (engine) => check(await callAsync(load().engineMigrate, engine)),
  engineAdvanceClock: (engine, milliseconds) => check(load().engineAdvanceClock(engine, milliseconds)),
  engineHealthAsync: (engine) => withSlotAsync((out) => callAsync(load().engineHealth, engine, out)),
  subscriptionOpen(engine, pattern, capacity) {
    const f = load();
    const data = encode(pattern);
    const slot = [null];
    check(f.subscriptionOpen(engine, data, data.length, capacity, slot));
    return slot[0];
  },
  /** Never blocks (the library only moves buffered events). */
  subscriptionPull(subscription, maxEvents) {
    const f = load();
    const out = sharedSlot();
    check(f.subscriptionPull(subscription, maxEvents, out));
    return take(out);
  },
  /** Ignores NULL and already-freed handles. */
  subscriptionFree: (subscription) => load().subscriptionFree(subscription),
};
