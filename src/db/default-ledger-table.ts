// The contract's default ledger table, created when missing: for the embedded default and the demo.
// Real deployments point the mapping at their own table and never call this.
import { sql, type Kysely } from 'kysely';
import { SAFE_IDENTIFIER } from '../config/gate-config';

export interface DefaultLedgerTableOptions {
  schema?: string;
  table?: string;
}

/**
 * Creates `billable_events(stripe_customer_id text, event_name text, value numeric default 1,
 * occurred_at timestamptz)` and an index matching the ledger query, unless the table exists.
 */
export async function ensureDefaultLedgerTable(
  db: Kysely<any>,
  options: DefaultLedgerTableOptions = {},
): Promise<void> {
  const schema = options.schema ?? 'public';
  const table = options.table ?? 'billable_events';
  for (const name of [schema, table]) {
    if (!SAFE_IDENTIFIER.test(name)) throw new Error(`not a plain SQL identifier: ${JSON.stringify(name)}`);
  }
  await db.transaction().execute(async (tx) => {
    // Concurrent starts (server + worker) would race on the catalog; serialise them.
    await sql`select pg_advisory_xact_lock(hashtext(${`invoice-gate:ledger:${schema}.${table}`}))`.execute(tx);
    await sql`create schema if not exists ${sql.id(schema)}`.execute(tx);
    await sql`
      create table if not exists ${sql.id(schema, table)} (
        stripe_customer_id text not null,
        event_name text not null,
        value numeric not null default 1,
        occurred_at timestamptz not null default now()
      )`.execute(tx);
    // Matches the ledger query: equality on customer and event name, range on occurred_at;
    // value is included so count/sum/last are answered from the index alone.
    await sql`
      create index if not exists ${sql.id(`${table}_customer_event_time_idx`)}
      on ${sql.id(schema, table)} (stripe_customer_id, event_name, occurred_at) include (value)`.execute(tx);
  });
}
