// The gate follows each invoice to the end: Stripe's status of the invoice (never moving back),
// payment failures, how the gate was started (webhook or the sweep for missed webhooks), and what
// each comparison round was for.
import { sql, type Kysely, type Migration } from 'kysely';

export function invoiceLifecycle(schema: string): Migration {
  const t = (name: string) => sql.id(schema, name);
  return {
    async up(db: Kysely<any>) {
      await sql`
        alter table ${t('gate_runs')}
          add column invoice_status text,
          add column invoice_status_at timestamptz,
          add column payment_failures integer not null default 0,
          add column started_by text not null default 'webhook'`.execute(db);
      await sql`create index on ${t('gate_runs')} (invoice_status, started_at desc)`.execute(db);
      await sql`alter table ${t('gate_lines')} add column kind text not null default 'check'`.execute(db);
    },
    async down(db: Kysely<any>) {
      await sql`alter table ${t('gate_lines')} drop column kind`.execute(db);
      await sql`
        alter table ${t('gate_runs')}
          drop column started_by, drop column payment_failures, drop column invoice_status_at, drop column invoice_status`.execute(
        db,
      );
    },
  };
}
