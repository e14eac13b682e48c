'use strict';
// Run by test/memory.test.js in a process of its own (node --expose-gc, V8's young generation pinned to one size,
// so that V8 resizing its heap to the load does not read as growth). Runs a scenario in batches until RSS has
// settled, then `measured` more times, and prints JSON: the RSS samples (MB, one per batch, each after a full V8
// collection), how many runs it took to settle (null if it never did within maxWarmupBatches), the settled level,
// the level after the measured runs, the V8 heap in use at both points, and the library's health().memory.
//
//   node --expose-gc --min-semi-space-size=16 --max-semi-space-size=16 memory-probe.js tasks|engines|answers \
//     <batch> <window> <maxWarmupBatches> <measured>
//
// tasks:   handle an order_fulfillment task to completion on one engine (retention 500)
// engines: open an engine, subscribe to it, close it
// answers: read one answer from the library (a pull of an empty subscription: the cheapest call that returns bytes)
//
// Settled: the highest RSS of the last `window` batches is within SETTLE_MB of the highest before them (the highest,
// because the library's GC makes RSS a saw-tooth of a few MB; a leak lifts the top of it).
const { tasker, registerOrder, createOrder } = require('./helpers');

const SETTLE_MB = 1;
const [scenario, batch, window, maxWarmupBatches, measured] = [process.argv[2], ...process.argv.slice(3, 7).map(Number)];

const mb = (bytes) => bytes / 1048576;

/** After a full V8 collection and a turn of the event loop (FinalizationRegistry callbacks run as tasks), twice. */
async function sample() {
  for (let i = 0; i < 2; i += 1) {
    global.gc();
    await new Promise((resolve) => setImmediate(resolve));
  }
  return { rss: mb(process.memoryUsage().rss), heapUsed: mb(process.memoryUsage().heapUsed) };
}

async function main() {
  const engine = new tasker.Engine({ retention: { maxFinishedTasks: 500 } });
  await registerOrder(engine);
  const subscription = scenario === 'answers' ? engine.subscribe('nothing.matches.this') : null;
  const runs = {
    engines: async (n) => {
      for (let i = 0; i < n; i += 1) {
        const other = new tasker.Engine();
        other.subscribe('*');
        await other.close();
      }
    },
    answers: async (n) => {
      for (let i = 0; i < n; i += 1) subscription.pull();
    },
    tasks: async (n) => {
      for (let i = 0; i < n; i += 1) {
        const outcome = await engine.handle((await createOrder(engine)).uuid);
        if (outcome.action !== 'complete') throw new Error(`task ${i} ended with ${outcome.action}`);
      }
    },
  };
  const run = runs[scenario];
  const top = (samples) => Math.max(...samples.map((s) => s.rss));
  const warmup = [];
  let settledAfter = null;
  while (warmup.length < maxWarmupBatches) {
    await run(batch);
    warmup.push(await sample());
    if (warmup.length > window && top(warmup.slice(-window)) - top(warmup.slice(0, -window)) <= SETTLE_MB) {
      settledAfter = warmup.length * batch;
      break;
    }
  }
  const measure = [];
  for (let i = 0; i < Math.max(Math.floor(measured / batch), window); i += 1) {
    await run(batch);
    measure.push(await sample());
  }
  const memory = (await engine.health()).memory;
  await engine.close();
  process.stdout.write(JSON.stringify({
    warmup: warmup.map((s) => s.rss),
    measure: measure.map((s) => s.rss),
    settledAfter,
    settled: top(warmup.slice(-window)),
    after: top(measure.slice(-window)),
    heapUsedBefore: warmup[warmup.length - 1].heapUsed,
    heapUsedAfter: measure[measure.length - 1].heapUsed,
    measuredRuns: measure.length * batch,
    memory,
  }));
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
