// The ledger grouped the way Stripe groups meter event summaries: per UTC day or hour (`date_trunc` in
// UTC), aggregated as countLedgerEvents aggregates a line (same mapping, customer key, filter, formula).
import Decimal from 'decimal.js';
import { sql, type Kysely } from 'kysely';
import { ledgerEventName, type LedgerMapping } from '../config/gate-config';
import type { BucketGrain, BucketValue } from '../gate/divergence-buckets';
import type { AggregationFormula, LedgerCountRequest, MeteredLine, UnixSeconds } from '../gate/types';
import { assertSafeMapping, ledgerCustomerKey } from './count-ledger-events';
import { LedgerMappingError } from './ledger-errors';

export interface LedgerBucketRequest extends Pick<LedgerCountRequest, 'customerId' | 'customerMetadata'> {
  line: Pick<MeteredLine, 'lineId' | 'eventName' | 'meterId' | 'formula'>;
  /** The same (minute-aligned) range Stripe is asked for. */
  start: UnixSeconds;
  end: UnixSeconds;
  grain: BucketGrain;
}

const FORMULAS: readonly AggregationFormula[] = ['count', 'sum', 'last'];

/** Buckets with rows only (as Stripe lists only windows with events); values exact decimal strings. */
export async function bucketLedgerEvents(db: Kysely<any>, mapping: LedgerMapping, request: LedgerBucketRequest) {
  assertSafeMapping(mapping);
  const { line, grain } = request;
  if (!FORMULAS.includes(line.formula))
    throw new LedgerMappingError(`line ${line.lineId}: unknown aggregation formula ${JSON.stringify(line.formula)}`);
  const c = mapping.columns;
  const occurredAt = sql.id(c.occurredAt);
  const value = sql`${sql.id(c.value)}::numeric`;
  const filter = mapping.filter === null ? sql`true` : sql`(${sql.raw(mapping.filter)})`;
  const aggregate =
    line.formula === 'count'
      ? sql`count(${occurredAt})::numeric`
      : line.formula === 'sum'
        ? sql`coalesce(sum(${value}), 0)`
        : // last: latest occurred_at, then the greatest value (as countLedgerEvents); NULL values ignored.
          sql`(max(array[extract(epoch from ${occurredAt})::numeric, ${value}]) filter (where ${value} is not null))[2]`;
  const result = await sql<{ bucket: string; quantity: string | null }>`
    select extract(epoch from date_trunc(${grain}, ${occurredAt} at time zone 'UTC'))::bigint::text as bucket,
           (${aggregate})::text as quantity
    from ${sql.id(mapping.schema, mapping.table)}
    where ${sql.id(c.customer)} = ${ledgerCustomerKey(mapping, request)}
      and ${sql.id(c.eventName)} = ${ledgerEventName(mapping, line)}
      and ${occurredAt} >= ${new Date(request.start * 1000).toISOString()}::timestamptz
      and ${occurredAt} < ${new Date(request.end * 1000).toISOString()}::timestamptz
      and ${filter}
    group by 1
    order by 1
  `.execute(db);
  return result.rows
    .filter((row) => row.quantity !== null)
    .map((row): BucketValue => ({ key: Number(row.bucket), value: new Decimal(row.quantity!).toFixed() }));
}
