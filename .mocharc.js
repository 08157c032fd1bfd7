'use strict';
// tsc --noEmit does the type checking (npm test runs it first); mocha only transpiles.
process.env.TS_NODE_TRANSPILE_ONLY = 'true';
process.env.TS_NODE_FILES = 'true';

// `npx mocha test/x.test.ts` runs just that file; plain `mocha` runs the whole suite.
const namedFiles = process.argv.slice(2).some((a) => !a.startsWith('-') && /\.ts$|^test\//.test(a));

module.exports = {
  require: ['ts-node/register'],
  extension: ['ts'],
  ...(namedFiles ? {} : { spec: ['test/**/*.test.ts'] }),
  timeout: 120000,
  slow: 5000,
  exit: false,
};
