#!/usr/bin/env node
// Runs every test/**/*.test.ts with Node's own test runner (through tsx), one file per process.
// Node 20's --test does not expand globs, so the files are listed here. The PostgreSQL server the tests
// use is chosen (or started, embedded) by test-postgres.mjs; the reporter ends with the slowest files.
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { testPostgres } from './test-postgres.mjs';

function findTests(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return findTests(path);
    return name.endsWith('.test.ts') ? [path] : [];
  });
}

const filters = process.argv.slice(2);
const files = findTests('test')
  .filter((f) => filters.length === 0 || filters.some((x) => f.includes(x)))
  .sort();
if (files.length === 0) {
  console.error('no test files matched', filters);
  process.exit(1);
}

const postgres = await testPostgres();
console.log(`test database: ${postgres.description}`);

const child = spawn(
  process.execPath,
  [
    '--import',
    'tsx',
    '--test',
    '--test-concurrency=2',
    `--test-reporter=${new URL('./slowest-files-reporter.mjs', import.meta.url).pathname}`,
    '--test-reporter-destination=stdout',
    ...files,
  ],
  { stdio: 'inherit', env: { ...process.env, ...postgres.env, NODE_ENV: 'test' } },
);
// An interrupted run stops its tests too (Ctrl-C reaches them directly; a SIGTERM from CI's timeout
// does not). The embedded PostgreSQL is stopped by its package on the same signals.
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal));

const status = await new Promise((resolve) => child.on('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0))));
await postgres.stop();
process.exit(status);
