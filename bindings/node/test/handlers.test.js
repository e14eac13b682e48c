'use strict';
// StepHandler semantics: what a handler receives, what its return value and its errors become.
const test = require('node:test');
const assert = require('node:assert/strict');
const { tasker, ORDER_CONTEXT, handler, registerOrder, createOrder, oneStep, manualEngine, sleep } = require('./support/helpers');

/** Registers the one-step template `echo` with `Handler` and handles one task; resolves with its step `s`. */
async function runOne(t, Handler, { context = {}, retry = '', engineOptions = {} } = {}) {
  const engine = manualEngine(t, engineOptions);
  await engine.registerTemplate(oneStep('echo', 'Echo', retry));
  engine.registerHandler('Echo', Handler);
  const task = await engine.createTask('echo', { namespace: 'js', context });
  const outcome = await engine.handle(task.uuid);
  return { engine, task, outcome, step: (await engine.getTask(task.uuid)).step('s') };
}

test('process receives the task, the step and a claim token', async (t) => {
  let seen;
  const engine = manualEngine(t);
  await registerOrder(engine);
  engine.registerHandler('ReserveInventory', handler((ctx) => { seen = ctx; }));
  const task = await createOrder(engine, { tags: ['vip'] });
  await engine.handle(task.uuid);
  assert.ok(seen instanceof tasker.StepContext);
  assert.deepEqual(seen.task, { uuid: task.uuid, namespace: 'fulfillment', name: 'order_fulfillment', version: '1.0.0',
    context: ORDER_CONTEXT, tags: ['vip'] });
  assert.deepEqual([seen.step.name, seen.step.handler, seen.step.attempt, seen.step.maxAttempts],
    ['reserve_inventory', 'ReserveInventory', 1, 3]);
  assert.deepEqual(seen.step.initialization, { warehouse: 'main' });
  assert.equal(typeof seen.claimToken, 'string');
  assert.deepEqual(Object.keys(seen.dependencyResults), ['validate_order']);
});

test('the returned value is stored as the step result', async (t) => {
  const { step } = await runOne(t, handler(() => ({ ok: true, n: 1.5, list: [1, 'two', null] })));
  assert.deepEqual([step.state, step.result], ['complete', { ok: true, n: 1.5, list: [1, 'two', null] }]);
});

test('a handler that returns nothing stores null', async (t) => {
  const { step } = await runOne(t, handler(() => {}));
  assert.deepEqual([step.state, step.result], ['complete', null]);
});

test('a synchronous process method works like an async one', async (t) => {
  class Sync extends tasker.StepHandler {
    process(ctx) { return `sync ${ctx.step.name}`; }
  }
  const { step } = await runOne(t, Sync);
  assert.equal(step.result, 'sync s');
});

test('a plain function can be registered as a handler', async (t) => {
  const { step } = await runOne(t, async (ctx) => ({ attempt: ctx.step.attempt }));
  assert.deepEqual(step.result, { attempt: 1 });
});

test('a registered instance is shared by every attempt; a class gets a new instance per attempt', async (t) => {
  const instances = new Set();
  class Counting extends tasker.StepHandler {
    async process() { instances.add(this); return null; }
  }
  const engine = manualEngine(t);
  await engine.registerTemplate('name: two\nnamespace_name: js\nversion: 1.0.0\nsteps:\n' +
    '  - name: a\n    handler: { callable: PerAttempt }\n  - name: b\n    handler: { callable: Shared }\n' +
    '  - name: c\n    handler: { callable: Shared }\n');
  const shared = new Counting();
  engine.registerHandler('PerAttempt', Counting).registerHandler('Shared', shared);
  await engine.handle((await engine.createTask('two', { namespace: 'js' })).uuid);
  assert.equal(instances.size, 2); // one new PerAttempt instance + the shared one
  assert.ok(instances.has(shared));
});

test('processResults transforms the output before it is stored', async (t) => {
  class Doubles extends tasker.StepHandler {
    async process() { return 21; }
    processResults(output) { return output * 2; }
  }
  const { step } = await runOne(t, Doubles);
  assert.equal(step.result, 42);
});

test('an async processResults is awaited', async (t) => {
  class Later extends tasker.StepHandler {
    async process() { return 'a'; }
    async processResults(output) { await sleep(5); return `${output}b`; }
  }
  const { step } = await runOne(t, Later);
  assert.equal(step.result, 'ab');
});

