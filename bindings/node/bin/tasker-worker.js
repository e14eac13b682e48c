#!/usr/bin/env node
'use strict';
// npx tasker-worker ./worker.js: see lib/worker-command.js (or --help).
// First, before the worker's module runs: this process's young generation stays small (lib/young-generation.js).
try {
  require('../lib/young-generation').boundYoungGeneration();
} catch (e) {
  process.stderr.write(`tasker-worker: ${e.message}\n`);
  process.exit(2);
}
require('../lib/worker-command').main().then((code) => {
  process.exitCode = code;
  // Exits even when a handler the grace period gave up on still holds the event loop (its step was reported already);
  // an idle loop exits at once, after stdout and stderr are flushed.
  setTimeout(() => process.exit(code), 200).unref();
});
