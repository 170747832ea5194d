import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import { createDatabase } from '../../src/db/create-database';
import { ensureDefaultLedgerTable } from '../../src/db/default-ledger-table';
import { DEFAULT_LEDGER_MAPPING, type LedgerMapping } from '../../src/config/gate-config';
import { countLedgerEvents, LedgerMappingError } from '../../src/ledger/count-ledger-events';
import type { LedgerCounts } from '../../src/gate/types';
import { isRetryableLedgerError } from '../../src/ledger/ledger-errors';
import type { LedgerCountRequest } from '../../src/gate/types';
import { openTestDatabase, TEST_DATABASE_URL, type TestDatabase } from '../db/pg-test-database';

const START = 1_767_225_600; // 2026-01-01T00:00:00Z
const END = START + 31 * 86_400; // 2026-02-01T00:00:00Z
const at = (unix: number) => new Date(unix * 1000).toISOString();

let tdb: TestDatabase;
let mapping: LedgerMapping;

type Row = [customer: string, event: string, value: string, occurredAt: string];

async function insert(rows: Row[], table = 'billable_events'): Promise<void> {
  const values = rows.map(([c, e, v, o]) => sql`(${c}, ${e}, ${v}::numeric, ${o}::timestamptz)`);
  await sql`insert into ${sql.id(mapping.schema, table)} (stripe_customer_id, event_name, value, occurred_at) values ${sql.join(values)}`.execute(
    tdb.db,
  );
}

function request(
  lines: Array<Partial<LedgerCountRequest['lines'][number]> & { lineId: string }>,
  customerId = 'cus_A',
): LedgerCountRequest {
  return {
    customerId,
    customerMetadata: {},
    lines: lines.map((l) => ({
      eventName: 'api_call',
      meterId: 'mtr_api',
      formula: 'count',
      periodStart: START,
      periodEnd: END,
      ...l,
    })),
  };
}

before(async () => {
  tdb = openTestDatabase();
  const schema = await tdb.createSchema('ledger_q');
  await ensureDefaultLedgerTable(tdb.db, { schema });
  mapping = { ...DEFAULT_LEDGER_MAPPING, schema };
  await insert([
    // api_call for cus_A: at start (in), middle (in), 1 µs before end (in), at end (out), before start (out)
    ['cus_A', 'api_call', '1', at(START)],
    ['cus_A', 'api_call', '1', at(START + 3600)],
    ['cus_A', 'api_call', '1', '2026-01-31T23:59:59.999999Z'],
    ['cus_A', 'api_call', '1', at(END)],
    ['cus_A', 'api_call', '1', '2025-12-31T23:59:59.999999Z'],
    // other customer, other event
    ['cus_B', 'api_call', '1', at(START + 10)],
    ['cus_A', 'other_event', '1', at(START + 10)],
    // sums that a float would get wrong
    ['cus_A', 'tokens', '0.1', at(START + 1)],
    ['cus_A', 'tokens', '0.2', at(START + 2)],
    ['cus_A', 'tokens', '100', at(END)],
    ['cus_A', 'big', '12345678901234567890.123456789', at(START + 1)],
    ['cus_A', 'big', '0.000000001', at(START + 2)],
    // last: latest in period wins; the tie at the latest instant goes to the greatest value; the row at END is outside
    ['cus_A', 'seats', '7', at(START)],
    ['cus_A', 'seats', '12', at(START + 5000)],
    ['cus_A', 'seats', '9.5', at(START + 5000)],
    ['cus_A', 'seats', '3', at(START + 100)],
    ['cus_A', 'seats', '999', at(END)],
  ]);
});

after(() => tdb.close());

/** Counts with both query shapes (one branch per line, and one scan for many lines): they must agree. */
async function countBoth(m: LedgerMapping, req: LedgerCountRequest): Promise<LedgerCounts> {
  const perLine = await countLedgerEvents(tdb.db, m, req);
  const oneScan = await countLedgerEvents(tdb.db, m, req, { perLineQueryLimit: 0 });
  assert.deepEqual(oneScan, perLine, 'the one-scan shape answers as the per-line shape does');
  return perLine;
}

test('count: the half-open period [start, end), only this customer and event name', async () => {
  const counts = await countBoth(mapping, request([{ lineId: 'il_1' }]));
  assert.deepEqual(counts, { il_1: '3' });
});

test('sum: exact decimals, end excluded', async () => {
  const counts = await countBoth(
    mapping,
    request([
      { lineId: 'il_tokens', eventName: 'tokens', formula: 'sum' },
      { lineId: 'il_big', eventName: 'big', formula: 'sum' },
    ]),
  );
  assert.deepEqual(counts, { il_tokens: '0.3', il_big: '12345678901234567890.12345679' });
});

test('last: the value at the latest occurred_at in the period; ties take the greatest value', async () => {
  const counts = await countBoth(mapping, request([{ lineId: 'il_seats', eventName: 'seats', formula: 'last' }]));
  assert.deepEqual(counts, { il_seats: '12' });
  const early = await countBoth(
    mapping,
    request([{ lineId: 'il_early', eventName: 'seats', formula: 'last', periodStart: START, periodEnd: START + 101 }]),
  );
  assert.deepEqual(early, { il_early: '3' });
});

test('no rows: "0" for every formula', async () => {
  const counts = await countBoth(
    mapping,
    request(
      [
        { lineId: 'c', formula: 'count' },
        { lineId: 's', formula: 'sum' },
        { lineId: 'l', formula: 'last' },
      ],
      'cus_nobody',
    ),
  );
  assert.deepEqual(counts, { c: '0', s: '0', l: '0' });
});

