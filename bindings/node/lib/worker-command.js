'use strict';
// `npx tasker-worker ./worker.js`: loads a module that builds the engine (with its handlers) or the Worker, runs the
// worker until SIGTERM/SIGINT, closes the engine and exits 0 (1 on an error, 2 on bad usage). bin/tasker-worker.js
// calls main(); the parsing and loading live here so the tests can reach them.
const fs = require('node:fs');
const path = require('node:path');
const { parseArgs } = require('node:util');
const { pathToFileURL } = require('node:url');
const { Engine } = require('./engine');
const { TaskerError } = require('./errors');
const { DEFAULT_CONCURRENCY, Worker } = require('./worker');
const { sizeThreadPool } = require('./thread-pool');

const USAGE = `Usage: tasker-worker [options] <module>

Runs a Tasker worker: it claims ready steps of the engine's registered handlers from every task (PostgreSQL is the
queue), runs them and reports them, until SIGTERM or SIGINT (then it finishes the steps in flight within the grace
period; a second signal stops at once).

<module> (e.g. ./worker.js, CommonJS or ESM) exports, as module.exports or its default export, a function (may be
async) returning either a tasker.Engine with its handlers registered, or a tasker.Worker (the options below then
belong in its constructor). Example:

  module.exports = async () => {
    const engine = await tasker.Engine.open({ databaseUrl: process.env.DATABASE_URL });
    await engine.registerTemplate({ path: './order_fulfillment.yaml' });
    return engine.registerHandlers({ ValidateOrder, ProcessPayment });
  };

Options:
  -c, --concurrency <n>    steps run at once (default 8)
      --prefetch <n>       steps claimed beyond the free slots while steps are short (under 10 ms), held until a
                           slot frees (default: the concurrency; 0: none)
  -n, --namespace <name>   only tasks of this namespace (repeat, or separate with commas; default: all)
      --grace <seconds>    on SIGTERM/SIGINT, how long running steps may take to finish (default 25); steps still
                           running then are reported as a retryable WorkerShutdown failure
      --lease <seconds>    the claims' lease (default: the engine's lease_seconds); running steps are heartbeaten
      --stats <seconds>    period of the throughput line (default 60; 0: never)
      --worker-id <id>     recorded as the actor of claims (default: the engine's, node-<pid>)
  -h, --help               this text

Threads: each call into the library in flight holds one of libuv's threads until the database answers; the command
sizes that pool for the worker (UV_THREADPOOL_SIZE: 2 × concurrency + 2) unless UV_THREADPOOL_SIZE is set.

Memory: the command keeps V8's young generation at its starting size (two 1 MB semi-spaces) instead of letting a busy
worker grow it to 32 MB. Your own --max-semi-space-size, --min-semi-space-size or --semi-space-growth-factor (node's
command line or NODE_OPTIONS) wins; TASKER_WORKER_YOUNG_GENERATION=default leaves V8's sizing alone.
`;

/** A usage error: printed with a pointer to --help, exit code 2. */
class UsageError extends Error {}

function number(name, text, { integer = false } = {}) {
  const value = Number(text);
  if (text.trim() === '' || !Number.isFinite(value) || (integer && !Number.isInteger(value))) {
    throw new UsageError(`--${name} must be ${integer ? 'an integer' : 'a number'}, not '${text}'`);
  }
  return value;
}