test('a thenable returned by processResults is awaited; other values are stored as they are', async (t) => {
  class Thenable extends tasker.StepHandler {
    process() { return 'a'; }
    processResults(output) { return { then: (resolve) => resolve(`${output}-then`) }; }
  }
  assert.equal((await runOne(t, Thenable)).step.result, 'a-then');
  class Plain extends tasker.StepHandler {
    process() { return 'a'; }
    processResults(output) { return [output, { nested: true }, 0]; }
  }
  assert.deepEqual((await runOne(t, Plain)).step.result, ['a', { nested: true }, 0]);
  assert.equal((await runOne(t, handler(() => 0))).step.result, 0);
  assert.equal((await runOne(t, handler(() => false))).step.result, false);
});

test('handle runs with the handlers registered when it was called; a handler registered meanwhile serves the next one', async (t) => {
  const engine = manualEngine(t);
  let release;
  const gate = new Promise((resolve) => { release = resolve; });
  engine.registerHandler('Other', handler(async () => { await gate; return 'other'; }));
  await engine.registerTemplate('name: two_handlers\nnamespace_name: js\nversion: 1.0.0\nsteps:\n' +
    '  - name: first\n    handler: { callable: Other }\n  - name: then\n    handler: { callable: Late }\n    dependencies: [first]\n');
  const task = await engine.createTask('two_handlers', { namespace: 'js' });
  const running = engine.handle(task.uuid);
  await sleep(5); // the step `first` is running, in the handle that started without Late
  engine.registerHandler('Late', handler(() => 'late'));
  release();
  const outcome = await running;
  assert.deepEqual([outcome.action, outcome.waitingForHandlers], ['reenqueue', [{ handler: 'Late', steps: ['then'] }]]);
  const next = await engine.handle(task.uuid);
  assert.equal(next.action, 'complete');
  assert.equal((await engine.getTask(task.uuid)).step('then').result, 'late');
});

test('a thrown error becomes a retryable failure with its name, message and stack', async (t) => {
  const { outcome, step } = await runOne(t, handler(() => { throw new RangeError('bad sku'); }));
  assert.equal(outcome.action, 'reenqueue');
  assert.deepEqual([step.state, step.error.errorType, step.error.message, step.error.permanent],
    ['waiting_for_retry', 'RangeError', 'bad sku', false]);
  assert.ok(step.error.backtrace.some((frame) => frame.includes('handlers.test.js')), step.error.backtrace.join('\n'));
});

test('throwing something that is not an Error is a failure with its text as the message', async (t) => {
  const { step } = await runOne(t, handler(() => { throw 'plain string'; }));
  assert.deepEqual([step.error.errorType, step.error.message], ['Error', 'plain string']);
});

test('RetryableError with retryAfter sets the re-enqueue delay', async (t) => {
  const { outcome, step } = await runOne(t, handler(() => { throw new tasker.RetryableError('busy', { retryAfter: 12 }); }));
  assert.deepEqual([outcome.action, outcome.delaySeconds], ['reenqueue', 12]);
  assert.equal(step.error.errorType, 'RetryableError');
});

test('RetryableError refuses a negative retryAfter', () => {
  assert.throws(() => new tasker.RetryableError('busy', { retryAfter: -1 }), RangeError);
});

test('without retryAfter the backoff is exponential from the template base', async (t) => {
  const engine = manualEngine(t);
  await engine.registerTemplate(oneStep('flaky', 'Flaky', '    retry: { retryable: true, max_attempts: 3, backoff_base_seconds: 2 }\n'));
  engine.registerHandler('Flaky', handler(() => { throw new Error('flaky'); }));
  const task = await engine.createTask('flaky', { namespace: 'js' });
  const delays = [];
  let outcome = await engine.handle(task.uuid);
  while (outcome.action === 'reenqueue') {
    delays.push(outcome.delaySeconds);
    engine.advanceClock(outcome.delaySeconds);
    outcome = await engine.handle(task.uuid);
  }
  assert.deepEqual([delays, outcome.action], [[2, 4], 'error']);
});

test('PermanentError fails the step and the task at once', async (t) => {
  const { outcome, step } = await runOne(t, handler(() => { throw new tasker.PermanentError('card declined'); }));
  assert.deepEqual([outcome.action, outcome.taskState], ['error', 'error']);
  assert.deepEqual([step.state, step.attempts, step.error.permanent, step.error.message], ['error', 1, true, 'card declined']);
});

