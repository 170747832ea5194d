// The audit query behind the daily observe-mode digest: how many observe-mode gates checked an invoice
// and how many would have held one in a period, and the money at stake per currency.
import Decimal from 'decimal.js';
import { sql, type Kysely } from 'kysely';
import type { GateDatabase } from '../db/schema';
import type { DigestMoney, DigestPeriod, ObserveDigestSummary } from '../gate/observe-digest';

/**
 * - checked: observe-mode gates whose first check round (`gate_lines.kind = 'check'`) was recorded in
 *   the period;
 * - would hold: observe-mode gates whose `would_hold_at` (the first would-hold) is in the period,
 *   whatever their outcome became later;
 * - money: for each would-hold gate, the diverging lines of its latest round before finalization
 *   recorded before the period's end (what enforce would have held on), summed per currency; positive
 *   impacts (Stripe over the ledger) and negative ones (under) apart, so they do not cancel out.
 */
export async function summarizeObservedPeriod(
  db: Kysely<GateDatabase>,
  schema: string,
  period: DigestPeriod,
): Promise<ObserveDigestSummary> {
  const runs = sql.id(schema, 'gate_runs');
  const lines = sql.id(schema, 'gate_lines');
  const from = new Date(period.from);
  const to = new Date(period.to);

  const counts = await sql<{ checked: string; would_hold: string }>`
    select
      (select count(distinct r.id) from ${runs} r
        join ${lines} l on l.run_id = r.id and l.kind = 'check'
        where r.mode = 'observe' and l.recorded_at >= ${from} and l.recorded_at < ${to}) as checked,
      (select count(*) from ${runs} r
        where r.mode = 'observe' and r.would_hold_at >= ${from} and r.would_hold_at < ${to}) as would_hold`.execute(db);

  const money = await sql<{ currency: string; over: string; under: string; without_price: string }>`
    with would_hold as (
      select r.id, r.currency, max(l.recount) as round
      from ${runs} r
      join ${lines} l on l.run_id = r.id and l.kind <> 'finalized' and l.recorded_at < ${to}
      where r.mode = 'observe' and r.would_hold_at >= ${from} and r.would_hold_at < ${to} and r.currency is not null
      group by r.id, r.currency
    )
    select w.currency,
           coalesce(sum(l.estimated_impact_minor) filter (where l.estimated_impact_minor > 0), 0)::text as over,
           coalesce(-sum(l.estimated_impact_minor) filter (where l.estimated_impact_minor < 0), 0)::text as under,
           count(*) filter (where l.estimated_impact_minor is null) as without_price
    from would_hold w
    join ${lines} l on l.run_id = w.id and l.recount = w.round and not l.passed
    group by w.currency
    order by w.currency`.execute(db);

  const row = counts.rows[0];
  return {
    period,
    checked: Number(row.checked),
    wouldHold: Number(row.would_hold),
    money: money.rows.map((m): DigestMoney => ({
      currency: m.currency,
      overMinor: new Decimal(m.over).toFixed(),
      underMinor: new Decimal(m.under).toFixed(),
      linesWithoutPrice: Number(m.without_price),
    })),
  };
}
