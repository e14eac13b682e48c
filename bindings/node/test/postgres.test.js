'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const { tasker, registerOrder, createOrder, track } = require('./helpers');

const URL_ = process.env.TASKER_TEST_DATABASE_URL;

test('PostgreSQL mode: a workflow completes and another engine sees it', { skip: !URL_ && 'TASKER_TEST_DATABASE_URL is not set' }, async (t) => {
  const schema = `js_${crypto.randomBytes(6).toString('hex')}`;
  const engine = track(t, new tasker.Engine({ databaseUrl: URL_, schema }));
  await registerOrder(engine);
  const task = await createOrder(engine);
  assert.equal((await engine.handle(task.uuid)).action, 'complete');
  const other = track(t, new tasker.Engine({ databaseUrl: URL_, schema }));
  const seen = await other.getTask(task.uuid);
  assert.equal(seen.state, 'complete');
  assert.deepEqual(seen.steps.map((s) => s.attempts), [1, 1, 1, 1]);
});
