// TypeScript declarations of the ESM entry (index.mjs): the named exports of index.d.ts, and the same as a default.
import * as tasker from './index.js';

export * from './index.js';
export default tasker;
