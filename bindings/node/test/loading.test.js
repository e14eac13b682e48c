'use strict';
// Finding and loading libtasker, the ABI check, and the package's entry points. Each case runs in a fresh node
// process, since a process loads the library once.
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { spawnSync, execFileSync } = require('node:child_process');

const PACKAGE = path.resolve(__dirname, '..');
const LIBRARY = process.env.TASKER_LIBRARY_PATH;

/** Runs `code` (CommonJS, or ESM with `esm`) in a new node process in the package folder. */
function node(code, { env = {}, esm = false } = {}) {
  const args = esm ? ['--input-type=module', '-e', code] : ['-e', code];
  const result = spawnSync(process.execPath, args, { cwd: PACKAGE, encoding: 'utf8', env: { ...process.env, ...env } });
  return { status: result.status, stdout: result.stdout.trim(), stderr: result.stderr };
}

const LOADED = "require('fs').readFileSync('/proc/self/maps', 'utf8').includes('libtasker')";

test("require('tasker-native') does not load the library; the first engine does", () => {
  const { stdout, stderr } = node(`const tasker = require('tasker-native'); const before = ${LOADED};
    new tasker.Engine().close(); console.log(JSON.stringify([before, ${LOADED}]));`);
  assert.equal(stdout, '[false,true]', stderr);
});

test("opening an engine loads koffi's native addon, not its installer's https and zlib", () => {
  // koffi's entry point (index.js) loads them for its installer: about 3.5 MB of every process (native.js).
  const { stdout, stderr } = node(`const tasker = require('tasker-native'); new tasker.Engine().close();
    const builtins = process.moduleLoadList.filter((m) => /^NativeModule (https|zlib)$/.test(m));
    const entry = Object.keys(require.cache).filter((file) => file.endsWith('/koffi/index.js'));
    console.log(JSON.stringify([builtins, entry]));`);
  assert.equal(stdout, '[[],[]]', stderr);
});

test('worker mode and the Api step handler load when first used, not with require and handle', () => {
  // Modules a host that runs steps with handle() does not need (lib/index.js); each is still the same object.
  const { stdout, stderr } = node(`const tasker = require('tasker-native');
    const loaded = () => ['worker.js', 'api-handler.js'].filter((f) => Object.keys(require.cache).some((k) => k.endsWith('/lib/' + f)));
    (async () => {
      const engine = new tasker.Engine();
      await engine.registerTemplate(${JSON.stringify(JSON.stringify({ name: 'one', namespace_name: 'n', version: '1.0.0',
        steps: [{ name: 'a', handler: { callable: 'A' } }] }))});
      engine.registerHandler('A', () => 1);
      const outcome = await engine.handle((await engine.createTask('one', { namespace: 'n' })).uuid);
      const before = loaded();
      const same = tasker.Worker === require('./lib/worker').Worker && tasker.ApiStepHandler === require('./lib/api-handler').ApiStepHandler
        && tasker.SHUTDOWN_ERROR_TYPE === 'WorkerShutdown' && typeof tasker.WorkerStats === 'function';
      const writable = Object.getOwnPropertyDescriptor(tasker, 'Worker').writable; // a plain property once read
      console.log(JSON.stringify([outcome.action, before, loaded(), same, Object.keys(tasker).includes('Worker'), writable]));
      await engine.close();
    })();`);
  assert.equal(stdout, '["complete",[],["worker.js","api-handler.js"],true,true,true]', stderr);
});

test('a TASKER_LIBRARY_PATH that does not exist is a TaskerError naming it', () => {
  const { stdout } = node(`const tasker = require('tasker-native');
    try { new tasker.Engine(); } catch (e) { console.log(e instanceof tasker.TaskerError, e.message); }`,
  { env: { TASKER_LIBRARY_PATH: '/nowhere/libtasker.so' } });
  assert.equal(stdout, 'true TASKER_LIBRARY_PATH is /nowhere/libtasker.so, which does not exist');
});

test('a file that is not a shared library is a TaskerError, not a crash', () => {
  const { stdout } = node(`const tasker = require('tasker-native');
    try { tasker.version(); } catch (e) { console.log(e instanceof tasker.TaskerError, /cannot load/.test(e.message)); }`,
  { env: { TASKER_LIBRARY_PATH: __filename } });
  assert.equal(stdout, 'true true');
});

test('without TASKER_LIBRARY_PATH the copy in native/ is used', { skip: !fs.existsSync(path.join(PACKAGE, 'native', 'libtasker.so')) &&
  'native/libtasker.so is not there (./build.sh native copies it)' }, () => {
  const env = { ...process.env };
  delete env.TASKER_LIBRARY_PATH;
  const result = spawnSync(process.execPath, ['-e', `const t = require('tasker-native'); console.log(t.version());
    console.log(require('fs').readFileSync('/proc/self/maps', 'utf8').includes('${path.join(PACKAGE, 'native')}'))`],
  { cwd: PACKAGE, encoding: 'utf8', env });
  assert.match(result.stdout, /^\d+\.\d+\.\d+\ntrue$/m, result.stderr);
});

let cc = null;
try {
  execFileSync('cc', ['--version'], { stdio: 'ignore' });
  cc = 'cc';
} catch {
  // no C compiler: the ABI mismatch test is skipped
}

