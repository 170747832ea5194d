// The ledger side of the comparison: what our own records say each metered line should bill.
import Decimal from 'decimal.js';
import { sql, type Kysely } from 'kysely';
import type { LedgerMapping } from '../config/gate-config';
import { ledgerEventName, SAFE_IDENTIFIER } from '../config/gate-config';
import type { AggregationFormula, LedgerCountRequest, LedgerCounts } from '../gate/types';
import { LedgerMappingError } from './ledger-errors';

export { LedgerMappingError } from './ledger-errors';
export type { LedgerMapping } from '../config/gate-config';

const FORMULAS: readonly AggregationFormula[] = ['count', 'sum', 'last'];

/** The ledger key of the invoice's customer: the Stripe id, or a customer metadata value. */
export function ledgerCustomerKey(
  mapping: LedgerMapping,
  request: Pick<LedgerCountRequest, 'customerId' | 'customerMetadata'>,
): string {
  if (mapping.customerKey === 'id') return request.customerId;
  const key = mapping.customerKey.slice('metadata.'.length);
  const value = request.customerMetadata?.[key];
  if (value === undefined || value.trim() === '') {
    throw new LedgerMappingError(
      `customer ${request.customerId} has no metadata "${key}", which the ledger mapping (customerKey "${mapping.customerKey}") needs`,
    );
  }
  return value;
}

/**
 * Counts the ledger for every metered line of one invoice in ONE query.
 *
 * Each line is matched to ledger rows of the same customer key and (mapped) event name with
 * `periodStart <= occurred_at < periodEnd`, and aggregated as its meter aggregates:
 * - `count`: number of rows;
 * - `sum`: sum of the value column (NULL values ignored);
 * - `last`: the value of the row with the latest occurred_at (rows with a NULL value ignored);
 *   when several rows share that latest occurred_at, the greatest value wins, so the answer does
 *   not depend on physical row order.
 * A line without rows is "0". Results are exact decimal strings from PostgreSQL's numeric text,
 * normalised (no exponent, no trailing zeros); they never pass through JS numbers.
 *
 * The value column is cast to numeric (integer or numeric columns stay exact). The occurred_at
 * column should be timestamptz; a `timestamp without time zone` column is compared in the
 * session's TimeZone. Database errors are thrown as they come: see classifyLedgerError.
 */
export async function countLedgerEvents(
  db: Kysely<any>,
  mapping: LedgerMapping,
  request: LedgerCountRequest,
): Promise<LedgerCounts> {
  assertSafeMapping(mapping);
  const customerKey = ledgerCustomerKey(mapping, request);
  if (request.lines.length === 0) return {};

  const lines = request.lines.map((line) => {
    if (!FORMULAS.includes(line.formula)) {
      throw new LedgerMappingError(`line ${line.lineId}: unknown aggregation formula ${JSON.stringify(line.formula)}`);
    }
    if (!Number.isInteger(line.periodStart) || !Number.isInteger(line.periodEnd) || line.periodEnd < line.periodStart) {
      throw new LedgerMappingError(`line ${line.lineId}: invalid period [${line.periodStart}, ${line.periodEnd})`);
    }
    return {
      lineId: line.lineId,
      eventName: ledgerEventName(mapping, line),
      formula: line.formula,
      start: new Date(line.periodStart * 1000).toISOString(),
      end: new Date(line.periodEnd * 1000).toISOString(),
    };
  });
  const eventNames = [...new Set(lines.map((l) => l.eventName))];
  const minStart = lines.reduce((m, l) => (l.start < m ? l.start : m), lines[0].start);
  const maxEnd = lines.reduce((m, l) => (l.end > m ? l.end : m), lines[0].end);

  const c = mapping.columns;
  const table = sql.id(mapping.schema, mapping.table);
  const filter = mapping.filter === null ? sql`true` : sql`(${sql.raw(mapping.filter)})`;

  // `ledger` reads only the invoice's rows (one index range per event name), and the operator's
  // filter sees only the ledger table's columns. The lines are a parameter list joined to it, so
  // several lines of one event name with different periods are all answered by this one query.
  const result = await sql<{ ordinal: string; quantity: string | null }>`
    with ledger as (
      select ${sql.id(c.eventName)}::text as gate_event_name,
             ${sql.id(c.occurredAt)} as gate_occurred_at,
             ${sql.id(c.value)}::numeric as gate_value
      from ${table}
      where ${sql.id(c.customer)} = ${customerKey}
        and ${sql.id(c.eventName)} = any(${eventNames})
        and ${sql.id(c.occurredAt)} >= ${minStart}::timestamptz
        and ${sql.id(c.occurredAt)} < ${maxEnd}::timestamptz
        and ${filter}
    ),
    lines as (
      select * from unnest(
        ${lines.map((l) => l.eventName)}::text[],
        ${lines.map((l) => l.formula)}::text[],
        ${lines.map((l) => l.start)}::timestamptz[],
        ${lines.map((l) => l.end)}::timestamptz[]
      ) with ordinality as t(event_name, formula, period_start, period_end, ordinal)
    )
    select l.ordinal::text as ordinal,
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
  `.execute(db);

  const counts: LedgerCounts = {};
  for (const row of result.rows) {
    const line = lines[Number(row.ordinal) - 1];
    counts[line.lineId] = normaliseDecimal(row.quantity ?? '0', line.lineId);
  }
  for (const line of lines) counts[line.lineId] ??= '0';
  return counts;
}

function normaliseDecimal(text: string, lineId: string): string {
  const d = new Decimal(text);
  if (!d.isFinite()) throw new LedgerMappingError(`line ${lineId}: the ledger value column produced ${text}`);
  return d.toFixed();
}

export function assertSafeMapping(mapping: LedgerMapping): void {
  const names = [mapping.schema, mapping.table, ...Object.values(mapping.columns)];
  const bad = names.filter((n) => !SAFE_IDENTIFIER.test(n));
  if (bad.length > 0)
    throw new LedgerMappingError(
      `ledger mapping has unsafe identifiers: ${bad.map((n) => JSON.stringify(n)).join(', ')}`,
    );
}
