'use strict';
// The shared, language-neutral fixtures of tests/conformance, run through the Node binding on the memory store:
// every fixture, with every native call synchronous (the default) and with every call on a worker thread.
const test = require('node:test');
const assert = require('node:assert/strict');
const { tasker } = require('./support/helpers');
const { fixtures, runFixture } = require('./support/conformance');

const all = fixtures();

test('the conformance fixtures are all found', () => {
  assert.ok(all.length >= 15, `only ${all.length} fixtures`);
});

for (const fixture of all) {
  test(`conformance: ${fixture.name}`, async () => {
    const engine = new tasker.Engine(fixture.engine_config);
    try {
      await runFixture(engine, fixture);
    } finally {
      await engine.close();
    }
  });
}

for (const fixture of all) {
  test(`conformance (calls on worker threads): ${fixture.name}`, async () => {
    const engine = new tasker.Engine({ ...fixture.engine_config, syncCalls: false });
    try {
      await runFixture(engine, fixture);
    } finally {
      await engine.close();
    }
  });
}
