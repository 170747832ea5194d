// The embedded default: the same migrations, ledger query and audit store on PGlite.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { createDatabase, openDatabases, pingDatabase } from '../../src/db/create-database';
import { migrateToLatest } from '../../src/db/migrations';
import { ensureDefaultLedgerTable } from '../../src/db/default-ledger-table';
import { DEFAULT_LEDGER_MAPPING } from '../../src/config/gate-config';
import { countLedgerEvents } from '../../src/ledger/count-ledger-events';
import { AuditStore } from '../../src/audit/audit-store';

const START = 1_767_225_600;
const END = START + 31 * 86_400;
const at = (unix: number) => new Date(unix * 1000).toISOString();

test('on a PGlite data directory: migrations, ledger query, audit store, types like pg, data kept across restarts', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'gate-pglite-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const dataDir = join(dir, 'pglite');

  const dbs = openDatabases({ databaseUrl: undefined, ledgerDatabaseUrl: undefined }, { dataDir });
  assert.equal(dbs.embedded, true);
  assert.equal(dbs.ledgerDb, dbs.db, 'one embedded instance serves gate and ledger');
  try {
    await pingDatabase(dbs.db);
    assert.deepEqual(await migrateToLatest(dbs.db), [
      '0001-audit-tables',
      '0002-invoice-lifecycle',
      '0003-backfill-runs',
      '0004-line-buckets',
      '0005-observe-mode',
      '0006-line-impact',
      '0007-line-history',
      '0008-decision-log',
      '0009-hold-queue',
      '0010-meter-error-reports',
    ]);
    assert.deepEqual(await migrateToLatest(dbs.db), []);
    await ensureDefaultLedgerTable(dbs.ledgerDb);
    await ensureDefaultLedgerTable(dbs.ledgerDb);

    // Same result types as node-postgres on a real server.
    const types =
      await sql<any>`select 0.1::numeric + 0.2 as n, 9007199254740993::int8 as i, 7::int4 as j, ${at(START)}::timestamptz as t`.execute(
        dbs.db,
      );
    assert.deepEqual(types.rows[0], { n: '0.3', i: '9007199254740993', j: 7, t: new Date(START * 1000) });

    await sql`
      insert into billable_events (stripe_customer_id, event_name, value, occurred_at) values
        ('cus_A', 'api_call', 1, ${at(START)}),
        ('cus_A', 'api_call', 1, ${at(START + 60)}),
        ('cus_A', 'api_call', 1, ${at(END)}),
        ('cus_B', 'api_call', 1, ${at(START + 60)}),
        ('cus_A', 'tokens', 0.1, ${at(START + 1)}),
        ('cus_A', 'tokens', 0.2, ${at(START + 2)}),
        ('cus_A', 'seats', 4, ${at(START + 5)}),
        ('cus_A', 'seats', 9, ${at(START + 5)}),
        ('cus_A', 'seats', 2, ${at(START + 1)})`.execute(dbs.ledgerDb);
    const line = { meterId: 'mtr', periodStart: START, periodEnd: END };
    const counts = await countLedgerEvents(dbs.ledgerDb, DEFAULT_LEDGER_MAPPING, {
      customerId: 'cus_A',
      customerMetadata: {},
      lines: [
        { ...line, lineId: 'count', eventName: 'api_call', formula: 'count' },
        { ...line, lineId: 'sum', eventName: 'tokens', formula: 'sum' },
        { ...line, lineId: 'last', eventName: 'seats', formula: 'last' },
        { ...line, lineId: 'none', eventName: 'nothing', formula: 'sum' },
      ],
    });
    assert.deepEqual(counts, { count: '2', sum: '0.3', last: '9', none: '0' });

    const audit = new AuditStore(dbs.db);
    const key = { workflowId: 'invoice-gate-in_1', runId: 'r1' };
    await audit.recordRunStarted(key, { invoiceId: 'in_1', customerId: 'cus_A' });
    await audit.recordOutcome(key, { outcome: 'passed' });
    assert.deepEqual(await audit.recordStripeEvent({ eventId: 'evt_1', type: 'invoice.created' }), {
      firstTime: true,
      duplicateCount: 0,
    });
    assert.deepEqual(await audit.recordStripeEvent({ eventId: 'evt_1', type: 'invoice.created' }), {
      firstTime: false,
      duplicateCount: 1,
    });
  } finally {
    await dbs.destroy();
  }

  // A restart finds the same data.
  const reopened = createDatabase(undefined, { dataDir });
  try {
    assert.deepEqual(await migrateToLatest(reopened), []);
    const run = await new AuditStore(reopened).getRun('in_1');
    assert.equal(run?.outcome, 'passed');
    const n = await sql<{ n: string }>`select count(*) as n from billable_events`.execute(reopened);
    assert.equal(n.rows[0].n, '9');
  } finally {
    await reopened.destroy();
  }
});
