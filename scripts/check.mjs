#!/usr/bin/env node
// npm test's checks before the tests: typecheck, lint and format check, run side by side (each is a
// single-threaded program; one after the other they left a core idle), their output printed whole, one
// after the other. Exits 1 when any of them fails. tsc keeps its incremental state and Prettier its cache
// in node_modules/.cache, so a developer's next run checks only what changed. ESLint gets no cache: its
// type-aware rules would not see a change in a file that a cached file imports.
import { spawn } from 'node:child_process';
import { join } from 'node:path';

const CACHE = 'node_modules/.cache/invoice-gate';
const CHECKS = [
  ['typecheck', 'tsc', ['--noEmit', '-p', '.', '--incremental', '--tsBuildInfoFile', `${CACHE}/tsc.tsbuildinfo`]],
  ['lint', 'eslint', ['.']],
  [
    'format',
    'prettier',
    ['--check', '.', '--cache', '--cache-location', `${CACHE}/prettier-cache`, '--log-level', 'warn'],
  ],
];

function run([name, bin, args]) {
  const began = Date.now();
  return new Promise((resolve) => {
    const child = spawn(join('node_modules', '.bin', bin), args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const output = [];
    child.stdout.on('data', (chunk) => output.push(chunk));
    child.stderr.on('data', (chunk) => output.push(chunk));
    child.on('error', (error) => output.push(Buffer.from(String(error))));
    child.on('close', (code) => resolve({ name, ok: code === 0, seconds: (Date.now() - began) / 1000, output }));
  });
}

const results = await Promise.all(CHECKS.map(run));
for (const { name, ok, seconds, output } of results) {
  console.log(`${ok ? '✔' : '✖'} ${name} (${seconds.toFixed(1)} s)`);
  const text = Buffer.concat(output).toString().trimEnd();
  if (text) console.log(text);
}
process.exit(results.every((r) => r.ok) ? 0 : 1);
