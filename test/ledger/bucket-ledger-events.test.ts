// The ledger grouped per UTC day and hour exactly as countLedgerEvents aggregates a line: the buckets
// add up to the line's count and sum, and for `last` each bucket holds its latest value.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import Decimal from 'decimal.js';
import { sql } from 'kysely';
import { DEFAULT_LEDGER_MAPPING, type LedgerMapping } from '../../src/config/gate-config';
import { ensureDefaultLedgerTable } from '../../src/db/default-ledger-table';
import type { AggregationFormula } from '../../src/gate/types';
import { bucketLedgerEvents } from '../../src/ledger/bucket-ledger-events';
import { countLedgerEvents } from '../../src/ledger/count-ledger-events';
import { openTestDatabase, type TestDatabase } from '../db/pg-test-database';

const DAY = 1_767_225_600; // 2026-01-01T00:00:00Z
const H = 3600;
let tdb: TestDatabase;
let mapping: LedgerMapping;

before(async () => {
  tdb = openTestDatabase();
  const schema = await tdb.createSchema('ledger_buckets');
  await ensureDefaultLedgerTable(tdb.db, { schema });
  mapping = { ...DEFAULT_LEDGER_MAPPING, schema };
  const rows: Array<[number, string]> = [
    [DAY + 30, '0.5'], // first hour of the first day
    [DAY + H - 1, '1.25'],
    [DAY + 5 * H, '2'],
    [DAY + 86_400 + 10, '4'], // the second day
    [DAY + 86_400 + 10, '3'], // same instant: the greater value decides `last`
    [DAY + 2 * 86_400, '100'], // at the end of the range: out
  ];
  for (const [t, v] of rows)
    await sql`insert into ${sql.id(schema, 'billable_events')} (stripe_customer_id, event_name, value, occurred_at)
      values ('cus_A', 'gb', ${v}::numeric, to_timestamp(${t}))`.execute(tdb.db);
});

after(async () => {
  await tdb.close();
});

const line = (formula: AggregationFormula) => ({ lineId: 'il_1', eventName: 'gb', meterId: 'mtr_gb', formula });
const buckets = (formula: AggregationFormula, grain: 'day' | 'hour', start = DAY, end = DAY + 2 * 86_400) =>
  bucketLedgerEvents(tdb.db, mapping, {
    customerId: 'cus_A',
    customerMetadata: {},
    line: line(formula),
    start,
    end,
    grain,
  });

test('count and sum per UTC day and hour add up to the line', async () => {
  assert.deepEqual(await buckets('sum', 'day'), [
    { key: DAY, value: '3.75' },
    { key: DAY + 86_400, value: '7' },
  ]);
  assert.deepEqual(await buckets('count', 'hour'), [
    { key: DAY, value: '2' },
    { key: DAY + 5 * H, value: '1' },
    { key: DAY + 86_400, value: '2' },
  ]);
  for (const formula of ['sum', 'count'] as const) {
    const total = (await buckets(formula, 'hour')).reduce((s, b) => s.plus(b.value), new Decimal(0)).toFixed();
    const counted = await countLedgerEvents(tdb.db, mapping, {
      customerId: 'cus_A',
      customerMetadata: {},
      lines: [{ ...line(formula), periodStart: DAY, periodEnd: DAY + 2 * 86_400 }],
    });
    assert.equal(total, counted.il_1, formula);
  }
});

test('last: each bucket holds its latest value (ties: the greatest)', async () => {
  assert.deepEqual(await buckets('last', 'day'), [
    { key: DAY, value: '2' },
    { key: DAY + 86_400, value: '4' },
  ]);
});

test('a partial range keeps only its own rows, keyed by the bucket they fall in', async () => {
  assert.deepEqual(await buckets('sum', 'hour', DAY + 60, DAY + 6 * H), [
    { key: DAY, value: '1.25' },
    { key: DAY + 5 * H, value: '2' },
  ]);
});
