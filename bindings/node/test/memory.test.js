'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const { tasker, registerOrder, createOrder, track } = require('./helpers');

test('no memory growth over 10,000 handled tasks', async (t) => {
  const engine = track(t, new tasker.Engine({ retention: { max_finished_tasks: 500 } }));
  await registerOrder(engine);
  const run = async (count) => {
    for (let i = 0; i < count; i += 1) assert.equal((await engine.handle((await createOrder(engine)).uuid)).action, 'complete');
  };
  await run(2000);
  global.gc?.();
  const before = process.memoryUsage().rss;
  await run(10_000);
  global.gc?.();
  const growthMb = (process.memoryUsage().rss - before) / 1024 / 1024;
  assert.ok(growthMb < 30, `RSS grew by ${growthMb.toFixed(1)} MB`);
});
