'use strict';
// What libtasker costs a Node process: RSS bare, after require + open, after N tasks; us per step.
//
//   TASKER_LIBRARY_PATH=$PWD/artifacts/lib/linux-x64/libtasker.so node --expose-gc bench/footprint/footprint.js [10000,100000]
//
// Prints one JSON object (bench/footprint/run.sh makes the table). Same template and engine as footprint.py.
// FOOTPRINT_NODE_WARM=1: the bare interpreter has already run V8's optimizing compiler once, as every host that has
// run for a while has. Its first optimized compile pages in about 4 MB of node's own code (clean pages of the node
// binary, shared between processes); without this, whichever function first gets hot after `bare` is charged with
// it (in this bench, node's path.normalize while the binding's modules are resolved: docs/performance.md).
if (process.env.FOOTPRINT_NODE_WARM === '1') {
  let x = 0;
  const mix = (i) => (i * 31) ^ x;
  for (let i = 0; i < 1e6; i += 1) x = mix(i);
}
const bare = process.memoryUsage().rss / 1048576; // before anything else is loaded: the bare interpreter

const fs = require('node:fs');

// Dirty pages only this process holds (Private_Dirty); clean file pages (the library's code) are shared.
const privateMb = () => [...fs.readFileSync('/proc/self/smaps_rollup', 'utf8').matchAll(/^Private_Dirty:\s+(\d+)/gm)]
  .reduce((sum, m) => sum + Number(m[1]), 0) / 1024;
const barePrivate = privateMb();
const path = require('node:path');
const tasker = require('../../bindings/node');

const rssMb = () => {
  if (global.gc) global.gc();
  return process.memoryUsage().rss / 1048576;
};

class Noop extends tasker.StepHandler {
  async process() {
    return null;
  }
}

async function main() {
  const checkpoints = (process.argv[2] || '10000,100000').split(',').map(Number);
  const out = { language: `Node ${process.versions.node}`, bare, bare_private: barePrivate };
  const engine = new tasker.Engine({ concurrency: 1, retention: { maxFinishedTasks: 500 } });
  try {
    await engine.registerTemplate(fs.readFileSync(path.join(__dirname, 'noop.yaml'), 'utf8'));
    engine.registerHandler('Noop', Noop);
    out.open = rssMb();
    out.open_private = privateMb();
    let done = 0;
    out.checkpoints = [];
    for (const target of checkpoints) {
      const start = process.hrtime.bigint();
      for (let i = done; i < target; i += 1) {
        const outcome = await engine.handle((await engine.createTask('noop', { namespace: 'bench' })).uuid);
        if (outcome.action !== 'complete') throw new Error(`task ended with ${outcome.action}`);
      }
      const seconds = Number(process.hrtime.bigint() - start) / 1e9;
      out.checkpoints.push({ tasks: target, rss: rssMb(), private: privateMb(), us_per_step: (seconds * 1e6) / ((target - done) * 8),
        v8_heap_total: process.memoryUsage().heapTotal / 1048576,
        // V8's young generation (two semi-spaces): 2 MB as started, 32 MB once grown to its maximum. (node:v8 is
        // required here, after the opening is measured: requiring it costs RSS of its own.)
        v8_new_space: require('node:v8').getHeapSpaceStatistics().find((space) => space.space_name === 'new_space').space_size / 1048576 });
      done = target;
    }
    out.memory = (await engine.health()).memory;
  } finally {
    await engine.close();
  }
  process.stdout.write(`${JSON.stringify(out)}\n`);
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
