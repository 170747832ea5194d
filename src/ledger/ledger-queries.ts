// The SQL shapes of a recount. Both read only the customer's index range per event name; which one
// a recount uses depends on how many distinct lines the invoice asks about.
import { sql, type RawBuilder } from 'kysely';
import type { LedgerMapping } from '../config/gate-config';
import type { AggregationFormula, UnixSeconds } from '../gate/types';
import { splitIntoUtcDays } from './utc-days';

/** One distinct question to the ledger; `ordinal` identifies its answer row. */
export interface LedgerLine {
  ordinal: number;
  eventName: string;
  formula: AggregationFormula;
  periodStart: UnixSeconds;
  periodEnd: UnixSeconds;
}

/** The ledger table as the mapping names it, for one customer key. */
export interface LedgerSource {
  table: RawBuilder<unknown>;
  customer: RawBuilder<unknown>;
  eventName: RawBuilder<unknown>;
  value: RawBuilder<unknown>;
  occurredAt: RawBuilder<unknown>;
  customerKey: string;
  /** The operator's filter over the ledger table's own columns (`true` without one). */
  filter: RawBuilder<unknown>;
  rollup: RawBuilder<unknown> | null;
}

export interface QuantityRow {
  ordinal: number;
  quantity: string | null;
}

export function ledgerSource(mapping: LedgerMapping, customerKey: string): LedgerSource {
  const c = mapping.columns;
  return {
    table: sql.id(mapping.schema, mapping.table),
    customer: sql.id(c.customer),
    eventName: sql.id(c.eventName),
    value: sql.id(c.value),
    occurredAt: sql.id(c.occurredAt),
    customerKey,
    filter: mapping.filter === null ? sql`true` : sql`(${sql.raw(mapping.filter)})`,
    rollup: mapping.rollup ? sql.id(mapping.rollup.schema, mapping.rollup.table) : null,
  };
}

const iso = (unix: UnixSeconds) => new Date(unix * 1000).toISOString();

/** The rows of one customer and event name in [from, to): one index range. */
function rowsIn(s: LedgerSource, eventName: string, from: UnixSeconds, to: UnixSeconds): RawBuilder<unknown> {
  return sql`${s.table} where ${s.customer} = ${s.customerKey} and ${s.eventName} = ${eventName}
    and ${s.occurredAt} >= ${iso(from)}::timestamptz and ${s.occurredAt} < ${iso(to)}::timestamptz and ${s.filter}`;
}

/** count or sum of the ledger rows in [from, to). */
function aggregate(s: LedgerSource, line: LedgerLine, from: UnixSeconds, to: UnixSeconds): RawBuilder<unknown> {
  const rows = rowsIn(s, line.eventName, from, to);
  return line.formula === 'count'
    ? sql`(select count(*)::numeric from ${rows})`
    : sql`(select coalesce(sum(${s.value}::numeric), 0) from ${rows})`;
}

/**
 * One answer row per line, each its own aggregate over its own index range: the same plan as the
 * bare index-only query (parallel for large ranges). `last` reads one row from the range's end.
 */
export function perLineQuery(s: LedgerSource, lines: LedgerLine[]): RawBuilder<QuantityRow> {
  const branches = lines.map(
    (line) => sql`select ${line.ordinal}::int as ordinal, (${quantityOf(s, line)})::text as quantity`,
  );
  return sql<QuantityRow>`${sql.join(branches, sql` union all `)}`;
}

function quantityOf(s: LedgerSource, line: LedgerLine): RawBuilder<unknown> {
  if (line.formula === 'last') {
    return sql`coalesce((select ${s.value}::numeric from ${rowsIn(s, line.eventName, line.periodStart, line.periodEnd)}
      and ${s.value} is not null order by ${s.occurredAt} desc, ${s.value}::numeric desc limit 1), 0)`;
  }
  const days = s.rollup ? splitIntoUtcDays(line.periodStart, line.periodEnd) : null;
  if (!s.rollup || !days?.wholeDays) return aggregate(s, line, line.periodStart, line.periodEnd);
  // Whole UTC days from the rollup, the partial days at either edge from the ledger table.
  const column = line.formula === 'count' ? sql`event_count` : sql`value_sum`;
  const rolledUp = sql`(select coalesce(sum(${column}), 0)::numeric from ${s.rollup}
    where customer_key = ${s.customerKey}::text and event_name = ${line.eventName}::text
      and day >= ${days.wholeDays.first}::date and day < ${days.wholeDays.end}::date)`;
  return sql`${aggregate(s, line, line.periodStart, days.wholeDays.startsAt)} + ${rolledUp} + ${aggregate(s, line, days.wholeDays.endsAt, line.periodEnd)}`;
}

/**
 * One scan of the customer's rows for the invoice's event names and overall period, joined to the
 * line list: for invoices with many lines, where one plan beats one branch per line.
 */
export function oneScanQuery(s: LedgerSource, lines: LedgerLine[]): RawBuilder<QuantityRow> {
  const eventNames = [...new Set(lines.map((l) => l.eventName))];
  const minStart = Math.min(...lines.map((l) => l.periodStart));
  const maxEnd = Math.max(...lines.map((l) => l.periodEnd));
  // The operator's filter sees only the ledger table's columns: it is applied inside `ledger`.
  return sql<QuantityRow>`
    with ledger as (
      select ${s.eventName}::text as gate_event_name,
             ${s.occurredAt} as gate_occurred_at,
             ${s.value}::numeric as gate_value
      from ${s.table}
      where ${s.customer} = ${s.customerKey}
        and ${s.eventName} = any(${eventNames})
        and ${s.occurredAt} >= ${iso(minStart)}::timestamptz
        and ${s.occurredAt} < ${iso(maxEnd)}::timestamptz
        and ${s.filter}
    ),
    lines as (
      select * from unnest(
        ${lines.map((l) => l.ordinal)}::int[],
        ${lines.map((l) => l.eventName)}::text[],
        ${lines.map((l) => l.formula)}::text[],
        ${lines.map((l) => iso(l.periodStart))}::timestamptz[],
        ${lines.map((l) => iso(l.periodEnd))}::timestamptz[]
      ) as t(ordinal, event_name, formula, period_start, period_end)
    )
    select l.ordinal,
      (case l.formula
        when 'count' then count(e.gate_occurred_at)::numeric
        when 'sum' then coalesce(sum(e.gate_value) filter (where l.formula = 'sum'), 0)
        -- last: max over [epoch, value] arrays = latest occurred_at, then the greatest value
        else coalesce(
          (max(array[extract(epoch from e.gate_occurred_at)::numeric, e.gate_value])
             filter (where l.formula = 'last' and e.gate_value is not null))[2],
          0)
      end)::text as quantity
    from lines l
    left join ledger e
      on e.gate_event_name = l.event_name
     and e.gate_occurred_at >= l.period_start
     and e.gate_occurred_at < l.period_end
    group by l.ordinal, l.formula
  `;
}
