// `npm run audit -- verify` checks the decision log's hash chain (exit 0 intact, 1 naming the first row
// that does not match); `npm run audit -- export --since D [--until D] --out F.csv` writes the log. Reads
// DATABASE_URL (the embedded database when unset), nothing else; exit 2 for bad arguments.
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { AUDIT_USAGE, AuditArgumentsError, parseAuditArguments, type AuditCommand } from '../audit/audit-arguments';
import { DecisionLog } from '../audit/decision-log';
import { describeChainBreak } from '../audit/decision-chain';
import { decisionLogCsvHeader, decisionLogCsvRow } from '../audit/decision-log-csv';
import { ConfigError, loadConfig } from '../config/env';
import { sql } from 'kysely';
import { DEFAULT_GATE_SCHEMA, createDatabase } from '../db';

async function run(command: AuditCommand, log: DecisionLog): Promise<number> {
  if (command.command === 'verify') {
    const result = await log.verify();
    if (result.intact) {
      process.stdout.write(`decision log intact: ${result.rows} rows, head hash ${result.headHash}\n`);
      return 0;
    }
    process.stdout.write(
      `decision log BROKEN after ${result.rowsIntact} intact rows\n` +
        `first row that does not match: ${result.firstBreak.seq}\n${describeChainBreak(result.firstBreak)}\n`,
    );
    return 1;
  }
  const out = createWriteStream(command.out);
  let rows = 0;
  const write = async (text: string) => {
    if (!out.write(text)) await once(out, 'drain');
  };
  await write(decisionLogCsvHeader());
  for await (const entry of log.between(command.since, command.until)) {
    await write(decisionLogCsvRow(entry));
    rows += 1;
  }
  out.end();
  await once(out, 'finish');
  process.stdout.write(`wrote ${rows} decision log rows to ${command.out}\n`);
  return 0;
}

async function main(): Promise<number> {
  let command: AuditCommand;
  try {
    command = parseAuditArguments(process.argv.slice(2));
  } catch (error) {
    if (!(error instanceof AuditArgumentsError)) throw error;
    process.stderr.write(`invoice-gate audit: ${error.message}\n\n${AUDIT_USAGE}\n`);
    return 2;
  }
  let config;
  try {
    config = loadConfig();
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`invoice-gate: invalid configuration\n${error.message}\n`);
    return 1;
  }
  const db = createDatabase(config.databaseUrl, { maxConnections: 2 });
  try {
    // Read-only: the auditor's role may have no rights to migrate, and a database the gate never ran on
    // is reported as such rather than given tables.
    const found = await sql<{
      found: boolean;
    }>`select to_regclass(${`${DEFAULT_GATE_SCHEMA}.decision_log`}) is not null as found`.execute(db);
    if (!found.rows[0]?.found) {
      process.stderr.write(
        `invoice-gate audit: no decision log in schema ${DEFAULT_GATE_SCHEMA} of this database (has the gate run here?)\n`,
      );
      return 1;
    }
    return await run(command, new DecisionLog(db));
  } catch (error) {
    process.stderr.write(`invoice-gate audit: ${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  } finally {
    await db.destroy();
  }
}

void main().then((code) => process.exit(code));
