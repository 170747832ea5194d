// The decision log: one row per decision attempt, accepted or refused, chained by hash so an edited,
// inserted or deleted row shows. `seq` is assigned by the appender under a table lock (no identity), so it
// has no gaps and a missing number is itself a sign of a deleted row. Append only: the gate inserts and reads, never updates or deletes
// (docs/security.md says how to grant just that).
import { sql, type Kysely, type Migration } from 'kysely';

export function decisionLog(schema: string): Migration {
  const t = (name: string) => sql.id(schema, name);
  return {
    async up(db: Kysely<any>) {
      await sql`
        create table ${t('decision_log')} (
          seq bigint primary key,
          attempt_id text unique,
          at timestamptz not null,
          invoice_id text not null,
          reviewer text not null,
          action text not null,
          reason text,
          note text,
          accepted boolean not null,
          refusal text,
          channel text not null,
          gate_status text,
          money_at_stake numeric,
          currency text,
          prev_hash text not null,
          hash text not null unique
        )`.execute(db);
      await sql`create index on ${t('decision_log')} (invoice_id, seq)`.execute(db);
      await sql`create index on ${t('decision_log')} (at)`.execute(db);
    },
    async down(db: Kysely<any>) {
      await sql`drop table ${t('decision_log')}`.execute(db);
    },
  };
}
