// The ledger recount (src/ledger/count-ledger-events.ts) against the floor: bare index-only SQL on the
// same rows through the same pool, interleaved query by query so both see the same machine.
// The data set (10M rows: 10,000 customers x 500 rows, plus a whale with 5M rows in the period) lives
// in its own database, built once (about 3 minutes) and reused: BENCH_LEDGER_DATABASE_URL, default
// postgres://postgres@127.0.0.1:5432/invoice_gate_ledger_bench.
import { sql, type Kysely } from 'kysely';
import pg from 'pg';
import { DEFAULT_LEDGER_MAPPING, type LedgerMapping } from '../src/config/gate-config';
import { createDatabase } from '../src/db/create-database';
import type { LedgerCountRequest } from '../src/gate/types';
import { countLedgerEvents } from '../src/ledger/count-ledger-events';
import { createLedgerRollup } from '../src/ledger/ledger-rollup';
import { percentile, startTimer, toBenchResult, type BenchResult } from './bench-result';

const DATABASE_URL =
  process.env.BENCH_LEDGER_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/invoice_gate_ledger_bench';
const CUSTOMERS = 10_000;
const ROWS_PER_CUSTOMER = 500;
const WHALE_ROWS = 5_000_000;
const SAMPLED_CUSTOMERS = 500;
const WHALE_RUNS = 7;
/** A billing period as subscriptions have them: anchored mid-day, so a rollup has partial edges. */
const PERIOD_START = Date.UTC(2026, 10, 1, 13, 27) / 1000;
const PERIOD_END = Date.UTC(2026, 11, 1, 13, 27) / 1000;

const customerId = (n: number) => `cus_${String(n).padStart(6, '0')}`;

export async function runLedgerBench(): Promise<BenchResult[]> {
  await ensureDataSet();
  const db = createDatabase<any>(DATABASE_URL, { maxConnections: 1 });
  const mapping: LedgerMapping = { ...DEFAULT_LEDGER_MAPPING };
  const withRollup: LedgerMapping = { ...mapping, rollup: { schema: 'public', table: 'billable_events_daily' } };
  try {
    await ensureRollup(db, withRollup);
    const request = (customer: string): LedgerCountRequest => ({
      customerId: customer,
      customerMetadata: {},
      lines: [
        {
          lineId: 'calls',
          eventName: 'api_call',
          meterId: 'm1',
          formula: 'count',
          periodStart: PERIOD_START,
          periodEnd: PERIOD_END,
        },
        {
          lineId: 'tokens',
          eventName: 'tokens',
          meterId: 'm2',
          formula: 'sum',
          periodStart: PERIOD_START,
          periodEnd: PERIOD_END,
        },
      ],
    });
    const variants: Record<string, (customer: string) => Promise<unknown>> = {
      'bare index-only SQL (floor)': (customer) => bareQuery(db, customer),
      'product (per-line shape)': (customer) => countLedgerEvents(db, mapping, request(customer)),
      'product (one-scan shape, before)': (customer) =>
        countLedgerEvents(db, mapping, request(customer), { perLineQueryLimit: 0 }),
      'product with the daily rollup': (customer) => countLedgerEvents(db, withRollup, request(customer)),
    };
    // Warm the caches the same for everyone.
    for (let n = 1; n <= SAMPLED_CUSTOMERS; n++) await bareQuery(db, customerId(n * 19));
    const results: BenchResult[] = [];
    const normal = await interleaved(
      variants,
      Array.from({ length: SAMPLED_CUSTOMERS }, (_, i) => customerId((i + 1) * 19)),
    );
    const whale = await interleaved(
      variants,
      Array.from({ length: WHALE_RUNS }, () => 'cus_whale'),
    );
    const floor = (samples: Map<string, number[]>) => percentile(samples.get('bare index-only SQL (floor)')!, 50);
    for (const [label, samples, count] of [
      ['500 customers', normal, SAMPLED_CUSTOMERS],
      ['whale (5M rows)', whale, WHALE_RUNS],
    ] as const) {
      for (const [name, latencies] of samples) {
        const ratio = percentile(latencies, 50) / floor(samples);
        results.push(
          toBenchResult(
            `ledger ${label}: ${name}`,
            latencies,
            latencies.reduce((a, b) => a + b, 0),
            `2 lines (count + sum) per recount, ${count} recounts; p50 = ${ratio.toFixed(2)}x the floor's p50`,
          ),
        );
      }
    }
    return results;
  } finally {
    await db.destroy();
  }
}

