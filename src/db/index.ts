// Database entry points for the rest of the service.
export {
  createDatabase,
  openDatabases,
  pingDatabase,
  type CreateDatabaseOptions,
  type Databases,
} from './create-database';
export { migrateToLatest, MigrationError, type MigrateOptions } from './migrations';
export { ensureDefaultLedgerTable, type DefaultLedgerTableOptions } from './default-ledger-table';
export { PGliteDialect, DEFAULT_PGLITE_DIR, type PGliteDialectConfig } from './pglite-dialect';
export { DEFAULT_GATE_SCHEMA, type GateDatabase } from './schema';
