'use strict';
// A module for `tasker-worker` (test/young-generation.test.js): before any worker runs, it allocates as a busy
// worker does (objects that live a little while, so each scavenge keeps some), prints V8's new_space size in MB and
// exits. The command has set (or not) its young-generation bound before loading this module.
const v8 = require('node:v8');

module.exports = () => {
  const window = new Array(20000);
  for (let i = 0; i < 3_000_000; i += 1) window[i % window.length] = { i, text: `item ${i}` };
  const newSpace = v8.getHeapSpaceStatistics().find((space) => space.space_name === 'new_space');
  process.stdout.write(`${newSpace.space_size / 1048576}\n`);
  process.exit(0);
};
