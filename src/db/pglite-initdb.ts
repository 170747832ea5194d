// A new PGlite data directory is created (initdb) in a short-lived child process. initdb grows PGlite's
// WASM memory to several hundred MiB, and WASM memory never shrinks: done in the gate's own process, a
// first start on an empty .data/ idled about 100 MiB above every later start (bench/README.md, "Idle
// memory"). The child creates the cluster and exits; the gate then opens it as on any other start.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

// CommonJS run with `node -e`: argv[1] is PGlite's entry, argv[2] the data directory, argv[3] the
// start parameters as JSON.
const INITDB = `
const { PGlite } = require(process.argv[1]);
(async () => {
  const pglite = new PGlite(process.argv[2], { startParams: JSON.parse(process.argv[3]) });
  await pglite.waitReady;
  await pglite.close();
})().catch((error) => { console.error(error); process.exit(1); });
`;

/** PostgreSQL writes PG_VERSION into every data directory it has initialised. */
export function pgliteDataDirInitialised(dataDir: string): boolean {
  return existsSync(join(dataDir, 'PG_VERSION'));
}

/** Initialises `dataDir` (absolute, existing, empty) with `startParams`, in a child process. */
export function initPgliteDataDirInChildProcess(
  dataDir: string,
  startParams: readonly string[],
  v8Flags: readonly string[],
): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [...v8Flags, '-e', INITDB, require.resolve('@electric-sql/pglite'), dataDir, JSON.stringify(startParams)],
      { encoding: 'utf8', maxBuffer: 16 * 1024 * 1024 },
      (error, _stdout, stderr) => {
        if (error)
          reject(
            new Error(`creating the PGlite database in ${dataDir} failed: ${stderr.trim() || error.message}`, {
              cause: error,
            }),
          );
        else resolve();
      },
    );
  });
}
