// The review queue's reads (GET /holds, /holds.csv) and the hold metrics' scrape-time sums: every
// open run the gate holds or that awaits a second approval, from the audit tables alone (no
// workflow is queried). Money at stake is the contract's: the sum of the absolute estimated impact
// of the latest comparison round's lines. Who approved first comes from the decision log, when the
// schema has one (it arrives with the second approval; before that the column stays empty).
import Decimal from 'decimal.js';
import { sql, type Kysely } from 'kysely';
import { DEFAULT_GATE_SCHEMA, type GateDatabase } from '../db/schema';

/** The gate statuses the queue lists: held, and released once but waiting for a second reviewer. */
export const QUEUE_STATUSES = ['held', 'awaiting_second_approval'] as const;
export type QueueStatus = (typeof QUEUE_STATUSES)[number];

export function isQueueStatus(value: unknown): value is QueueStatus {
  return (QUEUE_STATUSES as readonly unknown[]).includes(value);
}

export interface HoldQueueFilter {
  customerId?: string;
  status?: QueueStatus;
}

export interface HoldQueueEntry {
  invoiceId: string;
  customerId: string | null;
  status: QueueStatus;
  currency: string | null;
  /** When the hold began (the run's start for holds recorded before the gate kept this). */
  heldSince: Date;
  /** Stripe's `automatically_finalizes_at` as the gate first read it; null for drafts Stripe does not finalize itself. */
  finalizesAt: Date | null;
  /** Sum of the lines' absolute estimated impact, minor units (decimal string); lines without an impact are left out. */
  moneyAtStakeMinor: string;
  /** Lines whose impact the gate could not price: the money at stake is then a lower bound. */
  unpricedLines: number;
  /** The reviewer whose release waits for a second approval, and when; null otherwise. */
  firstApprover: { reviewer: string; at: Date } | null;
}

export interface HoldsByStatus {
  status: QueueStatus;
  count: number;
  /** Start of the oldest hold; null when there is none. */
  oldestHeldSince: Date | null;
}

export interface HoldsSummary {
  /** One entry per queue status, zero counts included (an alert sees 0, not an absent series). */
  byStatus: HoldsByStatus[];
  /** Money at stake per currency (lower-case ISO code; `unknown` for a run whose currency was never read). */
  moneyByCurrency: Array<{ currency: string; minor: string }>;
}

/** The queue shows at most this many holds, oldest first (the page says when there are more). */
export const HOLD_QUEUE_LIMIT = 1000;

export class HoldQueueReader {
  private readonly schema: string;

  constructor(
    private readonly database: Kysely<GateDatabase>,
    options: { schema?: string } = {},
  ) {
    this.schema = options.schema ?? DEFAULT_GATE_SCHEMA;
  }

  private get db(): Kysely<GateDatabase> {
    return this.database.withSchema(this.schema);
  }

  /** Open holds, oldest first, at most `limit`. */
  async list(filter: HoldQueueFilter = {}, limit = HOLD_QUEUE_LIMIT): Promise<HoldQueueEntry[]> {
    let query = this.db
      .selectFrom('gate_runs as r')
      .select((eb) => [
        'r.invoice_id',
        'r.customer_id',
        'r.status',
        'r.currency',
        'r.finalizes_at',
        eb.fn.coalesce('r.held_at', 'r.started_at').as('held_since'),
        eb
          .selectFrom('gate_lines as l')
          .select(sql<string | null>`sum(abs(l.estimated_impact_minor))`.as('money'))
          .whereRef('l.run_id', '=', 'r.id')
          .whereRef('l.recount', '=', 'r.recounts')
          .as('money'),
        eb
          .selectFrom('gate_lines as l')
          .select(sql<string>`count(*)`.as('unpriced'))
          .whereRef('l.run_id', '=', 'r.id')
          .whereRef('l.recount', '=', 'r.recounts')
          .where('l.estimated_impact_minor', 'is', null)
          .as('unpriced'),
      ])
      .where('r.finished_at', 'is', null)
      .where('r.status', 'in', filter.status ? [filter.status] : [...QUEUE_STATUSES]);
    if (filter.customerId) query = query.where('r.customer_id', '=', filter.customerId);
    const rows = await query.orderBy('held_since').orderBy('r.id').limit(limit).execute();
    const awaiting = rows.filter((r) => r.status === 'awaiting_second_approval').map((r) => r.invoice_id);
    const approvers = await this.firstApprovers(awaiting);
    return rows.map((r) => ({
      invoiceId: r.invoice_id,
      customerId: r.customer_id,
      status: r.status as QueueStatus,
      currency: r.currency,
      heldSince: r.held_since,
      finalizesAt: r.finalizes_at,
      moneyAtStakeMinor: new Decimal(r.money ?? 0).toFixed(),
      unpricedLines: Number(r.unpriced ?? 0),
      firstApprover: r.status === 'awaiting_second_approval' ? (approvers.get(r.invoice_id) ?? null) : null,
    }));
  }

  /** Counts, oldest hold and money at stake of every open hold: two grouped reads on the open-holds index. */
  async summarize(): Promise<HoldsSummary> {
    const [statuses, money] = await Promise.all([
      this.db
        .selectFrom('gate_runs')
        .select((eb) => [
          'status',
          eb.fn.countAll<string>().as('count'),
          eb.fn.min(eb.fn.coalesce('held_at', 'started_at')).as('oldest'),
        ])
        .where('finished_at', 'is', null)
        .where('status', 'in', [...QUEUE_STATUSES])
        .groupBy('status')
        .execute(),
      this.db
        .selectFrom('gate_runs as r')
        .innerJoin('gate_lines as l', (join) =>
          join.onRef('l.run_id', '=', 'r.id').onRef('l.recount', '=', 'r.recounts'),
        )
        .select([
          sql<string>`coalesce(lower(r.currency), 'unknown')`.as('currency'),
          sql<string>`coalesce(sum(abs(l.estimated_impact_minor)), 0)`.as('minor'),
        ])
        .where('r.finished_at', 'is', null)
        .where('r.status', 'in', [...QUEUE_STATUSES])
        .groupBy(sql`coalesce(lower(r.currency), 'unknown')`)
        .orderBy('currency')
        .execute(),
    ]);
    return {
      byStatus: QUEUE_STATUSES.map((status) => {
        const row = statuses.find((s) => s.status === status);
        return { status, count: Number(row?.count ?? 0), oldestHeldSince: row?.oldest ? new Date(row.oldest) : null };
      }),
      moneyByCurrency: money.map((m) => ({ currency: m.currency, minor: new Decimal(m.minor).toFixed() })),
    };
  }

  /** The latest accepted release of each invoice in the decision log. */
  private async firstApprovers(invoiceIds: string[]): Promise<Map<string, { reviewer: string; at: Date }>> {
    const approvers = new Map<string, { reviewer: string; at: Date }>();
    if (invoiceIds.length === 0) return approvers;
    const log = sql.id(this.schema, 'decision_log');
    const { rows } = await sql<{ invoice_id: string; reviewer: string; at: Date }>`
      select distinct on (invoice_id) invoice_id, reviewer, at from ${log}
      where invoice_id in (${sql.join(invoiceIds)}) and action = 'release' and accepted
      order by invoice_id, seq desc`.execute(this.database);
    for (const row of rows) approvers.set(row.invoice_id, { reviewer: row.reviewer, at: new Date(row.at) });
    return approvers;
  }
}
