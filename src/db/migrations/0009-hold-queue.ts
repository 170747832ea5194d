// The review queue and the hold metrics: when a run was last held (its age), and Stripe's own
// finalization time as first read (the gate's pause moves it, so the first reading is the original).
// The partial index keeps the queue and the metrics' scrape-time reads on open runs only.
import { sql, type Kysely, type Migration } from 'kysely';

export function holdQueue(schema: string): Migration {
  const t = (name: string) => sql.id(schema, name);
  return {
    async up(db: Kysely<any>) {
      await sql`alter table ${t('gate_runs')} add column held_at timestamptz, add column finalizes_at timestamptz`.execute(
        db,
      );
      // Runs held before this migration: their start is the earliest they can have been held.
      await sql`update ${t('gate_runs')} set held_at = started_at where outcome = 'held' and finished_at is null`.execute(
        db,
      );
      await sql`create index gate_runs_open_holds on ${t('gate_runs')} (status, held_at) where finished_at is null`.execute(
        db,
      );
    },
    async down(db: Kysely<any>) {
      await sql`drop index ${t('gate_runs_open_holds')}`.execute(db);
      await sql`alter table ${t('gate_runs')} drop column held_at, drop column finalizes_at`.execute(db);
    },
  };
}
