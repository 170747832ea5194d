#!/usr/bin/env node
// `npm run build [-- --out-dir DIR]`: compiles src/ and emulators/ with tsc (tsconfig.build.json) into
// dist/, prebuilds the workflow bundle (dist/src/workflow-bundle.js) so a worker started from dist/
// needs no webpack, and records the sources' fingerprint (dist/build-info.json) so that the launcher
// never runs a dist/ built from other sources.
import { spawnSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { sourceFingerprint } from './source-fingerprint.mjs';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);

const outFlag = process.argv.indexOf('--out-dir');
const outDir = resolve(ROOT, outFlag >= 0 ? process.argv[outFlag + 1] : 'dist');
const started = Date.now();

// A clean directory: files of deleted sources must not linger.
rmSync(outDir, { recursive: true, force: true });
const tsc = spawnSync(
  process.execPath,
  [require.resolve('typescript/bin/tsc'), '-p', join(ROOT, 'tsconfig.build.json'), '--outDir', outDir],
  { stdio: 'inherit' },
);
if (tsc.status !== 0) {
  console.error(`build: tsc failed (exit ${tsc.status ?? tsc.signal})`);
  process.exit(1);
}

// Bundled from the compiled JavaScript, so the bundle is exactly the code tsc just emitted.
const { bundleWorkflowCode } = require('@temporalio/worker');
const bundle = await bundleWorkflowCode({
  workflowsPath: join(outDir, 'src', 'workflows', 'index.js'),
  logger: { trace() {}, debug() {}, info() {}, warn: console.warn, error: console.error, log() {} },
});
// The name src/worker.ts looks for next to itself (PREBUILT_WORKFLOW_BUNDLE).
writeFileSync(join(outDir, 'src', 'workflow-bundle.js'), bundle.code);

mkdirSync(outDir, { recursive: true });
const info = { sourceFingerprint: sourceFingerprint(ROOT), builtAt: new Date().toISOString(), node: process.version };
writeFileSync(join(outDir, 'build-info.json'), `${JSON.stringify(info, null, 2)}\n`);
console.log(`build: ${outDir} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
