#!/usr/bin/env node
'use strict';
// Thin launcher: compile-on-load (types are checked by `npm run typecheck`), then hand over to the entry file.
process.env.TS_NODE_TRANSPILE_ONLY = process.env.TS_NODE_TRANSPILE_ONLY || 'true';
require('ts-node').register({ transpileOnly: true, swc: true, project: require('path').join(__dirname, '..', 'tsconfig.json') });
require('../automation/main.ts');
