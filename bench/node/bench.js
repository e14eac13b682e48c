'use strict';
// No-op steps per second through the Node binding on the memory store.
//
//   TASKER_LIBRARY_PATH=artifacts/lib/linux-x64/libtasker.so node bench/node/bench.js [tasks]
//
// `engine.handle` (claim a wave, run handlers, report, evaluate; async koffi calls on worker threads) with
// concurrency 1, and the bare create + claim + complete loop that bench/abi runs in C, with synchronous calls on
// an engine opened directly through the FFI module.
const native = require('../../bindings/node/lib/native');
const tasker = require('../../bindings/node');

const TEMPLATE = 'name: noop\nnamespace_name: bench\nversion: 1.0.0\nsteps:\n' + [...Array(8).keys()].map((i) =>
  `  - name: s${i}\n    handler: { callable: Noop }\n` + (i >= 3 ? `    dependencies: [s${i % 3}]\n` : '')).join('');

class Noop extends tasker.StepHandler { async process() { return null; } }
const median = (xs) => xs.sort((a, b) => a - b)[1];
const perStep = (start, n) => Number(process.hrtime.bigint() - start) / 1e3 / (n * 8);

async function handleLoop(engine, n) {
  const start = process.hrtime.bigint();
  for (let i = 0; i < n; i += 1) await engine.handle((await engine.createTask('noop', { namespace: 'bench' })).uuid);
  return perStep(start, n);
}

function bareLoop(handle, n) {
  const start = process.hrtime.bigint();
  for (let i = 0; i < n; i += 1) {
    const uuid = JSON.parse(native.callJsonSync('tasker_task_create', handle, '{"namespace":"bench","name":"noop"}')).task.task_uuid;
    const request = JSON.stringify({ task_uuid: uuid, max_steps: 1 });
    for (;;) {
      const [claim] = JSON.parse(native.callJsonSync('tasker_steps_claim', handle, request)).claims;
      if (!claim) break;
      native.callJsonSync('tasker_step_complete', handle, JSON.stringify({
        task_uuid: uuid, step_uuid: claim.step.step_uuid, claim_token: claim.claim_token, result: null }));
    }
  }
  return perStep(start, n);
}

async function main() {
  const tasks = Number(process.argv[2] ?? 2000);
  const engine = new tasker.Engine({ concurrency: 1, retention: { max_finished_tasks: 1000 } });
  await engine.registerTemplate(TEMPLATE);
  engine.registerHandler('Noop', Noop);
  await handleLoop(engine, 200);
  const h = median([await handleLoop(engine, tasks), await handleLoop(engine, tasks), await handleLoop(engine, tasks)]);
  engine.close();

  const direct = native.engineOpenSync('{"retention":{"max_finished_tasks":1000}}');
  native.callJsonSync('tasker_template_register', direct, TEMPLATE);
  bareLoop(direct, 200);
  const b = median([bareLoop(direct, tasks), bareLoop(direct, tasks), bareLoop(direct, tasks)]);
  native.engineFreeSync(direct);

  console.log(`engine.handle: ${h.toFixed(1)} us/step = ${Math.round(1e6 / h)} no-op steps/s (median of 3 x ${tasks} tasks)`);
  console.log(`bare claim+complete loop (sync calls): ${b.toFixed(1)} us/step = ${Math.round(1e6 / b)} steps/s`);
}

main();
