// The backfill report (`npm run backfill`): one row per run (keyed by its workflow id, which is derived
// from the arguments, so a second run with the same arguments continues the same row), one per invoice
// the run read, one per compared metered line. The report's CSV and summary are read from these tables.
import { sql, type Kysely, type Migration } from 'kysely';

export function backfillRuns(schema: string): Migration {
  const t = (name: string) => sql.id(schema, name);
  return {
    async up(db: Kysely<any>) {
      await sql`
        create table ${t('backfill_runs')} (
          id text primary key,
          arguments jsonb not null,
          status text not null,
          invoices_total integer,
          invoices_done integer not null default 0,
          invoices_failed integer not null default 0,
          lines_done integer not null default 0,
          lines_diverging integer not null default 0,
          started_at timestamptz not null default now(),
          updated_at timestamptz not null default now(),
          finished_at timestamptz,
          error text
        )`.execute(db);
      await sql`
        create table ${t('backfill_invoices')} (
          run_id text not null references ${t('backfill_runs')} (id) on delete cascade,
          invoice_id text not null,
          customer_id text,
          invoice_status text,
          created timestamptz,
          currency text,
          metered_lines integer not null default 0,
          other_lines integer not null default 0,
          error text,
          recorded_at timestamptz not null default now(),
          primary key (run_id, invoice_id)
        )`.execute(db);
      await sql`
        create table ${t('backfill_lines')} (
          run_id text not null,
          invoice_id text not null,
          line_id text not null,
          position integer not null,
          customer_id text not null,
          invoice_status text not null,
          created timestamptz not null,
          event_name text not null,
          period_start timestamptz not null,
          period_end timestamptz not null,
          stripe_quantity numeric not null,
          ledger_quantity numeric not null,
          difference numeric not null,
          variance_pct numeric,
          estimated_impact_minor numeric,
          currency text not null,
          passed boolean not null,
          primary key (run_id, invoice_id, line_id),
          foreign key (run_id, invoice_id) references ${t('backfill_invoices')} (run_id, invoice_id) on delete cascade
        )`.execute(db);
      await sql`create index on ${t('backfill_lines')} (run_id, customer_id)`.execute(db);
    },
    async down(db: Kysely<any>) {
      for (const name of ['backfill_lines', 'backfill_invoices', 'backfill_runs']) {
        await sql`drop table if exists ${t(name)}`.execute(db);
      }
    },
  };
}
