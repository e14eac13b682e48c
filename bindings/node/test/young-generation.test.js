'use strict';
// `tasker-worker` keeps its own process's young generation at its starting size (lib/young-generation.js); the
// user's node flags, NODE_OPTIONS or TASKER_WORKER_YOUNG_GENERATION=default leave V8's sizing alone.
const test = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');
const { spawnSync } = require('node:child_process');
const { boundYoungGeneration } = require('../lib/young-generation');

const BIN = path.join(__dirname, '..', 'bin', 'tasker-worker.js');
const APP = path.join(__dirname, 'support', 'young-generation-app.js');

/** new_space's size (MB) after the app's allocation, under the command started with `nodeArgs` and `env`. */
function newSpaceMb(nodeArgs = [], env = {}) {
  const result = spawnSync(process.execPath, [...nodeArgs, BIN, APP], { encoding: 'utf8',
    env: { ...process.env, NODE_OPTIONS: '', TASKER_WORKER_YOUNG_GENERATION: '', ...env } });
  assert.equal(result.status, 0, result.stderr);
  return Number(result.stdout.trim());
}

test("tasker-worker's process keeps V8's young generation at its starting size", () => {
  const bounded = newSpaceMb();
  const grown = newSpaceMb([], { TASKER_WORKER_YOUNG_GENERATION: 'default' });
  assert.ok(bounded <= 2, `new_space ${bounded} MB`);
  assert.ok(grown >= 4 * bounded, `with V8's sizing the same allocation grows new_space (${grown} MB vs ${bounded} MB)`);
});

test("the user's own young-generation flags win over the command's bound", () => {
  assert.ok(newSpaceMb(['--max-semi-space-size=8']) >= 8);
  assert.ok(newSpaceMb([], { NODE_OPTIONS: '--max-semi-space-size=8' }) >= 8);
});

test('the bound is set only when nobody chose a size, and a wrong TASKER_WORKER_YOUNG_GENERATION is an error', () => {
  assert.equal(boundYoungGeneration({ TASKER_WORKER_YOUNG_GENERATION: 'default' }, []), false);
  assert.equal(boundYoungGeneration({}, ['--max-semi-space-size=4']), false);
  assert.equal(boundYoungGeneration({ NODE_OPTIONS: '--trace-gc --semi_space_growth_factor=2' }, []), false);
  assert.throws(() => boundYoungGeneration({ TASKER_WORKER_YOUNG_GENERATION: 'small' }, []),
    /TASKER_WORKER_YOUNG_GENERATION must be 'bounded' or 'default', not 'small'/);
});
