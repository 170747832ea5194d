// What the gate found out about a line beyond its two counts: the buckets in time where Stripe and the
// ledger differ (gate_line_buckets), and the line against the customer's history (gate_line_history).
import { sql, type Kysely } from 'kysely';
import type { BucketDiff } from '../gate/divergence-buckets';
import type { HistoryCheck } from '../gate/history-jump';
import type { DecimalString, UnixSeconds } from '../gate/types';
import { DEFAULT_GATE_SCHEMA } from '../db/schema';
import { AuditRunNotFoundError, type RunKey } from './audit-store';

export interface StoredBucket extends BucketDiff {
  recount: number;
  lineId: string;
}

export class LineInsightsStore {
  readonly schema: string;

  constructor(
    private readonly db: Kysely<any>,
    options: { schema?: string } = {},
  ) {
    this.schema = options.schema ?? DEFAULT_GATE_SCHEMA;
  }

  private t(name: string) {
    return sql.id(this.schema, name);
  }

  private async runId(key: RunKey): Promise<string> {
    const { rows } = await sql<{ id: string }>`
      select id::text from ${this.t('gate_runs')} where workflow_id = ${key.workflowId} and run_id = ${key.runId}`.execute(
      this.db,
    );
    if (!rows[0]) throw new AuditRunNotFoundError(key);
    return rows[0].id;
  }

  /** Every differing bucket of one line in one round; a retry writes the same rows again. */
  async recordBuckets(key: RunKey, recount: number, lineId: string, buckets: BucketDiff[]): Promise<void> {
    const runId = await this.runId(key);
    await this.db.transaction().execute(async (trx) => {
      await sql`delete from ${this.t('gate_line_buckets')}
        where run_id = ${runId} and recount = ${recount} and line_id = ${lineId}`.execute(trx);
      if (buckets.length === 0) return;
      await sql`
        insert into ${this.t('gate_line_buckets')}
          (run_id, recount, line_id, bucket_start, bucket_end, grain, stripe_value, ledger_value, difference)
        select ${runId}::bigint, ${recount}::int, ${lineId}, to_timestamp(s), to_timestamp(e), g, sv, lv, d
        from unnest(
          ${buckets.map((b) => b.start)}::bigint[], ${buckets.map((b) => b.end)}::bigint[],
          ${buckets.map((b) => b.grain)}::text[], ${buckets.map((b) => b.stripe)}::numeric[],
          ${buckets.map((b) => b.ledger)}::numeric[], ${buckets.map((b) => b.difference)}::numeric[]
        ) as t(s, e, g, sv, lv, d)`.execute(trx);
    });
  }

  /** The differing buckets of an invoice's latest gate run, oldest first per line. */
  async listBuckets(invoiceId: string): Promise<StoredBucket[]> {
    const { rows } = await sql<{
      recount: number;
      line_id: string;
      start: string;
      end: string;
      grain: 'day' | 'hour';
      stripe_value: string;
      ledger_value: string;
      difference: string;
    }>`
      select b.recount, b.line_id, extract(epoch from b.bucket_start)::bigint::text as start,
             extract(epoch from b.bucket_end)::bigint::text as "end", b.grain,
             b.stripe_value::text, b.ledger_value::text, b.difference::text
      from ${this.t('gate_line_buckets')} b
      where b.run_id = (select id from ${this.t('gate_runs')} where invoice_id = ${invoiceId} order by started_at desc limit 1)
      order by b.recount, b.line_id, b.bucket_start`.execute(this.db);
    return rows.map((r) => ({
      recount: r.recount,
      lineId: r.line_id,
      start: Number(r.start),
      end: Number(r.end),
      grain: r.grain,
      stripe: r.stripe_value,
      ledger: r.ledger_value,
      difference: r.difference,
    }));
  }

  /**
   * The Stripe quantities this customer's previous invoices billed for an event name, newest first: one
   * per invoice (its latest comparison round), for periods that ended by `before`, from the gate's own audit.
   */
  async previousQuantities(
    customerId: string,
    exceptInvoiceId: string,
    eventName: string,
    before: UnixSeconds,
    limit: number,
  ): Promise<DecimalString[]> {
    const { rows } = await sql<{ quantity: string }>`
      select quantity from (
        select distinct on (r.invoice_id) r.invoice_id, l.period_end, sum(l.stripe_quantity)::text as quantity
        from ${this.t('gate_runs')} r
        join ${this.t('gate_lines')} l on l.run_id = r.id
        where r.customer_id = ${customerId} and r.invoice_id <> ${exceptInvoiceId} and l.event_name = ${eventName}
          and l.period_end <= to_timestamp(${before})
        group by r.invoice_id, r.id, l.recount, l.period_end
        order by r.invoice_id, l.recount desc
      ) latest
      order by period_end desc
      limit ${limit}`.execute(this.db);
    return rows.map((r) => r.quantity);
  }

  /** The history check of one run (one row per line; a retry writes the same rows again). */
  async recordHistory(key: RunKey, check: HistoryCheck): Promise<void> {
    if (check.lines.length === 0) return;
    const runId = await this.runId(key);
    for (const line of check.lines) {
      await sql`
        insert into ${this.t('gate_line_history')}
          (run_id, line_id, event_name, quantity, baseline, previous_quantities, source, jump_factor, flag)
        values (${runId}, ${line.lineId}, ${line.eventName}, ${line.quantity}, ${line.baseline},
                ${line.previous}::numeric[], ${line.source}, ${check.jump}, ${line.flag})
        on conflict (run_id, line_id) do update set
          quantity = excluded.quantity, baseline = excluded.baseline,
          previous_quantities = excluded.previous_quantities, source = excluded.source,
          jump_factor = excluded.jump_factor, flag = excluded.flag, recorded_at = now()`.execute(this.db);
    }
  }

  /** The recorded history check of an invoice's latest gate run. */
  async listHistory(
    invoiceId: string,
  ): Promise<
    Array<{ lineId: string; quantity: string; baseline: string | null; flag: string | null; source: string }>
  > {
    const { rows } = await sql<{
      line_id: string;
      quantity: string;
      baseline: string | null;
      flag: string | null;
      source: string;
    }>`
      select h.line_id, h.quantity::text, h.baseline::text, h.flag, h.source
      from ${this.t('gate_line_history')} h
      where h.run_id = (select id from ${this.t('gate_runs')} where invoice_id = ${invoiceId} order by started_at desc limit 1)
      order by h.line_id`.execute(this.db);
    return rows.map((r) => ({
      lineId: r.line_id,
      quantity: r.quantity,
      baseline: r.baseline,
      flag: r.flag,
      source: r.source,
    }));
  }
}
