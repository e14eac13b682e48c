'use strict';
// Run by test/memory.test.js in a process of its own (node --expose-gc, V8's young generation pinned to one size,
// so that V8 resizing its heap to the load does not read as growth). Runs a scenario `warmup` times, samples,
// runs it `count` more times, samples again, and prints the two samples as JSON.
//
//   node --expose-gc --min-semi-space-size=16 --max-semi-space-size=16 memory-probe.js tasks|engines <warmup> <count>
//
// tasks:   handle an order_fulfillment task to completion on one engine (retention 500)
// engines: open an engine, subscribe to it, close it
const { tasker, registerOrder, createOrder } = require('./helpers');

const [scenario, warmup, count] = [process.argv[2], Number(process.argv[3]), Number(process.argv[4])];

/** Resident memory (MB) once settled: the lowest of three samples, each after a full V8 collection and a pause. */
async function sample() {
  const rss = [];
  for (let i = 0; i < 3; i += 1) {
    global.gc();
    await new Promise((resolve) => setTimeout(resolve, 50));
    rss.push(process.memoryUsage().rss / 1048576);
  }
  return { rss: Math.min(...rss), heapUsed: process.memoryUsage().heapUsed / 1048576 };
}

async function scenarioRunner() {
  if (scenario === 'engines') {
    return async (n) => {
      for (let i = 0; i < n; i += 1) {
        const engine = new tasker.Engine();
        engine.subscribe('*');
        await engine.close();
      }
    };
  }
  const engine = new tasker.Engine({ retention: { maxFinishedTasks: 500 } });
  await registerOrder(engine);
  return async (n) => {
    for (let i = 0; i < n; i += 1) {
      const outcome = await engine.handle((await createOrder(engine)).uuid);
      if (outcome.action !== 'complete') throw new Error(`task ${i} ended with ${outcome.action}`);
    }
  };
}

async function main() {
  const run = await scenarioRunner();
  await run(warmup);
  const before = await sample();
  await run(count);
  const after = await sample();
  process.stdout.write(JSON.stringify({ before, after }));
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
