'use strict';
// tasker.ApiStepHandler against a real HTTP server on a loopback port; bypassSteps and requestedAt.
const test = require('node:test');
const assert = require('node:assert/strict');
const http = require('node:http');
const { tasker, manualEngine } = require('./support/helpers');

const TEMPLATE = `
name: api/cart
version: 1.0.0
step_templates:
  - name: fetch_cart
    handler_class: FetchCart
    handler_config: { url: "URL", params: { api_key: k-123 } }
  - name: notify
    handler_class: Notify
    depends_on_step: fetch_cart
    skippable: true
`;

/** Answers each path with its next scripted [status, headers, body]; records requests. */
async function server(t, routes) {
  const hits = {};
  const requests = [];
  const httpServer = http.createServer((req, res) => {
    const url = new URL(req.url, 'http://x');
    requests.push([req.method, url.pathname, Object.fromEntries(url.searchParams)]);
    const answers = routes[url.pathname] ?? [[404, {}, 'no route']];
    const [status, headers, body] = answers[Math.min(hits[url.pathname] ?? 0, answers.length - 1)];
    hits[url.pathname] = (hits[url.pathname] ?? 0) + 1;
    res.writeHead(status, headers);
    res.end(typeof body === 'string' ? body : JSON.stringify(body));
  });
  await new Promise((resolve) => httpServer.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise((resolve) => httpServer.close(resolve)));
  return { url: (path) => `http://127.0.0.1:${httpServer.address().port}${path}`, requests };
}

class FetchCart extends tasker.ApiStepHandler {
  async call(ctx, connection) { return connection.get('carts', { id: ctx.task.context.cart_id }); }
}

async function run(t, routes, fields = {}) {
  const stub = await server(t, routes);
  const engine = manualEngine(t);
  await engine.registerTemplate(TEMPLATE.replace('URL', stub.url('/api')));
  engine.registerHandler('FetchCart', FetchCart);
  engine.registerHandler('Notify', () => ({ notified: true }));
  const task = await engine.createTask('api/cart', { namespace: 'default', context: { cart_id: 12 }, ...fields });
  const outcome = await engine.handle(task.uuid);
  const view = await engine.getTask(task.uuid);
  return { stub, engine, task, outcome, view };
}

test('a 2xx JSON body is the result and config params are sent', async (t) => {
  const { stub, outcome, view } = await run(t, { '/api/carts': [[200, { 'content-type': 'application/json' }, { items: [1, 2] }]] });
  assert.equal(outcome.action, 'complete');
  assert.deepEqual(view.step('fetch_cart').result, { items: [1, 2] });
  assert.deepEqual(stub.requests, [['GET', '/api/carts', { api_key: 'k-123', id: '12' }]]);
});

test('429 with Retry-After is a retryable failure after that delay', async (t) => {
  const { engine, task, outcome, view } = await run(t, { '/api/carts': [[429, { 'retry-after': '9' }, 'slow'], [200, {}, { ok: 1 }]] });
  assert.deepEqual([outcome.action, outcome.delaySeconds], ['reenqueue', 9]);
  const step = view.step('fetch_cart');
  assert.equal(step.state, 'waiting_for_retry');
  assert.match(step.error.message, /^HTTP 429 from GET http:\/\/127\.0\.0\.1:\d+\/api\/carts: backing off$/);
  await engine.advanceClock(9);
  assert.equal((await engine.handle(task.uuid)).action, 'complete');
});

for (const [status, state] of [[404, 'error'], [422, 'error'], [500, 'waiting_for_retry'], [503, 'waiting_for_retry']]) {
  test(`HTTP ${status} leaves the step ${state}`, async (t) => {
    const { view } = await run(t, { '/api/carts': [[status, {}, 'nope']] });
    assert.deepEqual([view.step('fetch_cart').state, view.step('fetch_cart').attempts], [state, 1]);
  });
}

test('bypassSteps and requestedAt pass through to the engine', async (t) => {
  const when = new Date(Date.UTC(2026, 0, 31, 10));
  const { outcome, view } = await run(t, { '/api/carts': [[200, {}, { ok: 1 }]] }, { bypassSteps: ['notify'], requestedAt: when });
  assert.equal(outcome.action, 'complete');
  assert.deepEqual([view.step('notify').state, view.step('notify').attempts], ['complete', 0]);
  assert.equal(new Date(view.raw.requested_at).getTime(), when.getTime());
});
