'use strict';
// examples/node/express_app.js: /health and an order workflow over real HTTP, on an ephemeral port.
const test = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');
const { tasker, REPO } = require('./support/helpers');
const { buildApp } = require(path.join(REPO, 'examples', 'node', 'express_app.js'));

async function withServer(body) {
  const engine = new tasker.Engine();
  const app = await buildApp(engine);
  const server = await new Promise((resolve) => { const s = app.listen(0, '127.0.0.1', () => resolve(s)); });
  const base = `http://127.0.0.1:${server.address().port}`;
  try {
    return await body(base);
  } finally {
    await new Promise((resolve) => server.close(resolve));
    await engine.close();
  }
}

const ORDER = { order: { id: 7, total: 20, items: [{ sku: 'A', quantity: 2, price: 10 }] } };

test('GET /health is 200 with the engine health as JSON', () => withServer(async (base) => {
  const res = await fetch(`${base}/health`);
  assert.equal(res.status, 200);
  const health = await res.json();
  assert.equal(health.healthy, true);
  assert.equal(health.store, 'memory');
  assert.equal(typeof health.tasks, 'object');
}));

test('POST /orders starts the workflow, which completes after its payment retry; /health counts it', () => withServer(async (base) => {
  const created = await fetch(`${base}/orders`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(ORDER) });
  assert.equal(created.status, 202);
  const { taskUuid } = await created.json();
  assert.equal(created.headers.get('location'), `/orders/${taskUuid}`);

  let task;
  for (let i = 0; i < 100; i++) { // the payment retries after 1 s
    task = await (await fetch(`${base}/orders/${taskUuid}`)).json();
    if (task.state === 'complete') break;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  assert.equal(task.state, 'complete');
  assert.deepEqual(task.steps.find((s) => s.name === 'process_payment'), { name: 'process_payment', state: 'complete', attempts: 2 });
  const health = await (await fetch(`${base}/health`)).json();
  assert.equal(health.tasks.complete, 1);
}));

test('a bad order is 400 and an unknown task 404', () => withServer(async (base) => {
  const bad = await fetch(`${base}/orders`, { method: 'POST', headers: { 'content-type': 'application/json', traceparent: 'nonsense' }, body: JSON.stringify(ORDER) });
  assert.equal(bad.status, 400);
  assert.match((await bad.json()).error, /traceparent/);
  const missing = await fetch(`${base}/orders/0190a8b2-7c1e-7000-8000-000000000000`);
  assert.equal(missing.status, 404);
}));
