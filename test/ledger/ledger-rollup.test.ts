// The daily rollup answers whole UTC days and the ledger table the edges: every count and sum must be
// what the raw rows say, after inserts, late usage, updates and deletes made after the rollup was built.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import { DEFAULT_LEDGER_MAPPING, parseGateConfig, type LedgerMapping } from '../../src/config/gate-config';
import { countLedgerEvents } from '../../src/ledger/count-ledger-events';
import { createLedgerRollup, ledgerRollupStatements } from '../../src/ledger/ledger-rollup';
import type { LedgerCountRequest } from '../../src/gate/types';
import { openTestDatabase, type TestDatabase } from '../db/pg-test-database';

const NOV_1 = Date.UTC(2026, 10, 1) / 1000;
const HOUR = 3_600;
const DAY = 86_400;
const at = (unix: number) => new Date(unix * 1000).toISOString();

let tdb: TestDatabase;
let raw: LedgerMapping;
let rolled: LedgerMapping;

async function insert(rows: Array<[account: string, kind: string, qty: string, ts: number, status?: string]>) {
  const values = rows.map(
    ([a, k, q, ts, status]) => sql`(${a}, ${k}, ${q}::numeric, ${at(ts)}::timestamptz, ${status ?? 'billable'})`,
  );
  await sql`insert into ${sql.id(raw.schema, 'usage')} (account, kind, qty, ts, status) values ${sql.join(values)}`.execute(
    tdb.db,
  );
}

/** Periods aligned and not aligned to UTC days, within one day, and spanning the whole data set. */
const PERIODS: Array<[number, number]> = [
  [NOV_1, NOV_1 + 10 * DAY],
  [NOV_1 + 5 * HOUR, NOV_1 + 7 * DAY + 2 * HOUR],
  [NOV_1 + DAY, NOV_1 + 2 * DAY],
  [NOV_1 + DAY + 1, NOV_1 + 2 * DAY - 1],
  [NOV_1 + 3 * DAY + 12 * HOUR, NOV_1 + 4 * DAY + 12 * HOUR],
  [NOV_1 - DAY, NOV_1 + 20 * DAY],
];

function request(account: string): LedgerCountRequest {
  return {
    customerId: account,
    customerMetadata: {},
    lines: PERIODS.flatMap(([periodStart, periodEnd], i) =>
      (['count', 'sum', 'last'] as const).map((formula) => ({
        lineId: `${formula}_${i}`,
        eventName: 'api_call',
        meterId: 'mtr_api',
        formula,
        periodStart,
        periodEnd,
      })),
    ),
  };
}

async function assertRollupMatchesRaw(account: string, step: string) {
  const expected = await countLedgerEvents(tdb.db, raw, request(account), { perLineQueryLimit: 0 });
  const actual = await countLedgerEvents(tdb.db, rolled, request(account), { perLineQueryLimit: 100 });
  assert.deepEqual(actual, expected, `${step}: the rollup's answer equals the raw rows'`);
  return actual;
}

before(async () => {
  tdb = openTestDatabase();
  const schema = await tdb.createSchema('ledger_rollup');
  await sql`create table ${sql.id(schema, 'usage')} (
    account text not null, kind text not null, qty numeric, ts timestamptz not null, status text not null
  )`.execute(tdb.db);
  raw = {
    ...DEFAULT_LEDGER_MAPPING,
    schema,
    table: 'usage',
    columns: { customer: 'account', eventName: 'kind', value: 'qty', occurredAt: 'ts' },
    filter: "status = 'billable'",
  };
  rolled = { ...raw, rollup: { schema, table: 'usage_daily' } };
  // Every 37 minutes over 10 days, including rows exactly at midnight; some filtered out, some NULL values.
  const rows: Array<[string, string, string, number, string?]> = [];
  for (let t = NOV_1; t < NOV_1 + 10 * DAY; t += 37 * 60) {
    rows.push(['acct_1', 'api_call', String(((t / 60) % 9) + 0.25), t]);
    if (t % 3 === 0) rows.push(['acct_1', 'api_call', '100', t, 'test']);
  }
  rows.push(['acct_1', 'api_call', '5', NOV_1 + DAY], ['acct_1', 'api_call', '7', NOV_1 + 2 * DAY - 1]);
  rows.push(['acct_1', 'api_call', null as unknown as string, NOV_1 + 3 * DAY + 5], ['acct_2', 'api_call', '1', NOV_1]);
  await insert(rows);
  await createLedgerRollup(tdb.db, rolled);
});

after(() => tdb.close());

