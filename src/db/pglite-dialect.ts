// Embedded PostgreSQL for the zero-configuration start: PGlite (Postgres compiled to WASM) behind
// Kysely's own PostgresDialect, through PGlite's node-postgres adapter. Going through `pg` keeps the
// result types identical to a real server (numeric and int8 -> string, timestamptz -> Date), which
// raw PGlite does not (it returns int8 as a JS number).
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { PostgresDialect, PostgresDriver, type Driver } from 'kysely';
import { Pool } from 'pg';
import type { PGlite } from '@electric-sql/pglite';
import { initPgliteDataDirInChildProcess, pgliteDataDirInitialised } from './pglite-initdb';

export interface PGliteDialectConfig {
  /** Data directory (created if missing), or `memory://` for a throw-away in-memory database. */
  dataDir?: string;
  /** An existing PGlite instance to use instead; it is not closed by `db.destroy()`. */
  pglite?: PGlite;
  onPoolError?: (err: Error) => void;
}

export const DEFAULT_PGLITE_DIR = '.data/pglite';

/**
 * PostgreSQL's default shared_buffers (128MB) is touched memory inside PGlite's WASM heap: it was
 * about 120 MiB of the process's idle RSS (bench/README.md, "Idle memory"). The gate's tables are
 * small and PGlite has a single session, so 16MB is plenty; PGlite re-reads pages from its files.
 */
export const PGLITE_SHARED_BUFFERS = '16MB';

/**
 * PostgreSQL's WASM compiled by V8's baseline compiler (Liftoff) only, never again by TurboFan: the
 * optimized code was about 60 MiB of RSS for the life of the process (bench/README.md, "Idle memory"),
 * the gate's queries were no slower without it (a query's time is mostly PGlite's protocol, in
 * JavaScript), and PGlite starts faster. V8 reads the flag when it compiles a module, so it is set
 * just before PGlite's; it is process-wide, and the gate has no other WASM of its own.
 */
export const PGLITE_V8_FLAGS = '--liftoff-only';

export class PGliteDialect extends PostgresDialect {
  readonly #config: PGliteDialectConfig;
  #opened: { pglite: PGlite; owned: boolean } | undefined;

  constructor(config: PGliteDialectConfig = {}) {
    // The pool is created lazily: PGlite takes a few seconds to start, and only when first used.
    super({ pool: () => this.#openPool() });
    this.#config = config;
  }

  override createDriver(): Driver {
    const driver = super.createDriver() as PostgresDriver;
    const destroy = driver.destroy.bind(driver);
    driver.destroy = async () => {
      await destroy();
      const opened = this.#opened;
      this.#opened = undefined;
      if (opened?.owned && !opened.pglite.closed) await opened.pglite.close();
    };
    return driver;
  }

  async #openPool(): Promise<Pool> {
    const { createPgConfig } = await import('@electric-sql/pglite/node-postgres');
    let pglite = this.#config.pglite;
    const owned = pglite === undefined;
    if (!pglite) {
      setFlagsFromString(PGLITE_V8_FLAGS);
      const { PGlite } = await import('@electric-sql/pglite');
      const dataDir = this.#config.dataDir ?? DEFAULT_PGLITE_DIR;
      const options = {
        startParams: [...PGlite.defaultStartParams, '-c', `shared_buffers=${PGLITE_SHARED_BUFFERS}`],
      };
      if (dataDir.startsWith('memory://')) {
        pglite = new PGlite(dataDir, options);
      } else {
        const dir = resolve(dataDir);
        mkdirSync(dir, { recursive: true });
        if (!pgliteDataDirInitialised(dir))
          await initPgliteDataDirInChildProcess(dir, options.startParams, [PGLITE_V8_FLAGS]);
        pglite = new PGlite(dir, options);
      }
    }
    await pglite.waitReady;
    this.#opened = { pglite, owned };
    // PGlite is a single session: one connection, so transactions never interleave (and code
    // inside a transaction must use the transaction, not the outer db, or it waits forever).
    // The connection is never closed for idleness: there is no server to free.
    const pool = new Pool({ ...(createPgConfig(pglite) as object), max: 1, idleTimeoutMillis: 0 });
    pool.on('error', (err) => this.#config.onPoolError?.(err));
    return pool;
  }
}