test('a library of another ABI version is refused with AbiMismatchError', { skip: !cc && 'no C compiler (cc) to build a fake library' }, (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tasker-abi-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  fs.writeFileSync(path.join(dir, 'fake.c'),
    'unsigned int tasker_abi_version(void) { return 999; }\nconst char *tasker_version(void) { return "9.9.9"; }\n');
  execFileSync(cc, ['-shared', '-fPIC', '-o', path.join(dir, 'libfake.so'), path.join(dir, 'fake.c')]);
  const { stdout } = node(`const tasker = require('tasker-native');
    try { new tasker.Engine(); } catch (e) { console.log(e.name, e.code, e.message); }`,
  { env: { TASKER_LIBRARY_PATH: path.join(dir, 'libfake.so') } });
  const { version } = require('../package.json');
  const platformPackage = `@tasker-native/${process.platform}-${process.arch}`;
  assert.equal(stdout, `AbiMismatchError 13 ${path.join(dir, 'libfake.so')} (libtasker 9.9.9) has ABI version 999; ` +
    'this binding needs 2: TASKER_LIBRARY_PATH names a libtasker of another release: unset it to use the library of ' +
    `the packages (npm install tasker-native@${version} ${platformPackage}@${version}), or point it at the libtasker ` +
    `of release ${version} (in this checkout: ./build.sh native)`);
});

test('a library without the functions of libtasker is refused with AbiMismatchError naming one, every time', { skip: !cc && 'no C compiler (cc) to build a fake library' }, (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tasker-abi-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  // The right ABI number, and nothing else a binding needs.
  fs.writeFileSync(path.join(dir, 'fake.c'), 'unsigned int tasker_abi_version(void) { return 2; }\n' +
    'const char *tasker_version(void) { return "9.9.9"; }\n');
  execFileSync(cc, ['-shared', '-fPIC', '-o', path.join(dir, 'libfake.so'), path.join(dir, 'fake.c')]);
  const { stdout } = node(`const tasker = require('tasker-native');
    for (let i = 0; i < 2; i++) try { new tasker.Engine(); } catch (e) { console.log(e.name, e.details.missing); }`,
  { env: { TASKER_LIBRARY_PATH: path.join(dir, 'libfake.so') } });
  assert.equal(stdout, 'AbiMismatchError tasker_error_code\nAbiMismatchError tasker_error_code');
});

test('installed packages whose library is of another ABI name the packages to install, not a build step', { skip: !cc && 'no C compiler (cc) to build a fake library' }, (t) => {
  // An app's node_modules, away from the checkout: tasker-native 7.8.9, koffi, and the platform package holding a
  // library of another ABI.
  const app = fs.mkdtempSync(path.join(os.tmpdir(), 'tasker-abi-app-'));
  t.after(() => fs.rmSync(app, { recursive: true, force: true }));
  const modules = path.join(app, 'node_modules');
  const main = path.join(modules, 'tasker-native');
  fs.mkdirSync(main, { recursive: true });
  for (const entry of ['lib', 'index.mjs']) fs.cpSync(path.join(PACKAGE, entry), path.join(main, entry), { recursive: true });
  const pkg = JSON.parse(fs.readFileSync(path.join(PACKAGE, 'package.json'), 'utf8'));
  fs.writeFileSync(path.join(main, 'package.json'), JSON.stringify({ ...pkg, version: '7.8.9' }));
  fs.symlinkSync(path.join(PACKAGE, 'node_modules', 'koffi'), path.join(modules, 'koffi'));
  const platformPackage = `@tasker-native/${process.platform}-${process.arch}`;
  const platformDir = path.join(modules, platformPackage);
  fs.mkdirSync(platformDir, { recursive: true });
  fs.writeFileSync(path.join(platformDir, 'package.json'), JSON.stringify({ name: platformPackage, version: '7.8.9' }));
  fs.writeFileSync(path.join(app, 'fake.c'), 'unsigned int tasker_abi_version(void) { return 999; }\n' +
    'const char *tasker_version(void) { return "9.9.9"; }\n');
  const library = path.join(platformDir, 'libtasker.so');
  execFileSync(cc, ['-shared', '-fPIC', '-o', library, path.join(app, 'fake.c')]);
  const env = { ...process.env };
  delete env.TASKER_LIBRARY_PATH;
  const result = spawnSync(process.execPath, ['-e', `const tasker = require('tasker-native');
    try { new tasker.Engine(); } catch (e) { console.log(e.name, e.message); }`], { cwd: app, encoding: 'utf8', env });
  assert.equal(result.stdout.trim(), `AbiMismatchError ${library} (libtasker 9.9.9) has ABI version 999; this binding ` +
    'needs 2: the library of the packages is from another release: npm install tasker-native@7.8.9 ' +
    `${platformPackage}@7.8.9`, result.stderr);
});

test('the ESM entry exports the same objects as the CommonJS one', () => {
  const { stdout, stderr } = node(`import tasker, { Engine, StepHandler, RetryableError, NotFoundError } from 'tasker-native';
    import cjs from './lib/index.js';
    console.log(JSON.stringify([tasker === cjs, Engine === cjs.Engine, StepHandler === cjs.StepHandler,
      RetryableError === cjs.RetryableError, NotFoundError === cjs.NotFoundError]));`, { esm: true });
  assert.equal(stdout, '[true,true,true,true,true]', stderr);
});

test('every export of the CommonJS entry is a named export of the ESM entry', async () => {
  const cjs = require('..');
  const esm = await import('../index.mjs');
  assert.deepEqual(Object.keys(esm).filter((k) => k !== 'default').sort(), Object.keys(cjs).sort());
});

test("the queue adapters load without bullmq or bull being required", () => {
  const { stdout } = node(`require('tasker-native/bullmq'); require('tasker-native/bull'); require('tasker-native');
    console.log(Object.keys(require.cache).some((f) => /node_modules\\/(bullmq|bull)\\//.test(f)));`);
  assert.equal(stdout, 'false');
});

test('the library is the one TASKER_LIBRARY_PATH names', { skip: !LIBRARY && 'TASKER_LIBRARY_PATH is not set' }, () => {
  assert.equal(require('../lib/native').findLibrary(), LIBRARY);
});
