'use strict';
// `engine.handle` on no-op steps, through whichever Node binding and libtasker are given.
//
//   TASKER_LIBRARY_PATH=<tree>/.../libtasker.so node handle.js <tree>/bindings/node TASKS C...
//
// Prints `node handle c=<C> <us per step>` per concurrency, then the same with `syncCalls: false` (every call on a
// koffi worker thread, what an engine on PostgreSQL does), as `node handle-async c=<C>`. Median of 3 after a
// warm-up. Uses only the API every binding version has had, for bench/bindings/run.sh.
const path = require('node:path');

const [bindingDir, tasksArg, ...concurrencies] = process.argv.slice(2);
const tasker = require(path.resolve(bindingDir));
const STEPS = 8;
const TEMPLATE = 'name: noop\nnamespace_name: bench\nversion: 1.0.0\nsteps:\n' +
  Array.from({ length: STEPS }, (_, i) => `  - name: s${i}\n    handler: { callable: Noop }\n` +
    (i >= 3 ? `    dependencies: [s${i % 3}]\n` : '')).join('');

class Noop extends tasker.StepHandler {
  async process() { return null; }
}

async function perStep(engine, tasks) {
  const start = process.hrtime.bigint();
  for (let i = 0; i < tasks; i++) {
    const task = await engine.createTask('noop', { namespace: 'bench' });
    await engine.handle(task.uuid);
  }
  return Number(process.hrtime.bigint() - start) / 1e3 / (tasks * STEPS);
}

async function measure(options, tasks) {
  const engine = new tasker.Engine({ ...options, retention: { max_finished_tasks: 1000 } });
  try {
    await engine.registerTemplate(TEMPLATE);
    engine.registerHandler('Noop', Noop);
    await perStep(engine, Math.max(tasks / 10, 100));
    const runs = [];
    for (let i = 0; i < 3; i++) runs.push(await perStep(engine, tasks));
    return runs.sort((a, b) => a - b)[1];
  } finally {
    await engine.close();
  }
}

(async () => {
  const tasks = Number(tasksArg);
  for (const c of concurrencies.map(Number)) {
    console.log(`node handle c=${c} ${(await measure({ concurrency: c }, tasks)).toFixed(2)}`);
  }
  for (const c of concurrencies.map(Number)) {
    // Async calls are slower per step; a quarter of the tasks keeps the round short.
    console.log(`node handle-async c=${c} ${(await measure({ concurrency: c, syncCalls: false }, Math.max(tasks / 4, 100))).toFixed(2)}`);
  }
})().catch((error) => { console.error(error); process.exit(1); });
