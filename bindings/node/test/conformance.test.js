'use strict';
// The shared, language-neutral fixtures in tests/conformance, run through the Node binding.
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { tasker, CONFORMANCE, track } = require('./helpers');

const scripted = (script) => class extends tasker.StepHandler {
  async process(ctx) {
    if (!script) return { ok: true };
    const behaviour = script[Math.min(ctx.step.attempt, script.length) - 1];
    if (behaviour.fail) {
      if (behaviour.fail.permanent) throw new tasker.PermanentError(behaviour.fail.message);
      throw new tasker.RetryableError(behaviour.fail.message, { retryAfter: behaviour.fail.retry_after_seconds });
    }
    return behaviour.return;
  }
};

const dir = path.join(CONFORMANCE, 'fixtures');
for (const file of fs.readdirSync(dir).filter((f) => f.endsWith('.json')).sort()) {
  const fixture = JSON.parse(fs.readFileSync(path.join(dir, file), 'utf8'));
  test(fixture.name, async (t) => {
    const engine = track(t, new tasker.Engine(fixture.engine_config));
    const template = await engine.registerTemplate(fs.readFileSync(path.join(CONFORMANCE, 'templates', fixture.template), 'utf8'));
    const task = await engine.createTask(template.name, { namespace: template.namespace, context: fixture.context });
    for (const step of (await engine.getTask(task.uuid)).steps) engine.registerHandler(step.handler, scripted(fixture.handlers[step.name]));
    const delays = [];
    let outcome = await engine.handle(task.uuid);
    while (outcome.action === 'reenqueue') {
      delays.push(outcome.delaySeconds);
      engine.advanceClock(outcome.delaySeconds);
      outcome = await engine.handle(task.uuid);
    }
    const done = await engine.getTask(task.uuid);
    assert.equal(done.state, fixture.expect.task_state);
    for (const [name, want] of Object.entries(fixture.expect.steps)) {
      const step = done.step(name);
      assert.deepEqual([name, step.state, step.attempts], [name, want.state, want.attempts]);
      if ('result' in want) assert.deepEqual(step.result, want.result);
    }
    assert.deepEqual(delays, fixture.expect.reenqueue_delays);
  });
}
