'use strict';
// Tasker Native for Node: require('tasker'). See README.md. Queue adapters: require('tasker/bullmq'),
// require('tasker/bull'). Requiring this module does not load libtasker; the first engine (or version()) does.
const { Engine, StepHandler, Subscription } = require('./engine');
const { Outcome, Step, Task, StepContext } = require('./model');
const { errorForCode: _internal, shorten: _shorten, ...errors } = require('./errors');
const native = require('./native');

module.exports = {
  Engine,
  StepHandler,
  StepContext,
  Subscription,
  Task,
  Step,
  Outcome,
  ...errors,
  /** The loaded libtasker's version, e.g. "0.1.0" (loads the library). */
  version: native.version,
  /** The ABI version this binding speaks. */
  ABI_VERSION: native.ABI_VERSION,
};

// Loaded on first use, not by require('tasker-native'): worker mode (worker.js, the largest module) and the Api step
// handler are not needed by a host that runs steps with `handle`, and every module loaded is source V8 keeps and
// compiles (docs/performance.md, "Node: what the rest of the opening is"). Each is an enumerable property like the
// others (the ESM entry and `Object.keys` list them), the same object every time.
const lazy = { Worker: ['./worker', 'Worker'], WorkerStats: ['./worker', 'WorkerStats'],
  SHUTDOWN_ERROR_TYPE: ['./worker', 'SHUTDOWN_ERROR_TYPE'], ApiStepHandler: ['./api-handler', 'ApiStepHandler'] };
// Once read (or assigned), each becomes the plain, writable property it always was.
const settle = (name, value) => Object.defineProperty(module.exports, name, { value, writable: true, enumerable: true,
  configurable: true });
for (const [name, [file, key]] of Object.entries(lazy)) {
  Object.defineProperty(module.exports, name, { enumerable: true, configurable: true,
    get: () => {
      const value = require(file)[key];
      settle(name, value);
      return value;
    },
    set: (value) => settle(name, value) });
}
