// A PostgreSQL server of the test's own, so a test can stop and start it without touching the
// machine's shared cluster (which other tests use at the same time). initdb into a temporary
// directory, listen on a free port on 127.0.0.1, trust auth; run as the `postgres` user when the test
// runs as root (PostgreSQL refuses to run as root; CI runs as root).
import { execFile } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const POSTGRES_ROOT = '/usr/lib/postgresql';

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

/** The newest installed PostgreSQL's bin directory; a clear error (never a skip) when there is none. */
export function postgresBinDir(): string {
  const versions = existsSync(POSTGRES_ROOT)
    ? readdirSync(POSTGRES_ROOT)
        .filter(
          (v) =>
            existsSync(join(POSTGRES_ROOT, v, 'bin', 'pg_ctl')) && existsSync(join(POSTGRES_ROOT, v, 'bin', 'initdb')),
        )
        .sort((a, b) => Number(b) - Number(a))
    : [];
  if (versions.length === 0) {
    throw new Error(
      `the fault suite needs PostgreSQL's server binaries (initdb, pg_ctl) under ${POSTGRES_ROOT}/<version>/bin ` +
        'to run a private PostgreSQL it can restart; install the postgresql package (e.g. apt-get install postgresql)',
    );
  }
  return join(POSTGRES_ROOT, versions[0], 'bin');
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
    const { stdout } = await run('id', ['-u', 'postgres']);
    const { stdout: gid } = await run('id', ['-g', 'postgres']);
    chownSync(dir, Number(stdout.trim()), Number(gid.trim()));
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
