// The workflow bundle for a worker run from TypeScript sources (a checkout without `npm run build`).
// Bundling runs webpack and swc; done in this process it left about 200 MB of RSS behind for the
// life of the worker (bench/README.md, "Idle memory"). A short-lived child process does the same
// work and hands back only the code.
import { execFile } from 'node:child_process';
import { dirname } from 'node:path';

// CommonJS run with `node -e`: argv[1] is the workflows path; the bundle goes to stdout.
const BUNDLER = `
const { createRequire } = require('node:module');
const { bundleWorkflowCode } = createRequire(process.argv[1])('@temporalio/worker');
const quiet = { trace() {}, debug() {}, info() {}, log() {}, warn: console.warn, error: console.error };
bundleWorkflowCode({ workflowsPath: process.argv[1], logger: quiet }).then(
  (bundle) => process.stdout.write(bundle.code),
  (error) => { console.error(error); process.exit(1); },
);
`;

/** Bundles the workflows at `workflowsPath` (a file that resolves from node_modules) in a child process. */
export function bundleWorkflowsInChildProcess(workflowsPath: string): Promise<{ code: string }> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      ['-e', BUNDLER, workflowsPath],
      { cwd: dirname(workflowsPath), maxBuffer: 256 * 1024 * 1024, encoding: 'utf8' },
      (error, stdout, stderr) => {
        if (error)
          reject(new Error(`bundling the workflows failed: ${stderr.trim() || error.message}`, { cause: error }));
        else resolve({ code: stdout });
      },
    );
  });
}
