'use strict';
// Run by test/memory.test.js in a process of its own with V8's own young-generation sizing (no semi-space flags):
// handles `tasks` tasks of eight no-op steps through engine.handle and prints JSON: V8's new_space size (MB) at the
// end, how many bytes a task left in the old generation (what scavenges promoted), and how many full collections ran.
const { PerformanceObserver, constants } = require('node:perf_hooks');
const v8 = require('node:v8');
const tasker = require('../..');

const TEMPLATE = JSON.stringify({ name: 'noop', namespace_name: 'probe', version: '1.0.0',
  steps: Array.from({ length: 8 }, (_, i) => ({ name: `s${i}`, handler: { callable: 'Noop' },
    dependencies: i === 0 ? [] : [`s${i - 1}`] })) });
const space = (name) => v8.getHeapSpaceStatistics().find((s) => s.space_name === name);

async function main() {
  const tasks = Number(process.argv[2]);
  const engine = new tasker.Engine({ concurrency: 1, retention: { maxFinishedTasks: 500 } });
  await engine.registerTemplate(TEMPLATE);
  engine.registerHandler('Noop', class extends tasker.StepHandler {
    async process() {
      return null;
    }
  });
  const run = async (n) => {
    for (let i = 0; i < n; i += 1) await engine.handle((await engine.createTask('noop', { namespace: 'probe' })).uuid);
  };
  await run(100); // the code paths warm
  let major = 0;
  const observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) if (entry.detail?.kind === constants.NODE_PERFORMANCE_GC_MAJOR) major += 1;
  });
  observer.observe({ entryTypes: ['gc'] });
  const oldBefore = space('old_space').space_used_size;
  await run(tasks);
  const oldAfter = space('old_space').space_used_size;
  await new Promise((resolve) => setImmediate(resolve)); // gc entries are delivered as tasks
  observer.disconnect();
  await engine.close();
  process.stdout.write(`${JSON.stringify({ newSpaceMb: space('new_space').space_size / 1048576,
    oldBytesPerTask: (oldAfter - oldBefore) / tasks, majorCollections: major })}\n`);
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
