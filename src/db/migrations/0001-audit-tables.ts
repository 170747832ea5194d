// The gate's audit tables: one row per gate run, one per compared line and comparison round, one
// per received Stripe event id, one per Slack review attempt.
import { sql, type Kysely, type Migration } from 'kysely';

export function auditTables(schema: string): Migration {
  const t = (name: string) => sql.id(schema, name);
  return {
    async up(db: Kysely<any>) {
      await sql`create schema if not exists ${sql.id(schema)}`.execute(db);
      await sql`
        create table ${t('gate_runs')} (
          id bigint generated always as identity primary key,
          workflow_id text not null,
          run_id text not null,
          invoice_id text not null,
          customer_id text,
          period_start timestamptz,
          period_end timestamptz,
          currency text,
          status text not null,
          outcome text,
          stripe_total numeric,
          ledger_total numeric,
          max_variance_pct numeric,
          total_estimated_impact_minor numeric,
          tolerance_pct numeric,
          tolerance_abs numeric,
          recounts integer not null default 0,
          reviewer text,
          decision_note text,
          slack_channel text,
          slack_ts text,
          reason text,
          started_at timestamptz not null default now(),
          decided_at timestamptz,
          finished_at timestamptz,
          updated_at timestamptz not null default now(),
          unique (workflow_id, run_id)
        )`.execute(db);
      await sql`create index on ${t('gate_runs')} (invoice_id, started_at desc)`.execute(db);
      await sql`create index on ${t('gate_runs')} (outcome, started_at desc)`.execute(db);
      await sql`
        create table ${t('gate_lines')} (
          run_id bigint not null references ${t('gate_runs')} (id) on delete cascade,
          recount integer not null,
          line_id text not null,
          position integer not null,
          description text,
          event_name text not null,
          formula text not null,
          period_start timestamptz not null,
          period_end timestamptz not null,
          stripe_quantity numeric not null,
          ledger_quantity numeric not null,
          difference numeric not null,
          variance_pct numeric,
          estimated_impact_minor numeric,
          passed boolean not null,
          recorded_at timestamptz not null default now(),
          primary key (run_id, recount, line_id)
        )`.execute(db);
      await sql`
        create table ${t('stripe_events')} (
          event_id text primary key,
          type text not null,
          invoice_id text,
          payload_created timestamptz,
          received_at timestamptz not null default now(),
          last_received_at timestamptz not null default now(),
          duplicate_count integer not null default 0
        )`.execute(db);
      await sql`create index on ${t('stripe_events')} (invoice_id)`.execute(db);
      await sql`
        create table ${t('review_attempts')} (
          id bigint generated always as identity primary key,
          attempt_key text unique,
          invoice_id text not null,
          slack_user_id text not null,
          action text not null,
          allowed boolean not null,
          outcome text not null,
          at timestamptz not null default now()
        )`.execute(db);
      await sql`create index on ${t('review_attempts')} (invoice_id, at)`.execute(db);
    },
    async down(db: Kysely<any>) {
      for (const name of ['review_attempts', 'stripe_events', 'gate_lines', 'gate_runs']) {
        await sql`drop table if exists ${t(name)}`.execute(db);
      }
    },
  };
}
