// The history check: each metered line's quantity against the same customer's previous invoices for
// that meter, flagged when it jumps beyond GATE_HISTORY_JUMP (or drops below its inverse).
import { sql, type Kysely, type Migration } from 'kysely';

export function lineHistory(schema: string): Migration {
  const t = (name: string) => sql.id(schema, name);
  return {
    async up(db: Kysely<any>) {
      await sql`
        create table ${t('gate_line_history')} (
          run_id bigint not null references ${t('gate_runs')} (id) on delete cascade,
          line_id text not null,
          event_name text not null,
          quantity numeric not null,
          baseline numeric,
          previous_quantities numeric[] not null,
          source text not null,
          jump_factor numeric not null,
          flag text,
          recorded_at timestamptz not null default now(),
          primary key (run_id, line_id)
        )`.execute(db);
    },
    async down(db: Kysely<any>) {
      await sql`drop table ${t('gate_line_history')}`.execute(db);
    },
  };
}
