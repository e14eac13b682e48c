'use strict';
// One Node worker process of the side-by-side bench (bench/worker/run.sh; issue 13): the public `tasker.Worker` on
// the PostgreSQL store through libtasker, running no-op handlers for the bench templates
// (bench/Tasker.Postgres.Bench/BenchTemplates.cs). Driven by `Tasker.Postgres.Bench side-by-side` over stdin/stdout
// lines, exactly as its C# and Python twins (WorkMode/WorkModeWorker.cs, bench/python/work_worker.py):
//
// - warm-up on the tasks of `--warmup-namespace` until none is left (a burst run), then `READY`;
// - `GO`: work on `--namespace` until `STOP`, then `REPORT steps first_ns last_ns errors`.
//
//     export TASKER_LIBRARY_PATH=artifacts/lib/linux-x64/libtasker.so
//     node bench/node/work_worker.js --database-url URL --schema S --worker-id js0 [--concurrency 8] \
//         [--prefetch 8] [--warmup-namespace warmup_0] [--namespace bench]
//
// The binding is bindings/node (its node_modules holds koffi: `npm ci` there), or the directory TASKER_NODE_BINDING
// names. `steps` are the worker's completed reports (`worker.stats`); `first_ns`/`last_ns` are when the first handler
// started and the last one returned, from `process.hrtime.bigint()`: CLOCK_MONOTONIC on Linux, the clock of the
// orchestrator's and the other children's timestamps, so the orchestrator compares them across processes. `errors`
// are the steps that failed, were refused as stale, could not be reported or were handed back at shutdown. The
// worker's log goes to stderr, warnings and up. libuv's thread pool is sized as `tasker-worker` sizes it.
const path = require('node:path');
const readline = require('node:readline');
const { parseArgs } = require('node:util');

const binding = process.env.TASKER_NODE_BINDING || path.join(__dirname, '..', '..', 'bindings', 'node');
const tasker = require(binding);
const { sizeThreadPool } = require(path.join(binding, 'lib', 'thread-pool'));

// The handlers of BenchTemplates.Mixed and BenchTemplates.Single (BenchTemplates.Handlers).
const HANDLERS = ['init_handler', 'left_handler', 'right_handler', 'validate_handler', 'transform_handler',
  'analyze_handler', 'finalize_handler', 'noop'];
// The C# child's claims wait 1 s for work: the same here (a stop is noticed between claims).
const WAIT_SECONDS = 1;
// The warm-up ends at its first empty claim; waiting long for one would only delay READY.
const WARMUP_WAIT_SECONDS = 0.2;
const LEASE_SECONDS = 60;
const DEFAULT_CONCURRENCY = 8; // the workers' default (worker.js)

const logger = { info() {}, warn: console.error, error: console.error };

/** Does nothing; records when the first step started and the last one ended (one per registration). */
function noop() {
  const seen = { first: 0n, last: 0n };
  seen.handler = () => {
    const started = process.hrtime.bigint();
    if (seen.first === 0n || started < seen.first) seen.first = started;
    const ended = process.hrtime.bigint();
    if (ended > seen.last) seen.last = ended;
    return null;
  };
  return seen;
}

function worker(engine, args, namespace, waitSeconds) {
  return new tasker.Worker(engine, { concurrency: args.concurrency, prefetch: args.prefetch, namespaces: [namespace], leaseSeconds: LEASE_SECONDS,
    waitSeconds, statsSeconds: 0, workerId: args['worker-id'], logger });
}

async function main() {
  const { values } = parseArgs({ options: {
    'database-url': { type: 'string' }, schema: { type: 'string' }, 'worker-id': { type: 'string' },
    concurrency: { type: 'string' }, prefetch: { type: 'string' }, 'warmup-namespace': { type: 'string' }, namespace: { type: 'string' },
  } });
  for (const required of ['database-url', 'schema', 'worker-id']) {
    if (!values[required]) throw new Error(`--${required} is required`);
  }
  const concurrency = Number(values.concurrency ?? DEFAULT_CONCURRENCY);
  const prefetch = values.prefetch === undefined ? concurrency : Number(values.prefetch); // the worker's default
  const args = { ...values, concurrency, prefetch, namespace: values.namespace ?? 'bench' };
  // As `tasker-worker` does, before anything starts libuv's pool: threads for the slots' and the steps claimed ahead's
  // calls into the library and one for the waiting claim (bindings/node/lib/thread-pool.js); UV_THREADPOOL_SIZE in the
  // environment wins.
  sizeThreadPool(args.concurrency, args.prefetch);
  const lines = readline.createInterface({ input: process.stdin })[Symbol.asyncIterator]();
  const nextLine = async () => ((await lines.next()).value ?? '').trim();

  // The orchestrator installed the schema; the pool is the engine's default (20), more than concurrency + claimer.
  const engine = await tasker.Engine.open({ databaseUrl: args['database-url'], schema: args.schema, migrate: false,
    workerId: args['worker-id'], logger });
  try {
    if (args['warmup-namespace']) {
      // Not measured: modules, the pool, the prepared statements and the caches settle here.
      const warm = noop();
      for (const name of HANDLERS) engine.registerHandler(name, warm.handler);
      await worker(engine, args, args['warmup-namespace'], WARMUP_WAIT_SECONDS).run({ burst: true, handleSignals: false });
    }
    process.stdout.write('READY\n');
    if (await nextLine() !== 'GO') return 3;

    const seen = noop();
    for (const name of HANDLERS) engine.registerHandler(name, seen.handler);
    const measured = worker(engine, args, args.namespace, WAIT_SECONDS);
    const stop = nextLine().then((line) => {
      measured.stop();
      return line;
    });
    const stats = await measured.run({ handleSignals: false });
    const errors = stats.failed + stats.stale + stats.unreported + stats.shutdown;
    process.stdout.write(`REPORT ${stats.completed} ${seen.first} ${seen.last} ${errors}\n`);
    return (await stop) === 'STOP' ? 0 : 3;
  } finally {
    await engine.close();
  }
}

main().then((code) => {
  process.exitCode = code;
  process.stdin.destroy(); // nothing more to read: let the process end
}, (e) => {
  console.error(e.stack ?? e);
  process.exit(1);
});
