'use strict';
// No-op steps per second through the Node binding on the memory store, and Node's overhead per step over C.
//
//   TASKER_LIBRARY_PATH=$PWD/artifacts/lib/linux-x64/libtasker.so node bench/node/bench.js [tasks] [path/to/bench_abi]
//
// tasks (default 2000): 8-step tasks per timed run; each figure is the median of 3 runs after a warm-up.
// bench_abi (default build/cmake/bench/abi/bench_abi, built by ./build.sh ctest): the C driver of bench/abi, run in
// the same session with 10 x tasks so the overhead compares like with like.
//
// What is measured:
// - "bare loop": exactly the C driver's loop (create a task, claim one step per call until none is left, complete
//   each with a null result), through lib/native.js with synchronous koffi calls, every answer JSON.parse'd and
//   every request built as JSON text. Minus the C driver's figure, that is Node's overhead per step over C.
// - the same loop with every call through koffi's async calls (a worker-thread hop per call), for reference.
// - engine.handle: the public API (claim by handler, run the StepHandler, serialize its result, report it and claim
//   the next steps in the same call), concurrency 1 and 8; and with syncCalls: false (every call on a worker
//   thread, as for PostgreSQL engines), concurrency 1 and 8.
// - events: how fast a subscriber receives events (batches of 10,000 pulled and parsed).
// - with TASKER_BENCH_DATABASE_URL (a throwaway PostgreSQL database; a schema of its own is created and dropped):
//   engine.handle on PostgreSQL at concurrency 8 with its default worker-thread calls and with syncCalls: true,
//   rounds alternating between the two, and the ratio of their medians (the async path against the sync one where
//   the async path is used).
const path = require('node:path');
const fs = require('node:fs');
const { execFileSync } = require('node:child_process');
const native = require('../../bindings/node/lib/native');
const tasker = require('../../bindings/node');

const REPO = path.resolve(__dirname, '..', '..');
const TASKS = Number(process.argv[2] ?? 2000);
const C_BENCH = process.argv[3] ?? path.join(REPO, 'build', 'cmake', 'bench', 'abi', 'bench_abi');
const STEPS_PER_TASK = 8;

// The same template as bench/abi/bench_abi.c.
const TEMPLATE = 'name: noop\nnamespace_name: bench\nversion: 1.0.0\nsteps:\n' +
  '  - name: s0\n    handler: { callable: Noop }\n' +
  '  - name: s1\n    handler: { callable: Noop }\n' +
  '  - name: s2\n    handler: { callable: Noop }\n' +
  '  - name: s3\n    handler: { callable: Noop }\n    dependencies: [s0]\n' +
  '  - name: s4\n    handler: { callable: Noop }\n    dependencies: [s1]\n' +
  '  - name: s5\n    handler: { callable: Noop }\n    dependencies: [s2]\n' +
  '  - name: s6\n    handler: { callable: Noop }\n    dependencies: [s3, s4]\n' +
  '  - name: s7\n    handler: { callable: Noop }\n    dependencies: [s5, s6]\n';
const CONFIG = '{"retention":{"max_finished_tasks":1000}}';

class Noop extends tasker.StepHandler {
  async process() {
    return null;
  }
}

const now = () => process.hrtime.bigint();
const usPerStep = (start, tasks) => Number(now() - start) / 1e3 / (tasks * STEPS_PER_TASK);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

// CPU time per step of the runs medianOf3 timed (this process's threads, the library's included): on a machine
// shared with other work, wall-clock figures include time the process waited for a core; this one does not.
const cpuPerStep = new Map();

async function medianOf3(run, label, tasks = TASKS) {
  await run(Math.max(tasks === TASKS ? 200 : 20, tasks / 10)); // warm-up
  const cpu = [];
  const wall = [];
  for (let i = 0; i < 3; i += 1) {
    const before = process.cpuUsage();
    wall.push(await run(tasks));
    const used = process.cpuUsage(before);
    cpu.push((used.user + used.system) / (tasks * STEPS_PER_TASK));
  }
  if (label) cpuPerStep.set(label, median(cpu));
  return median(wall);
}

