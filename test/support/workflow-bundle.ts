// The gate's workflow code bundled once per test process (bundling takes about a second).
import { bundleWorkflowCode, type WorkflowBundle } from '@temporalio/worker';

let bundle: Promise<WorkflowBundle> | undefined;

export function workflowBundle(): Promise<WorkflowBundle> {
  bundle ??= bundleWorkflowCode({ workflowsPath: require.resolve('../../src/workflows'), logger: silentBundlerLogger });
  return bundle;
}

const silentBundlerLogger = { trace() {}, debug() {}, info() {}, warn() {}, error: console.error, log() {} };