/** The command line as { help } or { modulePath, options } (Worker options given on the command line). */
function parse(argv) {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        concurrency: { type: 'string', short: 'c' },
        prefetch: { type: 'string' },
        namespace: { type: 'string', short: 'n', multiple: true },
        grace: { type: 'string' },
        lease: { type: 'string' },
        stats: { type: 'string' },
        'worker-id': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (e) {
    throw new UsageError(e.message);
  }
  const { values, positionals } = parsed;
  if (values.help) return { help: true };
  if (positionals.length === 0) throw new UsageError('name the module that builds the engine, e.g. tasker-worker ./worker.js');
  if (positionals.length > 1) throw new UsageError(`one module only, not ${positionals.length}: ${positionals.join(' ')}`);
  const options = {};
  if (values.concurrency !== undefined) options.concurrency = number('concurrency', values.concurrency, { integer: true });
  if (values.prefetch !== undefined) options.prefetch = number('prefetch', values.prefetch, { integer: true });
  if (values.namespace !== undefined) {
    options.namespaces = values.namespace.flatMap((n) => n.split(',')).map((n) => n.trim());
    if (options.namespaces.some((n) => n === '')) throw new UsageError('--namespace takes a namespace name (an empty one was given)');
  }
  if (values.grace !== undefined) options.graceSeconds = number('grace', values.grace);
  if (values.lease !== undefined) options.leaseSeconds = number('lease', values.lease);
  if (values.stats !== undefined) options.statsSeconds = number('stats', values.stats);
  if (values['worker-id'] !== undefined) options.workerId = values['worker-id'];
  return { modulePath: positionals[0], options };
}

/** Loads the module and builds the Worker it describes (an Engine gets a new Worker with the command's options). */
async function load(modulePath, options) {
  const file = path.resolve(modulePath);
  if (!fs.existsSync(file)) throw new UsageError(`${modulePath} does not exist (resolved to ${file})`);
  const loaded = await import(pathToFileURL(file).href);
  let made = loaded.default ?? loaded;
  if (typeof made === 'function' && !(made.prototype instanceof Engine) && made !== Engine) made = await made();
  if (made instanceof Worker) {
    const given = Object.keys(options);
    if (given.length > 0) {
      throw new UsageError(`${modulePath} returned a tasker.Worker, so it sets the worker's options itself: drop ` +
        `${given.join(', ')} from the command line, or return the Engine instead`);
    }
    return made;
  }
  if (made instanceof Engine) return new Worker(made, options);
  throw new UsageError(`${modulePath} must export a function returning a tasker.Engine (handlers registered) or a ` +
    `tasker.Worker; it gave ${describe(made)}`);
}

function describe(value) {
  if (value === null || value === undefined) return String(value);
  if (typeof value !== 'object') return `a ${typeof value} (${String(value).slice(0, 60)})`;
  const name = value.constructor?.name;
  // An Engine or Worker of another copy of the package fails instanceof: say so rather than "an object".
  const other = name === 'Engine' || name === 'Worker' ? ` from another copy of tasker-native (require the package the command runs from)` : '';
  return `an object of class ${name ?? 'none'}${other}`;
}

async function main(argv = process.argv.slice(2)) {
  let worker;
  try {
    const command = parse(argv);
    if (command.help) {
      process.stdout.write(USAGE);
      return 0;
    }
    // Before the worker's module can touch libuv's pool (which reads its size once, when it starts): threads for the
    // slots' reports, those of the steps claimed ahead and the waiting claim (lib/thread-pool.js). A module that
    // builds its own Worker with more slots is warned at the worker's start.
    const concurrency = command.options.concurrency ?? DEFAULT_CONCURRENCY;
    sizeThreadPool(concurrency, command.options.prefetch ?? concurrency);
    worker = await load(command.modulePath, command.options);
    await worker.run();
    await worker.engine.close();
    return 0;
  } catch (e) {
    if (e instanceof UsageError) {
      process.stderr.write(`tasker-worker: ${e.message}\n(tasker-worker --help says more)\n`);
      return 2;
    }
    // The library's own errors say what is wrong (a DatabaseError, a ValidationError of an option); others are bugs.
    process.stderr.write(`tasker-worker: ${e instanceof TaskerError ? `${e.name}: ${e.message}` : e?.stack ?? e}\n`);
    await worker?.engine.close().catch(() => {});
    return 1;
  }
}

module.exports = { main, parse, USAGE };