/** Runs every variant once per customer, in rotating order, and keeps each one's latencies. */
async function interleaved(
  variants: Record<string, (customer: string) => Promise<unknown>>,
  customers: string[],
): Promise<Map<string, number[]>> {
  const names = Object.keys(variants);
  const samples = new Map(names.map((n) => [n, [] as number[]]));
  for (const [i, customer] of customers.entries()) {
    for (let k = 0; k < names.length; k++) {
      const name = names[(i + k) % names.length];
      const elapsed = startTimer();
      await variants[name](customer);
      samples.get(name)!.push(elapsed());
    }
  }
  return samples;
}

/** The floor: the two answers with the simplest SQL there is, one statement. */
async function bareQuery(db: Kysely<any>, customer: string): Promise<unknown> {
  const from = new Date(PERIOD_START * 1000).toISOString();
  const to = new Date(PERIOD_END * 1000).toISOString();
  const { rows } = await sql`
    select (select count(*) from billable_events where stripe_customer_id = ${customer} and event_name = 'api_call'
              and occurred_at >= ${from}::timestamptz and occurred_at < ${to}::timestamptz) as calls,
           (select sum(value) from billable_events where stripe_customer_id = ${customer} and event_name = 'tokens'
              and occurred_at >= ${from}::timestamptz and occurred_at < ${to}::timestamptz) as tokens`.execute(db);
  return rows;
}

async function ensureDataSet(): Promise<void> {
  const url = new URL(DATABASE_URL);
  const name = url.pathname.slice(1);
  const admin = new pg.Client({
    connectionString: Object.assign(new URL(DATABASE_URL), { pathname: '/postgres' }).href,
  });
  await admin.connect();
  try {
    const exists = await admin.query('select 1 from pg_database where datname = $1', [name]);
    if (exists.rowCount === 0) await admin.query(`create database "${name}"`);
  } finally {
    await admin.end();
  }
  const client = new pg.Client({ connectionString: DATABASE_URL });
  await client.connect();
  try {
    const ready = await client.query(`select to_regclass('public.bench_ready') is not null as ready`);
    if (ready.rows[0].ready) return;
    console.error(`building the ledger data set in ${name} (10M rows; a few minutes, once)`);
    await client.query(`drop table if exists billable_events cascade; drop table if exists billable_events_daily`);
    await client.query(`create table billable_events (stripe_customer_id text not null, event_name text not null,
      value numeric not null default 1, occurred_at timestamptz not null default now())`);
    await client.query(`insert into billable_events
      select 'cus_' || lpad(c::text, 6, '0'), case when r % 2 = 0 then 'api_call' else 'tokens' end, (r % 7) + 0.5,
             timestamptz '2026-11-01' + ((c::bigint * 7919 + r::bigint * 104729) % (30 * 86400)) * interval '1 second'
      from generate_series(1, ${CUSTOMERS}) c, generate_series(1, ${ROWS_PER_CUSTOMER}) r`);
    await client.query(`insert into billable_events
      select 'cus_whale', case when r % 2 = 0 then 'api_call' else 'tokens' end, (r % 7) + 0.5,
             timestamptz '2026-11-01' + ((r::bigint * 104729) % (30 * 86400)) * interval '1 second'
               + (r % 1000) * interval '1 microsecond'
      from generate_series(1, ${WHALE_ROWS}) r`);
    // The index docs/configuration.md recommends.
    await client.query(`create index billable_events_customer_event_time_idx
      on billable_events (stripe_customer_id, event_name, occurred_at) include (value)`);
    await client.query(`vacuum analyze billable_events`);
    await client.query(`create table bench_ready ()`);
  } finally {
    await client.end();
  }
}

async function ensureRollup(db: Kysely<any>, mapping: LedgerMapping): Promise<void> {
  const { rows } = await sql<{
    ready: boolean;
  }>`select to_regclass('public.billable_events_daily') is not null as ready`.execute(db);
  if (rows[0].ready) return;
  console.error('building the daily rollup (once)');
  await createLedgerRollup(db, mapping);
  await sql`vacuum analyze billable_events_daily`.execute(db);
}
