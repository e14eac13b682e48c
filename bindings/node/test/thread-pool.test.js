'use strict';
// Every asynchronous call into libtasker holds one of libuv's threads until the database answers
// (lib/thread-pool.js): `tasker-worker` sizes that pool for its worker, and a Worker a host runs on PostgreSQL with a
// pool too small for its slots says so at its start.
const test = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const path = require('node:path');
const { spawnSync, execFileSync } = require('node:child_process');
const { sizeThreadPool, shortfall, threadPoolSize, threadsFor } = require('../lib/thread-pool');
const { tasker, track } = require('./support/helpers');

const BIN = path.join(__dirname, '..', 'bin', 'tasker-worker.js');
const APP = path.join(__dirname, 'support', 'thread-pool-app.js');
const CROWDED = path.join(__dirname, 'support', 'crowded-pool-app.js');
const DATABASE_URL = process.env.TASKER_TEST_DATABASE_URL;

/** The UV_THREADPOOL_SIZE `tasker-worker [args]` leaves for the worker's module, started with `env`. */
function poolOfCommand(args = [], env = {}) {
  const base = { ...process.env };
  delete base.UV_THREADPOOL_SIZE;
  const result = spawnSync(process.execPath, [BIN, ...args, APP], { encoding: 'utf8', env: { ...base, ...env }, timeout: 30_000 });
  assert.equal(result.status, 0, result.stderr);
  return result.stdout.trim();
}

test('a worker needs two threads a slot (a report, and the last one of the step it ran before), one a step claimed ahead, one for its claim and one for a heartbeat', () => {
  assert.equal(threadsFor(8), 26); // prefetch: the concurrency by default
  assert.equal(threadsFor(8, 0), 18);
  assert.equal(threadsFor(8, 32), 50);
  assert.equal(threadsFor(1, 0), 4);
  assert.equal(threadsFor(5000), 1024);
});

test("the pool's size is read as libuv reads UV_THREADPOOL_SIZE: 4 unset, its leading integer, 0 as 1, at most 1024", () => {
  assert.equal(threadPoolSize({}), 4);
  assert.equal(threadPoolSize({ UV_THREADPOOL_SIZE: '16' }), 16);
  assert.equal(threadPoolSize({ UV_THREADPOOL_SIZE: '16abc' }), 16);
  assert.equal(threadPoolSize({ UV_THREADPOOL_SIZE: 'lots' }), 1);
  assert.equal(threadPoolSize({ UV_THREADPOOL_SIZE: '0' }), 1);
  assert.equal(threadPoolSize({ UV_THREADPOOL_SIZE: '-3' }), 1024);
  assert.equal(threadPoolSize({ UV_THREADPOOL_SIZE: '5000' }), 1024);
});

test("the pool is sized only when the user did not choose a size, and the shortfall counts what is missing", () => {
  const unset = {};
  assert.equal(sizeThreadPool(12, 0, unset), true);
  assert.equal(unset.UV_THREADPOOL_SIZE, '26');
  const chosen = { UV_THREADPOOL_SIZE: '6' };
  assert.equal(sizeThreadPool(12, 12, chosen), false);
  assert.equal(chosen.UV_THREADPOOL_SIZE, '6');
  assert.equal(shortfall(12, 12, chosen), 32);
  assert.equal(shortfall(2, 0, chosen), 0);
});

test("tasker-worker sizes its process's pool for its concurrency before the worker's module loads", () => {
  assert.equal(poolOfCommand(), '26'); // the default 8 slots and prefetch 8
  assert.equal(poolOfCommand(['--concurrency', '32']), '98');
  assert.equal(poolOfCommand(['--concurrency', '32', '--prefetch', '0']), '66');
  assert.equal(poolOfCommand(['-c', '32'], { UV_THREADPOOL_SIZE: '6' }), '6'); // the user's choice wins
});

test('a Worker on PostgreSQL whose pool is too small for its slots says so at its start', { skip: !DATABASE_URL && 'TASKER_TEST_DATABASE_URL is not set' }, async (t) => {
  const schema = `jtp_${crypto.randomBytes(6).toString('hex')}`;
  t.after(() => execFileSync('psql', [DATABASE_URL, '-qAtc', `DROP SCHEMA IF EXISTS ${schema} CASCADE`], { stdio: 'ignore' }));
  const engine = track(t, await tasker.Engine.open({ databaseUrl: DATABASE_URL, schema }));
  const saved = process.env.UV_THREADPOOL_SIZE;
  t.after(() => { if (saved === undefined) delete process.env.UV_THREADPOOL_SIZE; else process.env.UV_THREADPOOL_SIZE = saved; });
  const warnings = async (size, concurrency, prefetch = concurrency) => {
    if (size === undefined) delete process.env.UV_THREADPOOL_SIZE; else process.env.UV_THREADPOOL_SIZE = size;
    const lines = [];
    const logger = { info: () => {}, warn: (m) => lines.push(m), error: (m) => lines.push(m) };
    await new tasker.Worker(engine, { concurrency, prefetch, waitSeconds: 0.05, logger, handlers: { Noop: () => null } }).run({ burst: true, handleSignals: false });
    return lines.filter((l) => l.includes('thread pool'));
  };

  const [warning] = await warnings(undefined, 8);
  assert.match(warning, /libuv's thread pool has 4 threads, too few for 8 slots and prefetch 8.*UV_THREADPOOL_SIZE=26/);
  assert.deepEqual(await warnings('26', 8), []);
  assert.deepEqual(await warnings('18', 8, 0), []);
  assert.deepEqual(await warnings(undefined, 1, 0), []); // 4 threads are enough for 1 slot without prefetch
});

test('an engine on PostgreSQL says once when more calls are in flight than the pool has threads (engine.handle under a queue\'s concurrency)', { skip: !DATABASE_URL && 'TASKER_TEST_DATABASE_URL is not set' }, (t) => {
  const schema = `jtc_${crypto.randomBytes(6).toString('hex')}`;
  t.after(() => execFileSync('psql', [DATABASE_URL, '-qAtc', `DROP SCHEMA IF EXISTS ${schema} CASCADE`], { stdio: 'ignore' }));
  const warningsWith = (threads, calls) => {
    const result = spawnSync(process.execPath, [CROWDED, DATABASE_URL, schema, String(calls)], {
      encoding: 'utf8', env: { ...process.env, UV_THREADPOOL_SIZE: String(threads) }, timeout: 60_000,
    });
    assert.equal(result.status, 0, result.stderr);
    return JSON.parse(result.stdout);
  };

  const [warning, ...more] = warningsWith(2, 12);
  assert.match(warning, /thread pool has threads \(2\).*UV_THREADPOOL_SIZE/);
  assert.deepEqual(more, []); // once a process
  assert.deepEqual(warningsWith(16, 12), []);
});
