// `npm run ledger-rollup -- [--print] [--database-url postgres://...]`: creates (or rebuilds) the daily
// rollup that `ledger.rollup` in INVOICE_GATE_CONFIG names, with the triggers that keep it exact.
// It needs DDL rights on the ledger's database, which the gate's read-only ledger role should not
// have: pass an owner's URL with --database-url, or print the SQL for a DBA with --print.
import { parseArgs } from 'node:util';
import { ConfigError, loadConfig } from '../config/env';
import { loadGateConfig } from '../config/gate-config';
import { createDatabase } from '../db/create-database';
import { createLedgerRollup, ledgerRollupStatements } from '../ledger/ledger-rollup';

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: { print: { type: 'boolean', default: false }, 'database-url': { type: 'string' } },
  });
  const config = loadConfig();
  const { ledger } = loadGateConfig(config.gateConfigPath, config.tolerance);
  if (!ledger.rollup) {
    process.stderr.write(
      'ledger-rollup: the config file names no rollup; set ledger.rollup.table in INVOICE_GATE_CONFIG\n',
    );
    return 2;
  }
  if (values.print) {
    process.stdout.write(`begin;\n${ledgerRollupStatements(ledger).join(';\n\n')};\ncommit;\n`);
    return 0;
  }
  const url = values['database-url'] ?? config.ledgerDatabaseUrl ?? config.databaseUrl;
  if (!url) {
    process.stderr.write(
      'ledger-rollup: no ledger database: pass --database-url or set LEDGER_DATABASE_URL / DATABASE_URL\n',
    );
    return 2;
  }
  const db = createDatabase<any>(url, { maxConnections: 1 });
  try {
    await createLedgerRollup(db, ledger);
  } finally {
    await db.destroy();
  }
  process.stdout.write(
    `ledger-rollup: ${ledger.rollup.schema}.${ledger.rollup.table} is built and kept by triggers on ${ledger.schema}.${ledger.table}\n`,
  );
  return 0;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`ledger-rollup: ${error instanceof ConfigError ? error.message : String(error)}\n`);
    process.exit(1);
  },
);
