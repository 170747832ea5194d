// Migrations are listed in code (no directory scanning, so they work from tsx, bundles and tests)
// and are parameterised by schema so tests can migrate a private schema.
import { Migrator, type Kysely, type Migration, type MigrationProvider, type MigrationResult } from 'kysely';
import { DEFAULT_GATE_SCHEMA } from '../schema';
import { auditTables } from './0001-audit-tables';
import { invoiceLifecycle } from './0002-invoice-lifecycle';
import { backfillRuns } from './0003-backfill-runs';
import { lineBuckets } from './0004-line-buckets';
import { observeMode } from './0005-observe-mode';
import { lineImpact } from './0006-line-impact';
import { lineHistory } from './0007-line-history';
import { decisionLog } from './0008-decision-log';
import { holdQueue } from './0009-hold-queue';
import { meterErrorReports } from './0010-meter-error-reports';

/** Name -> migration; names sort in the order they must run. Append, never edit or reorder. */
export function gateMigrations(schema: string): Record<string, Migration> {
  return {
    '0001-audit-tables': auditTables(schema),
    '0002-invoice-lifecycle': invoiceLifecycle(schema),
    '0003-backfill-runs': backfillRuns(schema),
    '0004-line-buckets': lineBuckets(schema),
    '0005-observe-mode': observeMode(schema),
    '0006-line-impact': lineImpact(schema),
    '0007-line-history': lineHistory(schema),
    '0008-decision-log': decisionLog(schema),
    '0009-hold-queue': holdQueue(schema),
    '0010-meter-error-reports': meterErrorReports(schema),
  };
}

export class GateMigrationProvider implements MigrationProvider {
  constructor(private readonly schema: string) {}
  async getMigrations(): Promise<Record<string, Migration>> {
    return gateMigrations(this.schema);
  }
}

export class MigrationError extends Error {
  override readonly name = 'MigrationError';
  constructor(
    message: string,
    readonly results: MigrationResult[],
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export interface MigrateOptions {
  /** Schema of the gate tables and of Kysely's migration bookkeeping. Default `invoice_gate`. */
  schema?: string;
}

/**
 * Brings the gate schema up to date; safe to run at every start and from several processes at
 * once (Kysely takes a lock). Returns the names of the migrations it applied.
 */
export async function migrateToLatest(db: Kysely<any>, options: MigrateOptions = {}): Promise<string[]> {
  const schema = options.schema ?? DEFAULT_GATE_SCHEMA;
  const migrator = new Migrator({
    db,
    provider: new GateMigrationProvider(schema),
    migrationTableSchema: schema,
  });
  const { error, results = [] } = await migrator.migrateToLatest();
  if (error) {
    const failed = results.find((r) => r.status === 'Error')?.migrationName;
    throw new MigrationError(
      `migrating schema ${schema} failed${failed ? ` at ${failed}` : ''}: ${error instanceof Error ? error.message : String(error)}`,
      results,
      { cause: error },
    );
  }
  return results.filter((r) => r.status === 'Success').map((r) => r.migrationName);
}
