// Observe mode: which mode each gate decided in, and when a gate first would have held its invoice
// (the daily digest counts those per day, whatever the gate's outcome became later).
import { sql, type Kysely, type Migration } from 'kysely';

export function observeMode(schema: string): Migration {
  const t = (name: string) => sql.id(schema, name);
  return {
    async up(db: Kysely<any>) {
      await sql`alter table ${t('gate_runs')} add column mode text, add column would_hold_at timestamptz`.execute(db);
      await sql`create index on ${t('gate_runs')} (would_hold_at) where would_hold_at is not null`.execute(db);
    },
    async down(db: Kysely<any>) {
      await sql`alter table ${t('gate_runs')} drop column would_hold_at, drop column mode`.execute(db);
    },
  };
}
