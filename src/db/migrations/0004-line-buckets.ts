// Where a held line diverges in time: every UTC day or hour bucket in which Stripe's meter event
// summaries and the ledger differ, linked to the line and comparison round it explains.
import { sql, type Kysely, type Migration } from 'kysely';

export function lineBuckets(schema: string): Migration {
  const t = (name: string) => sql.id(schema, name);
  return {
    async up(db: Kysely<any>) {
      await sql`
        create table ${t('gate_line_buckets')} (
          run_id bigint not null,
          recount integer not null,
          line_id text not null,
          bucket_start timestamptz not null,
          bucket_end timestamptz not null,
          grain text not null,
          stripe_value numeric not null,
          ledger_value numeric not null,
          difference numeric not null,
          recorded_at timestamptz not null default now(),
          primary key (run_id, recount, line_id, bucket_start),
          foreign key (run_id, recount, line_id) references ${t('gate_lines')} (run_id, recount, line_id) on delete cascade
        )`.execute(db);
    },
    async down(db: Kysely<any>) {
      await sql`drop table ${t('gate_line_buckets')}`.execute(db);
    },
  };
}