test('a step whose handler is not registered stays ready; handle resolves with reenqueue naming the handler', async (t) => {
  const engine = manualEngine(t, { missingHandlerRequeueSeconds: 7 });
  await engine.registerTemplate(oneStep('orphan', 'NobodyRegisteredMe'));
  engine.registerHandler('Other', handler(() => null));
  const task = await engine.createTask('orphan', { namespace: 'js' });
  const outcome = await engine.handle(task.uuid);
  assert.deepEqual([outcome.action, outcome.requeueAfterSeconds, outcome.waitingForHandlers],
    ['reenqueue', 7, [{ handler: 'NobodyRegisteredMe', steps: ['s'] }]]);
  const after = await engine.getTask(task.uuid);
  const { state, attempts, error } = after.step('s');
  assert.deepEqual([state, attempts, error], ['pending', 0, null]);
  assert.deepEqual(after.waitingForHandlers, [{ handler: 'NobodyRegisteredMe', steps: ['s'] }]);
});

test('a result with a BigInt is a TypeError step failure naming the property', async (t) => {
  const { step } = await runOne(t, handler(() => ({ total: 10n })));
  assert.equal(step.error.errorType, 'TypeError');
  assert.match(step.error.message, /result of step 's' is not JSON-serializable: property "total" is a bigint/);
});

test('a result holding a function, NaN or a Map is a TypeError step failure', async (t) => {
  for (const bad of [{ f() {} }, [1, NaN], { m: new Map([[1, 2]]) }]) {
    const { step } = await runOne(t, handler(() => bad));
    assert.equal(step.error.errorType, 'TypeError', JSON.stringify(step.error));
  }
});

test('a result with a lone surrogate (not valid Unicode) is a TypeError step failure', async (t) => {
  const { step } = await runOne(t, handler(() => ({ text: 'half \ud83d of an emoji' })));
  assert.equal(step.error.errorType, 'TypeError');
  assert.match(step.error.message, /property "text" has a lone surrogate/);
});

test('an error message with a lone surrogate is stored with a replacement character', async (t) => {
  const { step } = await runOne(t, handler(() => { throw new Error('half \ud83d'); }));
  assert.equal(step.error.message, 'half \ufffd');
});

test('a circular result is a TypeError step failure', async (t) => {
  const loop = {};
  loop.self = loop;
  const { step } = await runOne(t, handler(() => loop));
  assert.equal(step.error.errorType, 'TypeError');
  assert.match(step.error.message, /circular/);
});

test('a result larger than the library accepts (64 MiB) is an InvalidResult step failure', async (t) => {
  const { outcome, step } = await runOne(t, handler(() => 'x'.repeat(65 * 1024 * 1024)));
  assert.equal(outcome.action, 'reenqueue');
  assert.deepEqual([step.state, step.error.errorType], ['waiting_for_retry', 'InvalidResult']);
});

