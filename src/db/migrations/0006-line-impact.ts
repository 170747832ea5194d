// Money-based tolerance: why a line's money impact is unavailable (gate_lines) and the money limit a
// round was judged with (gate_runs), beside the quantity tolerances already recorded.
import { sql, type Kysely, type Migration } from 'kysely';

export function lineImpact(schema: string): Migration {
  const t = (name: string) => sql.id(schema, name);
  return {
    async up(db: Kysely<any>) {
      await sql`alter table ${t('gate_lines')} add column impact_unavailable_reason text`.execute(db);
      await sql`alter table ${t('gate_runs')} add column tolerance_money numeric`.execute(db);
    },
    async down(db: Kysely<any>) {
      await sql`alter table ${t('gate_runs')} drop column tolerance_money`.execute(db);
      await sql`alter table ${t('gate_lines')} drop column impact_unavailable_reason`.execute(db);
    },
  };
}
