'use strict';
// What `npx tasker-worker` costs in memory in worker mode, with and without its bound on V8's young generation
// (bindings/node/lib/young-generation.js): a module for the command that feeds tasks of the 8-step no-op template to
// its own memory-store engine, lets the worker run them, and prints one JSON line (RSS with the engine open, after
// each checkpoint of tasks, V8's young generation) before exiting.
//
//   TASKER_LIBRARY_PATH=$PWD/artifacts/lib/linux-x64/libtasker.so FOOTPRINT_TASKS=10000,50000 \
//     node bindings/node/bin/tasker-worker.js bench/footprint/worker-module.js          # bounded (the default)
//   TASKER_WORKER_YOUNG_GENERATION=default ... (the same)                              # V8's own sizing
const fs = require('node:fs');
const path = require('node:path');
const v8 = require('node:v8');
const tasker = require('../../bindings/node');

const PENDING = 200; // tasks kept waiting for the worker
const rssMb = () => process.memoryUsage().rss / 1048576;
const newSpaceMb = () => v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space').space_size / 1048576;

module.exports = async () => {
  const checkpoints = (process.env.FOOTPRINT_TASKS || '10000,50000').split(',').map(Number);
  const engine = new tasker.Engine({ retention: { maxFinishedTasks: 500 } });
  await engine.registerTemplate(fs.readFileSync(path.join(__dirname, 'noop.yaml'), 'utf8'));
  let steps = 0;
  engine.registerHandler('Noop', () => {
    steps += 1;
    return null;
  });
  const out = { young_generation: process.env.TASKER_WORKER_YOUNG_GENERATION || 'bounded', open: rssMb(), checkpoints: [] };
  const worker = new tasker.Worker(engine, { concurrency: 8, statsSeconds: 0, logger: { info() {}, warn() {}, error: console.error } });
  (async () => {
    let created = 0;
    for (const target of checkpoints) {
      while (steps < target * 8) {
        while (created - steps / 8 < PENDING && created < target) {
          await engine.createTask('noop', { namespace: 'bench' });
          created += 1;
        }
        await new Promise((resolve) => setTimeout(resolve, 1));
      }
      out.checkpoints.push({ tasks: target, rss: rssMb(), v8_new_space: newSpaceMb(), v8_heap_total: process.memoryUsage().heapTotal / 1048576 });
    }
    process.stdout.write(`${JSON.stringify(out)}\n`);
    process.exit(0);
  })().catch((e) => {
    console.error(e);
    process.exit(1);
  });
  return worker;
};