/** The C driver's loop through lib/native.js with synchronous calls. */
function bareLoopSync(engine) {
  return async (tasks) => {
    const start = now();
    for (let i = 0; i < tasks; i += 1) {
      const uuid = JSON.parse(native.jsonSync('taskCreate', engine, '{"namespace":"bench","name":"noop"}')).task.task_uuid;
      const claimRequest = JSON.stringify({ task_uuid: uuid, max_steps: 1 });
      for (;;) {
        const [claim] = JSON.parse(native.jsonSync('stepsClaim', engine, claimRequest)).claims;
        if (!claim) break;
        JSON.parse(native.jsonSync('stepComplete', engine, JSON.stringify({
          task_uuid: uuid, step_uuid: claim.step.step_uuid, claim_token: claim.claim_token, result: null })));
      }
    }
    return usPerStep(start, tasks);
  };
}

/** The same loop with every call through koffi's async calls. */
function bareLoopAsync(engine) {
  return async (tasks) => {
    const start = now();
    for (let i = 0; i < tasks; i += 1) {
      const uuid = JSON.parse(await native.jsonAsync('taskCreate', engine, '{"namespace":"bench","name":"noop"}')).task.task_uuid;
      const claimRequest = JSON.stringify({ task_uuid: uuid, max_steps: 1 });
      for (;;) {
        const [claim] = JSON.parse(await native.jsonAsync('stepsClaim', engine, claimRequest)).claims;
        if (!claim) break;
        JSON.parse(await native.jsonAsync('stepComplete', engine, JSON.stringify({
          task_uuid: uuid, step_uuid: claim.step.step_uuid, claim_token: claim.claim_token, result: null })));
      }
    }
    return usPerStep(start, tasks);
  };
}

async function handleLoop(options, tasks = TASKS) {
  const engine = await tasker.Engine.open({ retention: { maxFinishedTasks: 1000 }, ...options });
  await engine.registerTemplate(TEMPLATE);
  engine.registerHandler('Noop', Noop);
  const run = async (tasks) => {
    const start = now();
    for (let i = 0; i < tasks; i += 1) {
      const outcome = await engine.handle((await engine.createTask('noop', { namespace: 'bench' })).uuid);
      if (outcome.action !== 'complete') throw new Error(`a task ended with ${outcome.action}`);
    }
    return usPerStep(start, tasks);
  };
  try {
    return await medianOf3(run, JSON.stringify(options), tasks);
  } finally {
    await engine.close();
  }
}

/** engine.handle on PostgreSQL, worker-thread calls against syncCalls: true, rounds alternating: each side's median. */
async function postgresPaths(databaseUrl, rounds = 5) {
  const tasks = Math.max(50, Math.round(TASKS / 20));
  const schema = `bench_node_${process.pid}`;
  const options = { databaseUrl, schema, concurrency: 8 };
  const sides = { async: [], sync: [] };
  try {
    for (let i = 0; i < rounds; i += 1) {
      sides.async.push(await handleLoop(options, tasks));
      sides.sync.push(await handleLoop({ ...options, syncCalls: true }, tasks));
    }
  } finally {
    execFileSync('psql', [databaseUrl, '-qc', `SET client_min_messages = warning; DROP SCHEMA IF EXISTS ${schema} CASCADE`]);
  }
  return { tasks, rounds, async: median(sides.async), sync: median(sides.sync) };
}

function cFigure() {
  if (!fs.existsSync(C_BENCH)) return null;
  const output = execFileSync(C_BENCH, [native.findLibrary(), String(TASKS * 10)], { encoding: 'utf8' });
  return Number(/per step \(create\/8 \+ claim \+ complete\): ([\d.]+) us/.exec(output)[1]);
}

async function eventRate() {
  const engine = new tasker.Engine({ concurrency: 8 });
  await engine.registerTemplate(TEMPLATE);
  engine.registerHandler('Noop', Noop);
  const events = engine.subscribe('*', { capacity: 2_000_000 });
  try {
    for (let i = 0; i < 8000; i += 1) await engine.handle((await engine.createTask('noop', { namespace: 'bench' })).uuid);
    const start = now();
    let count = 0;
    for (let batch = events.pull(10_000); batch.length > 0; batch = events.pull(10_000)) count += batch.length;
    const seconds = Number(now() - start) / 1e9;
    return { count, perSecond: count / seconds, dropped: events.dropped };
  } finally {
    events.close();
    await engine.close();
  }
}

