// The gate's workflow code bundled once per test run. Bundling (webpack + swc) costs seconds of CPU, and
// some 25 test files need the bundle: under scripts/run-tests.mjs (which sets TEST_RUN_DIR, a directory
// for this run only, removed at its end) the first process that needs it bundles and writes it there,
// the others wait for the file and read it. A test file run on its own bundles once per process.
import { closeSync, existsSync, openSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { bundleWorkflowCode, type WorkflowBundle } from '@temporalio/worker';

const WAIT_FOR_OTHER_PROCESS_MS = 180_000;

let bundle: Promise<WorkflowBundle> | undefined;

export function workflowBundle(): Promise<WorkflowBundle> {
  const runDir = process.env.TEST_RUN_DIR;
  bundle ??= runDir ? sharedBundle(runDir) : bundleGateWorkflows();
  return bundle;
}

function bundleGateWorkflows(): Promise<WorkflowBundle> {
  return bundleWorkflowCode({ workflowsPath: require.resolve('../../src/workflows'), logger: silentBundlerLogger });
}

async function sharedBundle(runDir: string): Promise<WorkflowBundle> {
  const codePath = join(runDir, 'gate-workflow-bundle.js');
  const failedPath = `${codePath}.failed`;
  let bundler = false;
  try {
    closeSync(openSync(`${codePath}.lock`, 'wx'));
    bundler = true;
  } catch {
    // Another process holds the lock: it is bundling.
  }
  if (bundler) {
    try {
      const built = await bundleGateWorkflows();
      // Written whole, then renamed: a reader never sees half a bundle.
      writeFileSync(`${codePath}.partial`, built.code);
      renameSync(`${codePath}.partial`, codePath);
      return built;
    } catch (error) {
      writeFileSync(failedPath, String(error));
      throw error;
    }
  }
  const deadline = Date.now() + WAIT_FOR_OTHER_PROCESS_MS;
  while (Date.now() < deadline) {
    if (existsSync(codePath)) return { code: readFileSync(codePath, 'utf8') };
    if (existsSync(failedPath)) {
      throw new Error(`bundling the workflows failed in another test process: ${readFileSync(failedPath, 'utf8')}`);
    }
    await sleep(100);
  }
  // The bundling process died without a word: do it here.
  return bundleGateWorkflows();
}

const silentBundlerLogger = { trace() {}, debug() {}, info() {}, warn() {}, error: console.error, log() {} };
