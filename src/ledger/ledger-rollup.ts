// An optional daily rollup of the ledger for customers with millions of rows per period. It is kept
// exact by statement-level triggers on the ledger table (inserts, updates and deletes, in the same
// transaction as the change), so a recount that reads whole days from it sees what a scan of the raw
// rows would: late usage included. See docs/configuration.md, "Large customers".
import { sql, type Kysely } from 'kysely';
import { SAFE_IDENTIFIER, type LedgerMapping } from '../config/gate-config';
import { LedgerMappingError } from './ledger-errors';

const quote = (name: string) => {
  if (!SAFE_IDENTIFIER.test(name)) throw new LedgerMappingError(`not a plain SQL identifier: ${JSON.stringify(name)}`);
  return `"${name}"`;
};

/**
 * The statements that create (or rebuild) the rollup named in `mapping.rollup` and the triggers
 * that keep it exact. Run them again after changing the mapping's columns or filter.
 */
export function ledgerRollupStatements(mapping: LedgerMapping): string[] {
  if (!mapping.rollup) throw new LedgerMappingError('the ledger mapping names no rollup (ledger.rollup.table)');
  const ledger = `${quote(mapping.schema)}.${quote(mapping.table)}`;
  const rollupName = mapping.rollup.table;
  const rollup = `${quote(mapping.rollup.schema)}.${quote(rollupName)}`;
  const apply = `${quote(mapping.rollup.schema)}.${quote(`${rollupName}_apply`.slice(0, 63))}`;
  const c = mapping.columns;
  const filter = mapping.filter === null ? 'true' : `(${mapping.filter})`;
  // The rows of a transition table (or the ledger), aggregated per customer, event name and UTC day.
  const perDay = (from: string, sign: '' | '-') => `
    select ${quote(c.customer)}::text, ${quote(c.eventName)}::text, (${quote(c.occurredAt)} at time zone 'UTC')::date,
           ${sign}count(*), ${sign}coalesce(sum(${quote(c.value)}::numeric), 0)
    from ${from} where ${filter} group by 1, 2, 3`;
  const merge = (from: string, sign: '' | '-') => `
      insert into ${rollup} as r ${perDay(from, sign)}
      on conflict (customer_key, event_name, day) do update
        set event_count = r.event_count + excluded.event_count, value_sum = r.value_sum + excluded.value_sum;`;
  return [
    `create schema if not exists ${quote(mapping.rollup.schema)}`,
    `create table if not exists ${rollup} (
      customer_key text not null,
      event_name text not null,
      day date not null,
      event_count bigint not null,
      value_sum numeric not null,
      primary key (customer_key, event_name, day)
    )`,
    // No ledger writes between the fill and the triggers: nothing is counted twice or missed.
    `lock table ${ledger} in share row exclusive mode`,
    `delete from ${rollup}`,
    `insert into ${rollup} ${perDay(ledger, '')}`,
    `create or replace function ${apply}() returns trigger language plpgsql as $rollup$
    begin
      if tg_op in ('DELETE', 'UPDATE') then ${merge('old_rows', '-')}
      end if;
      if tg_op in ('INSERT', 'UPDATE') then ${merge('new_rows', '')}
      end if;
      return null;
    end
    $rollup$`,
    `drop trigger if exists invoice_gate_rollup_insert on ${ledger}`,
    `drop trigger if exists invoice_gate_rollup_update on ${ledger}`,
    `drop trigger if exists invoice_gate_rollup_delete on ${ledger}`,
    `create trigger invoice_gate_rollup_insert after insert on ${ledger}
      referencing new table as new_rows for each statement execute function ${apply}()`,
    `create trigger invoice_gate_rollup_update after update on ${ledger}
      referencing old table as old_rows new table as new_rows for each statement execute function ${apply}()`,
    `create trigger invoice_gate_rollup_delete after delete on ${ledger}
      referencing old table as old_rows for each statement execute function ${apply}()`,
  ];
}

/** Creates or rebuilds the rollup in one transaction (it needs DDL rights on the ledger's database). */
export async function createLedgerRollup(db: Kysely<any>, mapping: LedgerMapping): Promise<void> {
  const statements = ledgerRollupStatements(mapping);
  await db.transaction().execute(async (tx) => {
    for (const statement of statements) await sql.raw(statement).execute(tx);
  });
}
