'use strict';
// Tasker Native for Node: require('tasker'). See README.md. Queue adapters: require('tasker/bullmq'),
// require('tasker/bull'). Requiring this module does not load libtasker; the first engine (or version()) does.
const { Engine, StepHandler, Subscription } = require('./engine');
const { Outcome, Step, Task, StepContext } = require('./model');
const { Worker, WorkerStats, SHUTDOWN_ERROR_TYPE } = require('./worker');
const { errorForCode: _internal, shorten: _shorten, ...errors } = require('./errors');
const native = require('./native');
const { ApiStepHandler } = require('./api-handler');

module.exports = {
  Engine,
  StepHandler,
  ApiStepHandler,
  StepContext,
  Subscription,
  Worker,
  WorkerStats,
  SHUTDOWN_ERROR_TYPE,
  Task,
  Step,
  Outcome,
  ...errors,
  /** The loaded libtasker's version, e.g. "0.1.0" (loads the library). */
  version: native.version,
  /** The ABI version this binding speaks. */
  ABI_VERSION: native.ABI_VERSION,
};
