'use strict';
// The runner for the shared fixtures of tests/conformance (see its README, "the runner every implementation
// writes"), through the binding's own handle(): one scripted handler per step name, registered under the names of
// `handlers_present` (default: every handler of the template), re-enqueue delays followed on the manual clock.
const fs = require('node:fs');
const path = require('node:path');
const assert = require('node:assert/strict');
const native = require('../../lib/native');
const { tasker, CONFORMANCE, handleToEnd } = require('./helpers');

const FIXTURES = path.join(CONFORMANCE, 'fixtures');
const CATALOG = JSON.parse(fs.readFileSync(path.join(CONFORMANCE, 'events.json'), 'utf8'));

/** The binding camelCases the engine's own field names (not the keys inside `data`): map the catalog's the same way. */
const camel = (name) => name.replace(/_([a-z])/g, (_, c) => c.toUpperCase());

/** Checks every event against tests/conformance/events.json; returns the task.* and step.* counts by name. */
function checkEvents(events) {
  const counts = {};
  for (const e of events) {
    const entry = CATALOG.events[e.name];
    assert.ok(entry, `${e.name} is not in the catalog`);
    for (const field of [...CATALOG.common, ...entry.fields]) assert.ok(e[camel(field)] != null, `${e.name} has no ${field}`);
    for (const key of entry.data ?? []) assert.ok(e.data?.[key] != null, `${e.name} has no data.${key}`);
    if (e.error != null) for (const field of CATALOG.error_fields) assert.ok(e.error[camel(field)] != null, `${e.name} has no error.${field}`);
    if (/^(task|step)\./.test(e.name)) counts[e.name] = (counts[e.name] ?? 0) + 1;
  }
  return counts;
}

/** Every fixture, parsed, in file order. */
const fixtures = () => fs.readdirSync(FIXTURES).filter((f) => f.endsWith('.json')).sort()
  .map((f) => JSON.parse(fs.readFileSync(path.join(FIXTURES, f), 'utf8')));

/** `depth` arrays nested in one another: [[[...]]]. */
const nested = (depth) => Array.from({ length: depth - 1 }).reduce((inner) => [inner], []);

/** Plays the fixture's script for the claimed step: one entry per attempt, the last one repeating. */
class Scripted extends tasker.StepHandler {
  constructor(engine, handlers) {
    super();
    this.engine = engine;
    this.handlers = handlers;
  }

  async process(ctx) {
    const script = this.handlers[ctx.step.name];
    if (!script) return { ok: true };
    const behaviour = script[Math.min(ctx.step.attempt, script.length) - 1];
    if (behaviour.advance_seconds) this.engine.advanceClock(behaviour.advance_seconds); // a handler that ran that long
    if (behaviour.heartbeat) {
      const lease = await ctx.heartbeat(3600);
      assert.ok(ctx.deadline === null || Date.parse(lease) <= ctx.deadline.getTime(), `a heartbeat extended the lease to ${lease}, past the deadline ${ctx.deadline?.toISOString()}`);
    }
    if (behaviour.return_nested) return nested(behaviour.return_nested);
    if (!behaviour.fail) return behaviour.return;
    const { message, permanent = false, retry_after_seconds: retryAfter } = behaviour.fail;
    if (permanent) throw new tasker.PermanentError(message);
    throw new tasker.RetryableError(message, { retryAfter });
  }
}

/** Runs `work`, counting the tasker_steps_claim calls it makes (sync or async); resolves with its value and the count. */
async function countingClaims(work) {
  const { jsonSync, jsonAsync } = native;
  let claimCalls = 0;
  native.jsonSync = (name, ...rest) => { if (name === 'stepsClaim') claimCalls += 1; return jsonSync(name, ...rest); };
  native.jsonAsync = (name, ...rest) => { if (name === 'stepsClaim') claimCalls += 1; return jsonAsync(name, ...rest); };
  try {
    return { ...(await work()), claimCalls };
  } finally {
    Object.assign(native, { jsonSync, jsonAsync });
  }
}

/** Runs one fixture on `engine` (opened with the fixture's engine_config) and asserts its expectations. */
async function runFixture(engine, fixture) {
  await engine.ready();
  const subscription = engine.subscribe('*');
  const template = await engine.registerTemplate({ path: path.join(CONFORMANCE, 'templates', fixture.template) });
  const task = await engine.createTask(template.name, { namespace: template.namespace, context: fixture.context });
  const scripted = new Scripted(engine, fixture.handlers);
  for (const name of fixture.handlers_present ?? task.steps.map((s) => s.handler)) engine.registerHandler(name, scripted);

  const { delays, outcome, claimCalls } = await countingClaims(() => handleToEnd(engine, task.uuid));

  const done = await engine.getTask(task.uuid);
  assert.equal(done.state, fixture.expect.task_state, 'task state');
  for (const [name, want] of Object.entries(fixture.expect.steps)) {
    const step = done.step(name);
    assert.ok(step, `step ${name} exists`);
    assert.deepEqual({ name, state: step.state, attempts: step.attempts }, { name, state: want.state, attempts: want.attempts });
    if ('result' in want) assert.deepEqual(step.result, want.result, `result of ${name}`);
    if ('error_type' in want) assert.equal(step.error?.errorType, want.error_type, `error type of ${name}`);
  }
  assert.deepEqual(delays, fixture.expect.reenqueue_delays, 're-enqueue delays');
  if ('waiting_for_handlers' in fixture.expect) {
    assert.deepEqual(Object.fromEntries(outcome.waitingForHandlers.map((w) => [w.handler, w.steps])), fixture.expect.waiting_for_handlers);
  }
  if ('claim_calls' in fixture.expect) assert.equal(claimCalls, fixture.expect.claim_calls, 'tasker_steps_claim calls');

  const events = [];
  for (let batch = subscription.pull(); batch.length > 0; batch = subscription.pull()) events.push(...batch);
  assert.equal(subscription.dropped, 0, 'dropped events');
  subscription.close();
  assert.deepEqual(checkEvents(events), fixture.expect.events, 'task.* and step.* event counts');
}

module.exports = { fixtures, runFixture };