test('a result nested 70 levels (the engine takes 64) is an InvalidResult failure, and handle resolves', async (t) => {
  const deep = Array.from({ length: 69 }).reduce((inner) => [inner], []);
  const { outcome, step } = await runOne(t, handler(() => deep));
  assert.deepEqual([outcome.action, outcome.requeueAfterSeconds], ['reenqueue', 1]);
  assert.deepEqual([step.state, step.attempts, step.error.errorType, step.error.permanent], ['waiting_for_retry', 1, 'InvalidResult', false]);
  assert.match(step.error.message, /^the engine refused the step's result: .*nests deeper than 64 levels/);
});

test('an exception in processResults is a step failure like any other', async (t) => {
  class Summarizes extends tasker.StepHandler {
    async process() { return 'raw'; }
    processResults() { throw new SyntaxError('cannot summarize'); }
  }
  const { outcome, step } = await runOne(t, Summarizes);
  assert.equal(outcome.action, 'reenqueue');
  assert.deepEqual([step.error.errorType, step.error.message], ['SyntaxError', 'cannot summarize']);
});

test('a handler that never overrides process fails with a clear message', async (t) => {
  class Empty extends tasker.StepHandler {}
  const { step } = await runOne(t, Empty);
  assert.equal(step.error.message, 'Empty.process is not implemented');
});

test('heartbeat extends the lease of a long-running step', async (t) => {
  let before;
  let after;
  const { step } = await runOne(t, handler(async (ctx) => {
    before = ctx.leaseExpiresAt;
    after = await ctx.heartbeat(3600);
    return 'done';
  }), { engineOptions: { leaseSeconds: 60 } });
  assert.equal(step.state, 'complete');
  assert.ok(Date.parse(after) > Date.parse(before), `${after} > ${before}`);
});

test('heartbeat extends the lease up to the step deadline, never past it', async (t) => {
  let seen;
  const { step } = await runOne(t, handler(async (ctx) => {
    const before = ctx.leaseExpiresAt;
    const after = await ctx.heartbeat(3600);
    seen = { before: Date.parse(before), after: Date.parse(after), deadline: ctx.deadline.getTime() };
    return 'done';
  }), { retry: '    timeout_seconds: 30\n', engineOptions: { leaseSeconds: 5 } });
  assert.equal(step.state, 'complete');
  assert.deepEqual([seen.before + 25_000, seen.after], [seen.deadline, seen.deadline]);
});

test('context.deadline is the claim time plus timeout_seconds, and null without a timeout', async (t) => {
  const seen = [];
  const engine = manualEngine(t); // the clock stands still: the claim time is the creation time
  await engine.registerTemplate(oneStep('timed', 'Timed', '    timeout_seconds: 90\n'));
  await engine.registerTemplate(oneStep('untimed', 'Timed'));
  engine.registerHandler('Timed', handler((ctx) => { seen.push([ctx.deadline, ctx.signal.aborted]); }));
  const timed = await engine.createTask('timed', { namespace: 'js' });
  await engine.handle(timed.uuid);
  await engine.handle((await engine.createTask('untimed', { namespace: 'js' })).uuid);
  assert.ok(seen[0][0] instanceof Date);
  assert.deepEqual([seen[0][0].getTime() - Date.parse(timed.createdAt), seen[0][1]], [90_000, false]);
  assert.deepEqual(seen[1], [null, false]);
});

test('heartbeat after the deadline passed rejects with StaleClaimError', async (t) => {
  let rejected;
  const engine = manualEngine(t);
  await engine.registerTemplate(oneStep('late', 'Late', '    timeout_seconds: 10\n'));
  engine.registerHandler('Late', handler(async (ctx) => {
    engine.advanceClock(11);
    rejected = await ctx.heartbeat().catch((e) => e);
  }));
  await engine.handle((await engine.createTask('late', { namespace: 'js' })).uuid);
  assert.ok(rejected instanceof tasker.StaleClaimError, String(rejected));
});

// Real time: the engine's system clock and a 1 s timeout.
const ONE_SECOND = '    timeout_seconds: 1\n    retry: { retryable: true, max_attempts: 2 }\n';

test('a handler that ignores context.signal past timeout_seconds still fails as a Timeout', async (t) => {
  const { outcome, step } = await runOne(t, handler(async () => { await sleep(1300); return 'late'; }),
    { retry: ONE_SECOND, engineOptions: { clock: 'system' } });
  assert.equal(outcome.action, 'reenqueue');
  assert.deepEqual([step.state, step.attempts, step.result, step.error.errorType, step.error.permanent],
    ['waiting_for_retry', 1, null, 'Timeout', false]);
});

test('a handler listening to context.signal is aborted at the deadline', async (t) => {
  let reason;
  const started = Date.now();
  const { step } = await runOne(t, handler(async (ctx) => {
    try {
      await require('node:timers/promises').setTimeout(10_000, null, { signal: ctx.signal });
    } finally {
      reason = ctx.signal.reason;
    }
  }), { retry: ONE_SECOND, engineOptions: { clock: 'system' } });
  const elapsed = Date.now() - started;
  assert.ok(elapsed >= 1000 && elapsed < 5000, `aborted after ${elapsed} ms`);
  assert.ok(reason instanceof tasker.TimeoutError, String(reason));
  assert.deepEqual([step.state, step.error.errorType], ['waiting_for_retry', 'Timeout']);
});

test('registerHandler refuses what is not a handler', (t) => {
  const engine = manualEngine(t);
  assert.throws(() => engine.registerHandler('X', {}), tasker.ValidationError);
  assert.throws(() => engine.registerHandler('X', class NotAHandler {}), /must be a tasker.StepHandler subclass/);
  assert.throws(() => engine.registerHandler('', () => null), /non-empty string/);
});

test('a report that cannot be encoded fails handle only after the other steps in flight are reported', async (t) => {
  const engine = manualEngine(t, { concurrency: 2 });
  await engine.registerTemplate('name: pair\nnamespace_name: js\nversion: 1.0.0\nsteps:\n'
    + '  - name: a\n    handler: { callable: Unencodable }\n  - name: b\n    handler: { callable: Slow }\n');
  // Set directly, past setAttribute's checks: the report's request cannot be written as JSON.
  engine.registerHandler('Unencodable', handler((ctx) => { ctx.attributes.big = 1n; }));
  engine.registerHandler('Slow', handler(async () => { await sleep(20); return { ok: true }; }));
  const task = await engine.createTask('pair', { namespace: 'js' });
  await assert.rejects(engine.handle(task.uuid), TypeError);
  const b = (await engine.getTask(task.uuid)).step('b');
  assert.deepEqual([b.state, b.result], ['complete', { ok: true }]);
});