test('built from the existing rows: equal to the raw rows for every period and formula', async () => {
  const counts = await assertRollupMatchesRaw('acct_1', 'after the build');
  assert.notEqual(counts.count_0, '0');
});

test('late usage, updates and deletes after the build keep it exact (the triggers)', async () => {
  await insert([
    ['acct_1', 'api_call', '2.5', NOV_1 + 2 * DAY + 10],
    ['acct_1', 'api_call', '3', NOV_1 + 4 * DAY],
    ['acct_3', 'api_call', '9', NOV_1 + 6 * DAY],
  ]);
  await assertRollupMatchesRaw('acct_1', 'after late inserts');
  await sql`update ${sql.id(raw.schema, 'usage')} set qty = qty * 2 where ts < ${at(NOV_1 + 2 * DAY)}::timestamptz`.execute(
    tdb.db,
  );
  await sql`update ${sql.id(raw.schema, 'usage')} set ts = ts + interval '3 days' where ts >= ${at(NOV_1 + 5 * DAY)}::timestamptz and ts < ${at(NOV_1 + 5 * DAY + 6 * HOUR)}::timestamptz`.execute(
    tdb.db,
  );
  await sql`update ${sql.id(raw.schema, 'usage')} set status = 'billable' where status = 'test' and ts < ${at(NOV_1 + DAY)}::timestamptz`.execute(
    tdb.db,
  );
  await assertRollupMatchesRaw('acct_1', 'after updates (values, days and the filtered column)');
  await sql`delete from ${sql.id(raw.schema, 'usage')} where ts >= ${at(NOV_1 + 3 * DAY)}::timestamptz and ts < ${at(NOV_1 + 4 * DAY)}::timestamptz`.execute(
    tdb.db,
  );
  await assertRollupMatchesRaw('acct_1', 'after deletes');
  await assertRollupMatchesRaw('acct_3', 'a customer first seen after the build');
});

test('whole days are read from the rollup, edges from the ledger table', async () => {
  const line = { lineId: 'l', eventName: 'api_call', meterId: 'm', formula: 'count' as const };
  const mid = { ...line, periodStart: NOV_1 + 12 * HOUR, periodEnd: NOV_1 + 3 * DAY + 12 * HOUR };
  const before = await countLedgerEvents(tdb.db, rolled, { customerId: 'acct_2', customerMetadata: {}, lines: [mid] });
  assert.equal(before.l, '0', 'acct_2 has one row at Nov 1 00:00, outside this period');
  // A rollup row the ledger table does not have shows up only for periods that contain its whole day.
  await sql`insert into ${sql.id(raw.schema, 'usage_daily')} values ('acct_2', 'api_call', '2026-11-02', 40, 0)`.execute(
    tdb.db,
  );
  try {
    const whole = await countLedgerEvents(tdb.db, rolled, { customerId: 'acct_2', customerMetadata: {}, lines: [mid] });
    assert.equal(whole.l, '40');
    const partial = { ...line, periodStart: NOV_1 + DAY + 1, periodEnd: NOV_1 + 3 * DAY };
    const edge = await countLedgerEvents(tdb.db, rolled, {
      customerId: 'acct_2',
      customerMetadata: {},
      lines: [partial],
    });
    assert.equal(edge.l, '0', 'Nov 2 is not whole in this period: read from the ledger table');
  } finally {
    await sql`delete from ${sql.id(raw.schema, 'usage_daily')} where customer_key = 'acct_2' and day = '2026-11-02'`.execute(
      tdb.db,
    );
  }
});

test('rebuilding is idempotent, and the statements can be printed for review', async () => {
  await createLedgerRollup(tdb.db, rolled);
  await assertRollupMatchesRaw('acct_1', 'after a rebuild');
  const statements = ledgerRollupStatements(rolled).join(';\n');
  assert.match(statements, /create trigger invoice_gate_rollup_insert after insert/);
  assert.match(statements, /status = 'billable'/, 'the mapping filter is part of the rollup');
  assert.throws(() => ledgerRollupStatements(raw), /names no rollup/);
});

test('the config file names the rollup; its schema defaults to the ledger table schema', () => {
  const tolerance = { pct: '1', abs: '0' };
  const config = parseGateConfig(
    { ledger: { schema: 'billing', table: 'usage_events', rollup: { table: 'usage_daily' } } },
    tolerance,
  );
  assert.deepEqual(config.ledger.rollup, { schema: 'billing', table: 'usage_daily' });
  assert.equal(parseGateConfig({}, tolerance).ledger.rollup, null);
  assert.throws(() => parseGateConfig({ ledger: { rollup: { table: 'bad name' } } }, tolerance), /rollup\.table/);
});
