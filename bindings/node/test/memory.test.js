'use strict';
// Native memory is released. Each measurement runs in a process of its own (test/support/memory-probe.js): resident
// memory after a warm-up vs after the run, and the V8 heap in use (objects the binding might keep).
const test = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');
const v8 = require('node:v8');
const vm = require('node:vm');
const { spawnSync } = require('node:child_process');
const { tasker } = require('./support/helpers');

const mb = (x) => x.toFixed(1);

/** Runs the probe's `scenario`; resolves with its samples {before, after} of {rss, heapUsed} (MB). */
function probe(scenario, warmup, count) {
  const result = spawnSync(process.execPath, ['--expose-gc', '--min-semi-space-size=16', '--max-semi-space-size=16',
    path.join(__dirname, 'support', 'memory-probe.js'), scenario, String(warmup), String(count)], { encoding: 'utf8' });
  assert.equal(result.status, 0, result.stderr);
  return JSON.parse(result.stdout);
}

function assertNoGrowth(t, { before, after }) {
  t.diagnostic(`RSS ${mb(before.rss)} MB -> ${mb(after.rss)} MB; V8 heap in use ${mb(before.heapUsed)} -> ${mb(after.heapUsed)} MB`);
  assert.ok(after.rss - before.rss < 20, `RSS grew by ${mb(after.rss - before.rss)} MB (${mb(before.rss)} -> ${mb(after.rss)})`);
  assert.ok(after.heapUsed - before.heapUsed < 2, `the V8 heap in use grew by ${mb(after.heapUsed - before.heapUsed)} MB`);
}

test('handling 10,000 tasks grows resident memory by less than 20 MB and leaves no JavaScript objects behind', (t) => {
  assertNoGrowth(t, probe('tasks', 5000, 10_000));
});

test('opening and closing 2,000 engines with subscriptions grows resident memory by less than 20 MB', (t) => {
  assertNoGrowth(t, probe('engines', 8000, 2000)); // the library's heap reaches its working size after ~6,000
});

test('engines nobody closed are freed by the FinalizationRegistry backstop', async () => {
  v8.setFlagsFromString('--expose-gc');
  const gc = vm.runInNewContext('gc');
  const native = require('../lib/native');
  const original = native.engineFreeAsync;
  let freed = 0;
  native.engineFreeAsync = (handle) => {
    freed += 1;
    return original(handle);
  };
  try {
    (() => { for (let i = 0; i < 20; i += 1) new tasker.Engine().subscribe('*'); })();
    for (let i = 0; i < 20 && freed < 20; i += 1) {
      gc();
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  } finally {
    native.engineFreeAsync = original;
  }
  assert.equal(freed, 20);
});
