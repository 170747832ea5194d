import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import { migrateToLatest } from '../../src/db/migrations';
import { ensureDefaultLedgerTable } from '../../src/db/default-ledger-table';
import { openTestDatabase } from './pg-test-database';

test('migrations create the gate tables and are idempotent, also when run concurrently', async (t) => {
  const tdb = openTestDatabase();
  t.after(() => tdb.close());
  const schema = tdb.reserveSchema('gate_mig');

  const [a, b] = await Promise.all([migrateToLatest(tdb.db, { schema }), migrateToLatest(tdb.db, { schema })]);
  assert.deepEqual(
    [...a, ...b],
    [
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
    ],
    'applied exactly once',
  );
  assert.deepEqual(await migrateToLatest(tdb.db, { schema }), [], 'nothing left to apply');

  const tables = await sql<{ table_name: string }>`
    select table_name from information_schema.tables where table_schema = ${schema} order by table_name`.execute(
    tdb.db,
  );
  assert.deepEqual(
    tables.rows.map((r) => r.table_name),
    [
      'backfill_invoices',
      'backfill_lines',
      'backfill_runs',
      'decision_log',
      'gate_line_buckets',
      'gate_line_history',
      'gate_lines',
      'gate_runs',
      'kysely_migration',
      'kysely_migration_lock',
      'meter_error_reports',
      'review_attempts',
      'stripe_events',
    ],
  );
});

test('ensureDefaultLedgerTable creates the contract table once, with its index', async (t) => {
  const tdb = openTestDatabase();
  t.after(() => tdb.close());
  const schema = await tdb.createSchema('gate_ledger');

  await Promise.all([ensureDefaultLedgerTable(tdb.db, { schema }), ensureDefaultLedgerTable(tdb.db, { schema })]);
  await ensureDefaultLedgerTable(tdb.db, { schema });

  const columns = await sql<{ column_name: string; data_type: string; column_default: string | null }>`
    select column_name, data_type, column_default from information_schema.columns
    where table_schema = ${schema} and table_name = 'billable_events' order by ordinal_position`.execute(tdb.db);
  assert.deepEqual(
    columns.rows.map((c) => [c.column_name, c.data_type]),
    [
      ['stripe_customer_id', 'text'],
      ['event_name', 'text'],
      ['value', 'numeric'],
      ['occurred_at', 'timestamp with time zone'],
    ],
  );
  assert.equal(columns.rows[2].column_default, '1');
  const indexes = await sql<{ indexdef: string }>`select indexdef from pg_indexes where schemaname = ${schema}`.execute(
    tdb.db,
  );
  assert.equal(indexes.rows.length, 1);
  assert.match(indexes.rows[0].indexdef, /\(stripe_customer_id, event_name, occurred_at\) INCLUDE \(value\)/);

  await sql`insert into ${sql.id(schema, 'billable_events')} (stripe_customer_id, event_name, occurred_at) values ('cus_1', 'e', now())`.execute(
    tdb.db,
  );
  const row = await sql<{ value: string }>`select value from ${sql.id(schema, 'billable_events')}`.execute(tdb.db);
  assert.equal(row.rows[0].value, '1', 'value defaults to 1 and comes back as a decimal string');
});

test('ensureDefaultLedgerTable refuses unsafe names', async (t) => {
  const tdb = openTestDatabase();
  t.after(() => tdb.close());
  await assert.rejects(ensureDefaultLedgerTable(tdb.db, { table: 'x; drop table y' }), /not a plain SQL identifier/);
});
