'use strict';
// libuv's thread pool, which every asynchronous call into libtasker occupies for as long as the call takes: koffi
// runs `fn.async` there, and the library's calls block their thread until the database answers. The pool has 4
// threads unless UV_THREADPOOL_SIZE says otherwise, read once, when the pool first starts. A worker with 8 slots
// then reports at most 3 steps at once (its claimer holds a thread while it waits for work), so its completions
// reach PostgreSQL 3 at a time instead of in one group commit: 0.64 write transactions a step against 0.34 with a
// pool of 16, and up to a third fewer steps a second (docs/performance.md, session 26).
//
// `tasker-worker` sizes the pool of its own process before the worker's module runs (sizeThreadPool); a host that
// runs a Worker itself is told at the worker's start when its pool is short (shortfall), and sets the variable. The
// check reads the environment, not the pool: a variable set after the pool started (after Engine.open, or by a
// preloaded module that read a file) is not what the pool has.

/** libuv's default, and its maximum. */
const DEFAULT_THREADS = 4;
const MAX_THREADS = 1024;

/**
 * The pool's size as libuv reads UV_THREADPOOL_SIZE from `env`: 4 when it is not set; else its leading integer (C's
 * atoi: '16abc' is 16, text is 0), 0 read as 1, a negative one (an unsigned overflow) and anything above 1,024 as 1,024.
 */
function threadPoolSize(env = process.env) {
  const text = env.UV_THREADPOOL_SIZE;
  if (text === undefined) return DEFAULT_THREADS;
  const value = Number.parseInt(text, 10) || 0;
  if (value === 0) return 1;
  return value < 0 ? MAX_THREADS : Math.min(value, MAX_THREADS);
}

/**
 * Threads a worker of `concurrency` slots and `prefetch` can keep busy: each slot's report, and the report of the step
 * the slot ran before (a slot is free once its handler returns, while its report is on its way, and a step in hand or
 * the claimer refills it at once), the reports of the steps claimed ahead (they run back to back as slots free, each
 * leaving its report on its way), the waiting claim and a heartbeat. Idle threads cost little (their stacks are
 * committed as they grow).
 */
const threadsFor = (concurrency, prefetch = concurrency) =>
  Math.min(Math.max(2 * concurrency + prefetch + 2, DEFAULT_THREADS), MAX_THREADS);

/**
 * Sizes the pool for a worker of `concurrency` slots and `prefetch` unless the user chose a size (UV_THREADPOOL_SIZE
 * set): only effective before anything in the process has used the pool. Returns whether it did.
 */
function sizeThreadPool(concurrency, prefetch = concurrency, env = process.env) {
  if ((env.UV_THREADPOOL_SIZE ?? '') !== '') return false;
  env.UV_THREADPOOL_SIZE = String(threadsFor(concurrency, prefetch));
  return true;
}

/** The threads a worker of `concurrency` slots and `prefetch` lacks in this pool (0: none), for its start's warning. */
const shortfall = (concurrency, prefetch = concurrency, env = process.env) =>
  Math.max(0, threadsFor(concurrency, prefetch) - threadPoolSize(env));

// The calls into libtasker holding or waiting for a pool thread now (native.js counts them around each `.async`
// call), and a warning, once a process, the first time they outnumber the pool's threads: a host that runs
// engine.handle from a queue whose concurrency is above the pool's (a BullMQ or Bull worker's `concurrency`, a
// web server's requests) would otherwise only see its steps slow down. The pool's size is read at the first call,
// as libuv reads it when the pool starts.
let held = 0;
let threads = null;
let warnOnce = null; // set by the first engine that runs its calls on the pool; null once used
let warned = false;

/** Who is told when the calls outnumber the threads, unless someone was told already (the first caller wins). */
function watchCrowding(warn) {
  if (!warned && warnOnce === null) warnOnce = warn;
}

/** Counts a call taking a thread (or waiting for one); tells the watcher, once, when there are more than threads. */
function callStarted(env = process.env) {
  held += 1;
  threads ??= threadPoolSize(env);
  if (warnOnce !== null && held > threads) {
    const warn = warnOnce;
    crowdingWarned();
    warn(threads);
  }
}

function callEnded() {
  held -= 1;
}

/** No further warning in this process: one was given (by a Worker at its start, or by callStarted). */
function crowdingWarned() {
  warnOnce = null;
  warned = true;
}

module.exports = { sizeThreadPool, shortfall, threadPoolSize, threadsFor, watchCrowding, callStarted, callEnded, crowdingWarned };
