'use strict';
// tsc --noEmit does the type checking (npm test runs it first); mocha only transpiles.
process.env.TS_NODE_TRANSPILE_ONLY = 'true';
process.env.TS_NODE_FILES = 'true';

module.exports = {
  require: ['ts-node/register'],
  extension: ['ts'],
  spec: ['test/**/*.test.ts'],
  timeout: 120000,
  slow: 5000,
  exit: false,
};
