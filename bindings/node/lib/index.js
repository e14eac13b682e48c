'use strict';
// Tasker Native for Node. See README.md.
const { Engine, StepHandler, Subscription } = require('./engine');
const errors = require('./errors');
const native = require('./native');

module.exports = { Engine, StepHandler, Subscription, version: native.version, ...errors };
delete module.exports.errorForCode;
