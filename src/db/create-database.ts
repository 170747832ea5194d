// The one place that opens databases: a pg Pool for a URL, embedded PGlite when there is none.
import { Kysely, PostgresDialect, sql, type LogConfig } from 'kysely';
import { Pool } from 'pg';
import { PGliteDialect, DEFAULT_PGLITE_DIR } from './pglite-dialect';
import type { GateDatabase } from './schema';

export interface CreateDatabaseOptions {
  /** Embedded only: PGlite data directory (default `.data/pglite`), or `memory://`. */
  dataDir?: string;
  /** pg only: pool size (default 10). */
  maxConnections?: number;
  /** pg only: how long to wait for a connection before failing (default 10 s). */
  connectionTimeoutMs?: number;
  /** pg only: server-side statement_timeout (default none). */
  statementTimeoutMs?: number;
  /** pg only: application_name seen in pg_stat_activity (default `invoice-gate`). */
  applicationName?: string;
  /**
   * Errors of idle connections (server restarted, network cut). The pool drops the connection and
   * reconnects on the next query; without a handler such an error would crash the process.
   */
  onPoolError?: (err: Error) => void;
  log?: LogConfig;
}

/** A Kysely instance for `url`, or for embedded PGlite when `url` is undefined. Connects lazily. */
export function createDatabase<DB = GateDatabase>(
  url: string | undefined,
  options: CreateDatabaseOptions = {},
): Kysely<DB> {
  if (url === undefined) {
    return new Kysely<DB>({
      dialect: new PGliteDialect({ dataDir: options.dataDir ?? DEFAULT_PGLITE_DIR, onPoolError: options.onPoolError }),
      log: options.log,
    });
  }
  const pool = new Pool({
    connectionString: url,
    max: options.maxConnections ?? 10,
    connectionTimeoutMillis: options.connectionTimeoutMs ?? 10_000,
    statement_timeout: options.statementTimeoutMs,
    application_name: options.applicationName ?? 'invoice-gate',
  });
  // Idle connections that die are removed by the pool, which then emits 'error'.
  pool.on('error', (err) => options.onPoolError?.(err));
  // A connection that dies while checked out (or checked out again before the pool noticed the
  // close) emits 'error' with no listener attached, which would crash the process. Its query is
  // rejected anyway and the pool discards it on release, so the event only needs a listener.
  pool.on('connect', (client) => client.on('error', () => undefined));
  return new Kysely<DB>({ dialect: new PostgresDialect({ pool }), log: options.log });
}

export interface Databases {
  /** The gate's own schema (and the ledger, unless LEDGER_DATABASE_URL is set). */
  db: Kysely<GateDatabase>;
  /** The ledger connection; the same instance as `db` when no separate URL is configured. */
  ledgerDb: Kysely<any>;
  /** True when running on embedded PGlite. */
  embedded: boolean;
  destroy(): Promise<void>;
}

/**
 * Opens the gate database and the ledger database per the Configuration table. Without
 * LEDGER_DATABASE_URL both are one instance (an embedded PGlite directory can only be opened once).
 */
export function openDatabases(
  urls: { databaseUrl: string | undefined; ledgerDatabaseUrl: string | undefined },
  options: CreateDatabaseOptions = {},
): Databases {
  const db = createDatabase<GateDatabase>(urls.databaseUrl, options);
  const separate = urls.ledgerDatabaseUrl !== undefined && urls.ledgerDatabaseUrl !== urls.databaseUrl;
  const ledgerDb: Kysely<any> = separate ? createDatabase<any>(urls.ledgerDatabaseUrl, options) : db;
  return {
    db,
    ledgerDb,
    embedded: urls.databaseUrl === undefined,
    async destroy() {
      await Promise.all(separate ? [db.destroy(), ledgerDb.destroy()] : [db.destroy()]);
    },
  };
}

/** Throws when the database cannot answer `select 1` (for /readyz). */
export async function pingDatabase(db: Kysely<any>): Promise<void> {
  await sql`select 1`.execute(db);
}
