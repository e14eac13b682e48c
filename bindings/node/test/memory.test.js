'use strict';
// Memory tests that catch leaks and nothing else, on any machine. Each measurement runs in a process of its own
// (test/support/memory-probe.js): batches until RSS has settled (no warm-up count is assumed: how long the heaps take
// to reach their working size depends on the machine), then enough runs that a leak of 1 KB per run would exceed
// the limit; and the V8 heap in use (objects the binding might keep).
const test = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');
const v8 = require('node:v8');
const vm = require('node:vm');
const { spawnSync } = require('node:child_process');
const { tasker } = require('./support/helpers');

const WINDOW = 5; // batches: settled when their highest RSS is within 1 MB of the highest before them
const MAX_WARMUP_BATCHES = 40; // a heap still growing after 40 batches is a leak, not sizing
const LIMIT_MB = 10;
const KB = 1024;
const mb = (x) => x.toFixed(1);

/** Runs the probe's `scenario` in a process of its own and returns what it measured. */
function probe(scenario, batch, measured) {
  assert.ok((measured * KB) / 1048576 > 2 * LIMIT_MB, 'a 1 KB leak per run must fail the limit with room');
  const result = spawnSync(process.execPath, ['--expose-gc', '--min-semi-space-size=16', '--max-semi-space-size=16',
    path.join(__dirname, 'support', 'memory-probe.js'), scenario, String(batch), String(WINDOW),
    String(MAX_WARMUP_BATCHES), String(measured)], { encoding: 'utf8' });
  assert.equal(result.status, 0, result.stderr);
  return JSON.parse(result.stdout);
}

function assertNoGrowth(t, p) {
  t.diagnostic(`settled at ${mb(p.settled)} MB after ${p.settledAfter} runs; ${mb(p.after)} MB after ${p.measuredRuns} more; ` +
    `V8 heap in use ${mb(p.heapUsedBefore)} -> ${mb(p.heapUsedAfter)} MB; library heap ${JSON.stringify(p.memory)}`);
  assert.notEqual(p.settledAfter, null, `RSS never settled (a leak): ${p.warmup.map(mb).join(' ')}`);
  assert.ok(p.after - p.settled < LIMIT_MB, `RSS grew by ${mb(p.after - p.settled)} MB: ${p.measure.map(mb).join(' ')}`);
  assert.ok(p.heapUsedAfter - p.heapUsedBefore < 2, `the V8 heap in use grew by ${mb(p.heapUsedAfter - p.heapUsedBefore)} MB`);
  // GCgen0size is baked into libtasker: the same GC budget on every machine (bindings/python/tests/test_memory.py).
  assert.ok(p.memory.totalAllocatedBytes / Math.max(p.memory.gcCounts.gen0, 1) <= 16 * 1048576,
    `gen0 budget ${mb(p.memory.totalAllocatedBytes / p.memory.gcCounts.gen0 / 1048576)} MiB`);
  assert.ok(p.memory.committedBytes <= 64 * 1048576, `committed ${mb(p.memory.committedBytes / 1048576)} MiB`);
}

test('handled tasks: resident memory stops growing, and 30,000 more add less than 10 MB', (t) => {
  assertNoGrowth(t, probe('tasks', 1000, 30_000));
});

test('engines opened, subscribed to and closed: resident memory stops growing, and 30,000 more add less than 10 MB', (t) => {
  assertNoGrowth(t, probe('engines', 1000, 30_000));
});

// koffi.decode(ptr, 'char', len) kept about 20 bytes for every call (lib/native.js says why): 20 MB here.
test('answers read from the library: a million add less than 10 MB once resident memory has settled', (t) => {
  assertNoGrowth(t, probe('answers', 100_000, 1_000_000));
});

test("handled tasks leave V8's young generation well under its maximum, and promote next to nothing", (t) => {
  // With V8's own sizing: the young generation grows (up to two 16 MB semi-spaces) by what survives its collections.
  // Object spread on the per-step path (report.js's stepRequest says why) made 1-3 KB a task survive and be promoted:
  // 32 MB (the maximum) and full collections within 2,000 tasks; written out, 8 MB after 5,000 tasks and none.
  const result = spawnSync(process.execPath, [path.join(__dirname, 'support', 'young-generation-probe.js'), '5000'],
    { encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '' } });
  assert.equal(result.status, 0, result.stderr);
  const p = JSON.parse(result.stdout);
  t.diagnostic(`new_space ${p.newSpaceMb} MB; old generation +${p.oldBytesPerTask.toFixed(0)} bytes a task; ` +
    `${p.majorCollections} full collections`);
  assert.ok(p.newSpaceMb <= 16, `new_space grew to ${p.newSpaceMb} MB`);
  assert.equal(p.majorCollections, 0, 'what the tasks promoted needed full collections');
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
