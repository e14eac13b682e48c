'use strict';
// One graphile-worker process for the side-by-side bench (driven by `Tasker.Postgres.Bench side-by-side` over
// stdin/stdout lines; see bench/worker/run.sh). Written for this bench against graphile-worker's public API.
//
//   node worker.js --url URL --migrate                      apply graphile-worker's migrations, print MIGRATED
//   node worker.js --url URL --concurrency 10 [--pool 10] [--perf] [--warm-task warm_0 --warm-jobs 2000] [--latency]
//
// --perf: the settings of graphile-worker's own perfTest (local queue of 500 with a 10 ms refetch delay, completions
// and failures batched with a 0 ms delay); without it the library's defaults. Warm-up: runs --warm-jobs jobs of
// --warm-task (not measured), then READY. On GO it runs `noop` jobs (or `lat` jobs with --latency, printing
// `START id ns` as each starts) until STOP, then prints `REPORT jobs first_ns last_ns 0` (monotonic clock).
const { run, runMigrations } = require('graphile-worker');

function args(argv) {
  const out = {};
  for (let i = 0; i < argv.length; i++) {
    if (!argv[i].startsWith('--')) throw new Error(`unexpected argument ${argv[i]}`);
    const name = argv[i].slice(2);
    out[name] = i + 1 < argv.length && !argv[i + 1].startsWith('--') ? argv[++i] : true;
  }
  return out;
}

const opts = args(process.argv.slice(2));
if (!opts.url) throw new Error('--url is required');
// graphile-worker's Logger wants a log factory.
const { Logger } = require('graphile-worker');
const logger = new Logger(() => (level, message) => { if (level === 'error') process.stderr.write(`${message}\n`); });

const perfPreset = {
  worker: {
    localQueue: { size: 500, refetchDelay: { durationMs: 10 } },
    completeJobBatchDelay: 0,
    failJobBatchDelay: 0,
  },
};

function runnerOptions(taskList) {
  const o = {
    connectionString: opts.url,
    concurrency: Number(opts.concurrency || 10),
    noHandleSignals: true,
    logger,
    taskList,
  };
  if (opts.pool) o.maxPoolSize = Number(opts.pool);
  if (opts.perf) o.preset = perfPreset;
  return o;
}

const lines = [];
let lineWaiter = null;
let buffered = '';
process.stdin.setEncoding('utf8');
process.stdin.on('data', (chunk) => {
  buffered += chunk;
  let nl;
  while ((nl = buffered.indexOf('\n')) >= 0) {
    lines.push(buffered.slice(0, nl).trim());
    buffered = buffered.slice(nl + 1);
  }
  if (lineWaiter && lines.length) { const w = lineWaiter; lineWaiter = null; w(lines.shift()); }
});
function readLine() {
  if (lines.length) return Promise.resolve(lines.shift());
  return new Promise((resolve) => { lineWaiter = resolve; });
}

async function main() {
  if (opts.migrate) {
    await runMigrations({ connectionString: opts.url, logger });
    process.stdout.write('MIGRATED\n');
    return;
  }
  if (opts['warm-task']) {
    const target = Number(opts['warm-jobs'] || 0);
    let done = 0;
    let finished;
    const allDone = new Promise((resolve) => { finished = resolve; });
    if (target === 0) finished();
    const runner = await run(runnerOptions({ [opts['warm-task']]: async () => { if (++done === target) finished(); } }));
    await allDone;
    await runner.stop();
  }
  process.stdout.write('READY\n');
  if ((await readLine()) !== 'GO') process.exit(3);

  let jobs = 0;
  let first = null;
  let last = 0n;
  const measured = opts.latency
    ? { lat: async (payload) => { process.stdout.write(`START ${payload.id} ${process.hrtime.bigint()}\n`); jobs++; } }
    : {
        noop: async () => {
          const started = process.hrtime.bigint();
          if (first === null || started < first) first = started;
          jobs++;
          last = process.hrtime.bigint();
        },
      };
  const runner = await run(runnerOptions(measured));
  const line = await readLine();
  await runner.stop();
  process.stdout.write(`REPORT ${jobs} ${first === null ? 0 : first} ${last} 0\n`);
  process.exit(line === 'STOP' ? 0 : 3);
}

main().catch((e) => { process.stderr.write(`${e.stack || e}\n`); process.exit(1); });
