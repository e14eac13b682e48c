'use strict';
// A module for `tasker-worker` (test/thread-pool.test.js): prints the libuv pool size the command left in the
// environment before loading this module, and exits without running a worker.
module.exports = () => {
  process.stdout.write(`${process.env.UV_THREADPOOL_SIZE ?? 'unset'}\n`);
  process.exit(0);
};
