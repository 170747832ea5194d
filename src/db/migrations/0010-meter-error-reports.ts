// Stripe's meter error reports (thin events received at POST /webhooks/stripe/thin), one row per
// report: the meter, the window Stripe validated, the error codes with counts and samples, and the
// customers the samples name (none when the report does not say whose events they were).
import { sql, type Kysely, type Migration } from 'kysely';

export function meterErrorReports(schema: string): Migration {
  const t = (name: string) => sql.id(schema, name);
  return {
    async up(db: Kysely<any>) {
      await sql`
        create table ${t('meter_error_reports')} (
          event_id text primary key,
          event_type text not null,
          meter_id text,
          event_name text,
          error_count integer not null,
          error_types jsonb not null,
          customer_ids text[] not null,
          validation_start timestamptz not null,
          validation_end timestamptz not null,
          developer_message_summary text not null,
          event_created timestamptz not null,
          received_at timestamptz not null default now()
        )`.execute(db);
      await sql`create index ${sql.id('meter_error_reports_meter_window')}
        on ${t('meter_error_reports')} (meter_id, validation_end)`.execute(db);
    },
    async down(db: Kysely<any>) {
      await sql`drop table ${t('meter_error_reports')}`.execute(db);
    },
  };
}
