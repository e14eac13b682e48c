'use strict';
// A process of its own for test/thread-pool.test.js (the warning is once a process): opens an engine on PostgreSQL
// (argv: url, schema), makes `calls` engine calls at once, and prints the warnings its logger got as JSON.
const tasker = require('../..');

async function main() {
  const [url, schema, calls] = process.argv.slice(2);
  const warnings = [];
  const engine = await tasker.Engine.open({ databaseUrl: url, schema, logger: { warn: (m) => warnings.push(m) } });
  try {
    await Promise.all(Array.from({ length: Number(calls) }, () => engine.health()));
  } finally {
    await engine.close();
  }
  process.stdout.write(`${JSON.stringify(warnings)}\n`);
}

main().catch((e) => {
  process.stderr.write(`${e.stack}\n`);
  process.exit(1);
});
