#!/usr/bin/env node
// Runs every test/**/*.test.ts with Node's own test runner (through tsx), one file per process, except the
// pure unit tests (SHARED_PROCESS_PATHS), which share a few processes: starting Node, tsx and the imports
// costs about a second per process, far more than those files' tests. Node 20's --test does not expand
// globs (nor run files in one process), so the files are listed here. The PostgreSQL server the tests
// use is chosen (or started, embedded) by test-postgres.mjs; the reporter ends with the slowest files.
// TEST_RUN_DIR is a directory for this run only, where test processes share what they would otherwise each
// build (the workflow bundle: test/support/workflow-bundle.ts); removed at the end.
import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
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

// Pure unit tests: no server, no child process, no timer mocks, nothing process-wide (environment,
// globals, top-level hooks). A file that needs any of these leaves this list (or its folder does).
const SHARED_PROCESS_PATHS = [
  'test/gate/',
  'test/slack/',
  'test/backfill/',
  'test/run-page/',
  'test/ledger/utc-days.test.ts',
  'test/stripe/request-rate-limiter.test.ts',
  'test/stripe/stripe-failure.test.ts',
  'test/temporal/ui-url.test.ts',
];
const SHARED_PROCESSES = 2;

/** One test file per group that imports the group's files (their tests keep their own file and line). */
function sharedProcessFiles(dir, shared) {
  const groups = Array.from({ length: Math.min(SHARED_PROCESSES, shared.length) }, () => []);
  shared.forEach((file, i) => groups[i % groups.length].push(file));
  return groups.map((group, i) => {
    const path = join(dir, `shared-process-${i + 1}.test.mjs`);
    writeFileSync(path, group.map((file) => `import ${JSON.stringify(pathToFileURL(resolve(file)).href)};\n`).join(''));
    return path;
  });
}

const postgres = await testPostgres();
console.log(`test database: ${postgres.description}`);
const runDir = mkdtempSync(join(tmpdir(), 'invoice-gate-test-run-'));
const removeRunDir = () => rmSync(runDir, { recursive: true, force: true });
process.on('exit', removeRunDir);
const isShared = (file) => SHARED_PROCESS_PATHS.some((dir) => file.startsWith(dir));
const processes = [...sharedProcessFiles(runDir, files.filter(isShared)), ...files.filter((f) => !isShared(f))];

const child = spawn(
  process.execPath,
  [
    '--import',
    'tsx',
    '--test',
    '--test-concurrency=2',
    `--test-reporter=${new URL('./slowest-files-reporter.mjs', import.meta.url).pathname}`,
    '--test-reporter-destination=stdout',
    ...processes,
  ],
  { stdio: 'inherit', env: { ...process.env, ...postgres.env, TEST_RUN_DIR: runDir, NODE_ENV: 'test' } },
);
// An interrupted run stops its tests too (Ctrl-C reaches them directly; a SIGTERM from CI's timeout
// does not). The embedded PostgreSQL is stopped by its package on the same signals.
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal));

const status = await new Promise((resolve) => child.on('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0))));
await postgres.stop();
process.exit(status);