test('several lines, same event name, different periods and formulas: one query in either shape', async () => {
  for (const perLineQueryLimit of [undefined, 0]) {
    let queries = 0;
    const counted = createDatabase<any>(TEST_DATABASE_URL, { maxConnections: 1, log: () => void queries++ });
    try {
      const counts = await countLedgerEvents(
        counted,
        mapping,
        request([
          { lineId: 'whole', periodStart: START, periodEnd: END },
          { lineId: 'first_hour', periodStart: START, periodEnd: START + 3600 },
          { lineId: 'from_hour', periodStart: START + 3600, periodEnd: END + 1 },
          { lineId: 'empty', periodStart: START + 7200, periodEnd: START + 7200 },
          { lineId: 'sum_whole', formula: 'sum' },
          { lineId: 'seats_last', eventName: 'seats', formula: 'last' },
          // the same question twice (two prices on one meter): asked once, answered for both lines
          { lineId: 'whole_again', periodStart: START, periodEnd: END },
        ]),
        { perLineQueryLimit },
      );
      assert.deepEqual(counts, {
        whole: '3',
        first_hour: '1',
        from_hour: '3',
        empty: '0',
        sum_whole: '3',
        seats_last: '12',
        whole_again: '3',
      });
      assert.equal(queries, 1);
    } finally {
      await counted.destroy();
    }
  }
});

test('no lines: no query, no counts', async () => {
  assert.deepEqual(await countBoth(mapping, request([])), {});
});

test('filter sees only ledger columns, even names the query uses itself', async () => {
  const filtered = { ...mapping, filter: "event_name <> 'api_call' or occurred_at < '2026-01-01T00:30:00Z'" };
  const counts = await countBoth(filtered, request([{ lineId: 'il_1' }]));
  assert.deepEqual(counts, { il_1: '1' });
});

test('the mapping: renamed table and columns, customer via metadata, filter, event-name map', async () => {
  await sql`
    create table ${sql.id(mapping.schema, 'usage_log')} (
      account_id bigint not null, kind varchar(40) not null, qty numeric(12, 4), ts timestamptz not null, status text not null
    )`.execute(tdb.db);
  await sql`
    insert into ${sql.id(mapping.schema, 'usage_log')} values
      (42, 'gpu.seconds', 1.5, ${at(START + 1)}, 'billable'),
      (42, 'gpu.seconds', 2.25, ${at(START + 2)}, 'billable'),
      (42, 'gpu.seconds', 100, ${at(START + 3)}, 'test'),
      (42, 'gpu.seconds', null, ${at(START + 4)}, 'billable'),
      (43, 'gpu.seconds', 5, ${at(START + 1)}, 'billable'),
      (42, 'api.request', 1, ${at(START + 1)}, 'billable'),
      (42, 'api.request', 1, ${at(START + 2)}, 'billable')`.execute(tdb.db);
  const custom: LedgerMapping = {
    schema: mapping.schema,
    table: 'usage_log',
    columns: { customer: 'account_id', eventName: 'kind', value: 'qty', occurredAt: 'ts' },
    customerKey: 'metadata.account_id',
    filter: "status = 'billable'",
    eventNames: { mtr_gpu: 'gpu.seconds', api_call: 'api.request' },
    rollup: null,
  };
  const req: LedgerCountRequest = {
    customerId: 'cus_A',
    customerMetadata: { account_id: '42' },
    lines: [
      {
        lineId: 'gpu_sum',
        eventName: 'gpu_time',
        meterId: 'mtr_gpu',
        formula: 'sum',
        periodStart: START,
        periodEnd: END,
      },
      {
        lineId: 'gpu_count',
        eventName: 'gpu_time',
        meterId: 'mtr_gpu',
        formula: 'count',
        periodStart: START,
        periodEnd: END,
      },
      {
        lineId: 'gpu_last',
        eventName: 'gpu_time',
        meterId: 'mtr_gpu',
        formula: 'last',
        periodStart: START,
        periodEnd: END,
      },
      {
        lineId: 'api',
        eventName: 'api_call',
        meterId: 'mtr_other',
        formula: 'count',
        periodStart: START,
        periodEnd: END,
      },
    ],
  };
  const counts = await countBoth(custom, req);
  // sum ignores the NULL value; count counts the row; last skips the NULL-valued latest row
  assert.deepEqual(counts, { gpu_sum: '3.75', gpu_count: '3', gpu_last: '2.25', api: '2' });

  await assert.rejects(countLedgerEvents(tdb.db, custom, { ...req, customerMetadata: {} }), (err: unknown) => {
    assert.ok(err instanceof LedgerMappingError);
    assert.match(err.message, /cus_A has no metadata "account_id"/);
    assert.equal(isRetryableLedgerError(err), false);
    return true;
  });
});

test('mapping and database errors: not retryable', async () => {
  await assert.rejects(
    countLedgerEvents(tdb.db, { ...mapping, table: 'no_such_table' }, request([{ lineId: 'x' }])),
    (err: any) => {
      assert.equal(err.code, '42P01');
      assert.equal(isRetryableLedgerError(err), false);
      return true;
    },
  );
  await assert.rejects(
    countLedgerEvents(tdb.db, { ...mapping, filter: 'no_such_column = 1' }, request([{ lineId: 'x' }])),
    (err: any) => {
      assert.equal(err.code, '42703');
      assert.equal(isRetryableLedgerError(err), false);
      return true;
    },
  );
  await assert.rejects(
    countLedgerEvents(tdb.db, { ...mapping, table: 'bad name' }, request([{ lineId: 'x' }])),
    LedgerMappingError,
  );
  await assert.rejects(
    countLedgerEvents(tdb.db, mapping, request([{ lineId: 'x', formula: 'max' as any }])),
    /unknown aggregation formula/,
  );
});
