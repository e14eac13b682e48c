#!/usr/bin/env node
'use strict';
// npx tasker-worker ./worker.js: see lib/worker-command.js (or --help).
require('../lib/worker-command').main().then((code) => {
  process.exitCode = code;
  // Exits even when a handler the grace period gave up on still holds the event loop (its step was reported already);
  // an idle loop exits at once, after stdout and stderr are flushed.
  setTimeout(() => process.exit(code), 200).unref();
});
