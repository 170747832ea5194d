// The ledger side of the comparison: what our own records say each metered line should bill.
import Decimal from 'decimal.js';
import type { Kysely } from 'kysely';
import type { LedgerMapping } from '../config/gate-config';
import { ledgerEventName, SAFE_IDENTIFIER } from '../config/gate-config';
import type { AggregationFormula, LedgerCountRequest, LedgerCounts } from '../gate/types';
import { LedgerMappingError } from './ledger-errors';
import { ledgerSource, oneScanQuery, perLineQuery, type LedgerLine } from './ledger-queries';

export { LedgerMappingError } from './ledger-errors';
export type { LedgerMapping } from '../config/gate-config';

const FORMULAS: readonly AggregationFormula[] = ['count', 'sum', 'last'];

/**
 * Up to this many distinct lines, each line is its own index-range aggregate (the plan the bare
 * index-only query gets); beyond it, one scan of the customer's rows joined to the line list, whose
 * planning does not grow with the number of lines.
 */
export const PER_LINE_QUERY_LIMIT = 16;

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

export interface CountOptions {
  /** Lines above which one scan answers them all (tests pin either shape). */
  perLineQueryLimit?: number;
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
 * With a daily rollup configured (docs/configuration.md, "Large customers"), `count` and `sum`
 * read the whole UTC days of a period from it and only the partial edges from the ledger table.
 *
 * The value column is cast to numeric (integer or numeric columns stay exact). The occurred_at
 * column should be timestamptz; a `timestamp without time zone` column is compared in the
 * session's TimeZone. Database errors are thrown as they come: see classifyLedgerError.
 */
export async function countLedgerEvents(
  db: Kysely<any>,
  mapping: LedgerMapping,
  request: LedgerCountRequest,
  options: CountOptions = {},
): Promise<LedgerCounts> {
  assertSafeMapping(mapping);
  const customerKey = ledgerCustomerKey(mapping, request);
  if (request.lines.length === 0) return {};

  // Lines asking the same question (event name, formula, period) are asked once.
  const asked = new Map<string, LedgerLine>();
  const keyOfLine = new Map<string, string>();
  for (const line of request.lines) {
    if (!FORMULAS.includes(line.formula)) {
      throw new LedgerMappingError(`line ${line.lineId}: unknown aggregation formula ${JSON.stringify(line.formula)}`);
    }
    if (!Number.isInteger(line.periodStart) || !Number.isInteger(line.periodEnd) || line.periodEnd < line.periodStart) {
      throw new LedgerMappingError(`line ${line.lineId}: invalid period [${line.periodStart}, ${line.periodEnd})`);
    }
    const eventName = ledgerEventName(mapping, line);
    const key = JSON.stringify([eventName, line.formula, line.periodStart, line.periodEnd]);
    keyOfLine.set(line.lineId, key);
    if (!asked.has(key))
      asked.set(key, {
        ordinal: asked.size + 1,
        eventName,
        formula: line.formula,
        periodStart: line.periodStart,
        periodEnd: line.periodEnd,
      });
  }

  const source = ledgerSource(mapping, customerKey);
  const distinct = [...asked.values()];
  const limit = options.perLineQueryLimit ?? PER_LINE_QUERY_LIMIT;
  const query = distinct.length <= limit ? perLineQuery(source, distinct) : oneScanQuery(source, distinct);
  const { rows } = await query.execute(db);
  const quantities = new Map(rows.map((row) => [Number(row.ordinal), row.quantity]));

  const counts: LedgerCounts = {};
  for (const line of request.lines) {
    const { ordinal } = asked.get(keyOfLine.get(line.lineId)!)!;
    counts[line.lineId] = normaliseDecimal(quantities.get(ordinal) ?? '0', line.lineId);
  }
  return counts;
}

function normaliseDecimal(text: string | null, lineId: string): string {
  const d = new Decimal(text ?? '0');
  if (!d.isFinite()) throw new LedgerMappingError(`line ${lineId}: the ledger value column produced ${text}`);
  return d.toFixed();
}

export function assertSafeMapping(mapping: LedgerMapping): void {
  const names = [mapping.schema, mapping.table, ...Object.values(mapping.columns)];
  if (mapping.rollup) names.push(mapping.rollup.schema, mapping.rollup.table);
  const bad = names.filter((n) => !SAFE_IDENTIFIER.test(n));
  if (bad.length > 0)
    throw new LedgerMappingError(
      `ledger mapping has unsafe identifiers: ${bad.map((n) => JSON.stringify(n)).join(', ')}`,
    );
}
