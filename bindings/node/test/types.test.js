'use strict';
// The TypeScript declarations type-check typical programs (CommonJS and ESM) and reject misuse.
const test = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');
const { spawnSync } = require('node:child_process');

let tsc;
try {
  tsc = require.resolve('typescript/bin/tsc');
} catch {
  tsc = null;
}

test('the declarations type-check test/types/usage.cts and usage.mts', { skip: !tsc && 'typescript is not installed (npm install)' }, () => {
  const result = spawnSync(process.execPath, [tsc, '-p', path.join(__dirname, 'types')], { encoding: 'utf8' });
  assert.equal(result.status, 0, result.stdout + result.stderr);
});
