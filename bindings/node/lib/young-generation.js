'use strict';
// The young generation of the `tasker-worker` command's own process (bin/tasker-worker.js), never of a host that
// requires the package. A process that handles tasks without pause grows V8's young generation to its maximum (two
// 16 MB semi-spaces, about 30 MB of RSS) and never shrinks it (docs/performance.md, "Node's steady state"); this
// command's process is ours, so it keeps it at its starting size instead: V8 reads --semi-space-growth-factor each
// time it would grow the young generation, so setting it first thing, before the worker's module is loaded, applies
// to the whole run (--max-semi-space-size would have to be on node's command line: V8 reads it once, at start).
// A user's own young-generation setting (node's command line or NODE_OPTIONS) wins; TASKER_WORKER_YOUNG_GENERATION=
// default leaves V8's sizing alone.
const v8 = require('node:v8');

const GROWTH_FLAG = '--semi-space-growth-factor=1';
const USER_FLAGS = /^--(max|min)[-_]semi[-_]space[-_]size|^--semi[-_]space[-_]growth[-_]factor/;

/** True when the user chose a young-generation size (node flags or NODE_OPTIONS) or asked for V8's default. */
function userChose(env, execArgv) {
  if (env.TASKER_WORKER_YOUNG_GENERATION === 'default') return true;
  return [...execArgv, ...(env.NODE_OPTIONS ?? '').split(/\s+/)].some((arg) => USER_FLAGS.test(arg));
}

/** Keeps the young generation at its starting size unless the user chose otherwise; returns whether it did. */
function boundYoungGeneration(env = process.env, execArgv = process.execArgv) {
  const value = env.TASKER_WORKER_YOUNG_GENERATION;
  if (value !== undefined && value !== '' && value !== 'default' && value !== 'bounded') {
    throw new Error(`TASKER_WORKER_YOUNG_GENERATION must be 'bounded' or 'default', not '${value}'`);
  }
  if (userChose(env, execArgv)) return false;
  v8.setFlagsFromString(GROWTH_FLAG);
  return true;
}

module.exports = { boundYoungGeneration, GROWTH_FLAG };