const rate = (us, label) => `${us.toFixed(1)} us/step = ${Math.round(1e6 / us).toLocaleString('en')} steps/s` +
  (cpuPerStep.has(label) ? `  (CPU ${cpuPerStep.get(label).toFixed(1)} us/step)` : '');

async function main() {
  const direct = native.engineOpenSync(CONFIG);
  native.jsonSync('templateRegister', direct, TEMPLATE);
  const bareSync = await medianOf3(bareLoopSync(direct), 'bare');
  const bareAsync = await bareLoopAsync(direct)(Math.max(100, TASKS / 4));
  native.engineCloseSync(direct);

  const handle1 = await handleLoop({ concurrency: 1 });
  const handle8 = await handleLoop({ concurrency: 8 });
  const handleAsync = await handleLoop({ concurrency: 1, syncCalls: false });
  const handleAsync8 = await handleLoop({ concurrency: 8, syncCalls: false });
  const c = cFigure();
  const events = await eventRate();
  const databaseUrl = process.env.TASKER_BENCH_DATABASE_URL;
  const postgres = databaseUrl ? await postgresPaths(databaseUrl) : null;

  console.log(`${require('node:os').cpus().length} cores, load average ${require('node:os').loadavg().map((l) => l.toFixed(1)).join(' ')}`);
  console.log(`node ${process.version}, koffi ${require('../../bindings/node/node_modules/koffi/package.json').version}, ` +
    `libtasker ${tasker.version()}, ${TASKS} tasks x ${STEPS_PER_TASK} steps per run (median of 3)`);
  console.log(`bare loop, sync koffi calls:           ${rate(bareSync, 'bare')}`);
  console.log(`bare loop, async koffi calls:          ${rate(bareAsync)}  (one run, ${Math.max(100, TASKS / 4)} tasks)`);
  console.log(`engine.handle, concurrency 1:          ${rate(handle1, '{"concurrency":1}')}`);
  console.log(`engine.handle, concurrency 8:          ${rate(handle8, '{"concurrency":8}')}`);
  console.log(`engine.handle, syncCalls: false, c 1:  ${rate(handleAsync, '{"concurrency":1,"syncCalls":false}')}`);
  console.log(`engine.handle, syncCalls: false, c 8:  ${rate(handleAsync8, '{"concurrency":8,"syncCalls":false}')}`);
  if (c === null) {
    console.log(`C driver not found at ${C_BENCH} (./build.sh ctest builds it): no overhead figure`);
  } else {
    console.log(`C driver (bench_abi, ${TASKS * 10} tasks):     ${rate(c)}`);
    console.log(`Node overhead over C, same loop:       ${(bareSync - c).toFixed(1)} us/step (target < 30 us)`);
    console.log(`engine.handle over C, concurrency 1/8: ${(handle1 - c).toFixed(1)} / ${(handle8 - c).toFixed(1)} us/step (target < 30 us)`);
  }
  console.log(`events delivered to a subscriber:      ${Math.round(events.perSecond).toLocaleString('en')} events/s ` +
    `(${events.count.toLocaleString('en')} events in batches of 10,000, dropped ${events.dropped})`);
  if (postgres) {
    console.log(`PostgreSQL, engine.handle c 8 (${postgres.rounds} alternating rounds of ${postgres.tasks} tasks, medians):`);
    console.log(`  worker-thread calls (default):       ${rate(postgres.async)}`);
    console.log(`  syncCalls: true:                     ${rate(postgres.sync)}`);
    console.log(`  async path / sync path:              ${(postgres.async / postgres.sync).toFixed(2)}x (target at most 2x)`);
  } else {
    console.log('PostgreSQL: set TASKER_BENCH_DATABASE_URL to compare the two call paths there');
  }
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
