// The gate's own record: why each invoice was held or released, and by whom. Every write is an
// upsert keyed so that activity retries leave one row (runs by workflow id + run id, lines by run +
// comparison round + line id, Stripe events by event id).
import Decimal from 'decimal.js';
import { sql, type Kysely, type Selectable } from 'kysely';
import type {
  Comparison,
  ComparisonKind,
  GateMode,
  GateOutcome,
  GateStatus,
  SlackMessageRef,
  Tolerance,
  UnixSeconds,
} from '../gate/types';
import { INVOICE_STATUS_RANK, type InvoiceStatus } from '../gate/lifecycle';
import { DEFAULT_GATE_SCHEMA, type GateDatabase, type GateLinesTable, type GateRunsTable } from '../db/schema';
import type { DigestPeriod, ObserveDigestSummary } from '../gate/observe-digest';
import { summarizeObservedPeriod } from './observe-digest-query';

/** One gate run = one Temporal workflow execution. */
export interface RunKey {
  workflowId: string;
  runId: string;
}

export interface RunStartedInput {
  invoiceId: string;
  /** Details known once the invoice was read; a repeated call fills them in (null/undefined keeps what is stored). */
  customerId?: string | null;
  periodStart?: UnixSeconds | null;
  periodEnd?: UnixSeconds | null;
  currency?: string | null;
  /** Default `reading` on the first call; unchanged on later calls unless given. */
  status?: GateStatus;
  startedAt?: Date;
  /** How the gate was started: Stripe's webhook, or the sweep that found the invoice without one. */
  startedBy?: 'webhook' | 'sweep';
  /** Stripe's status when the gate first read the invoice (kept if one is recorded already). */
  invoiceStatus?: InvoiceStatus | null;
  /** Stripe's `automatically_finalizes_at` as read; only the first one is kept (the gate's pause moves it). */
  finalizesAt?: UnixSeconds | null;
}

export interface InvoiceStatusInput {
  /** Stripe's status; stored only when it is further along than the one recorded. */
  status: InvoiceStatus;
  /** invoice.payment_failed attempts seen so far (only ever grows). */
  paymentFailures?: number;
  at?: Date;
}

export interface OutcomeInput {
  outcome: GateOutcome;
  /** Who decided (Slack user id); sets decided_at on first record. */
  reviewer?: string | null;
  note?: string | null;
  reason?: string | null;
  slack?: SlackMessageRef | null;
  /** The mode the gate decided in (observe mode records `would_hold` where enforce holds). */
  mode?: GateMode | null;
  at?: Date;
}

export interface StripeEventInput {
  eventId: string;
  type: string;
  invoiceId?: string | null;
  /** The event's `created` (unix seconds). */
  created?: UnixSeconds | null;
  at?: Date;
}

export interface StripeEventRecorded {
  /** The first delivery of this event id. */
  firstTime: boolean;
  /** Deliveries of this id before this one. */
  duplicateCount: number;
}

export interface ReviewAttemptInput {
  invoiceId: string;
  slackUserId: string;
  /** release | recount | anything the button sent */
  action: string;
  /** Whether the user is an allowed reviewer. */
  allowed: boolean;
  /** What came of it, e.g. signalled, not_allowed, no_gate, already_decided. */
  outcome: string;
  /** Optional dedupe key (e.g. Slack action_ts + user): a retried write with the same key is ignored. */
  attemptKey?: string | null;
  at?: Date;
}

export interface GateLineRecord {
  recount: number;
  /** What the round was for: check, recount, late_usage, finalized. */
  kind: ComparisonKind;
  position: number;
  lineId: string;
  description: string | null;
  eventName: string;
  formula: string;
  periodStart: Date;
  periodEnd: Date;
  stripeQuantity: string;
  ledgerQuantity: string;
  difference: string;
  variancePct: string | null;
  estimatedImpactMinor: string | null;
  /** Why the impact is unavailable; null when it is known. */
  impactUnavailableReason: string | null;
  passed: boolean;
}

export interface GateRunRecord {
  id: string;
  workflowId: string;
  runId: string;
  invoiceId: string;
  customerId: string | null;
  periodStart: Date | null;
  periodEnd: Date | null;
  currency: string | null;
  status: GateStatus;
  outcome: GateOutcome | null;
  stripeTotal: string | null;
  ledgerTotal: string | null;
  maxVariancePct: string | null;
  totalEstimatedImpactMinor: string | null;
  tolerance: Tolerance | null;
  /** Latest comparison round recorded (0 = first count). */
  recounts: number;
  reviewer: string | null;
  decisionNote: string | null;
  slack: SlackMessageRef | null;
  reason: string | null;
  startedAt: Date;
  decidedAt: Date | null;
  finishedAt: Date | null;
  updatedAt: Date;
  invoiceStatus: InvoiceStatus | null;
  invoiceStatusAt: Date | null;
  paymentFailures: number;
  startedBy: 'webhook' | 'sweep';
  /** enforce or observe; null before the gate's first outcome. */
  mode: GateMode | null;
  /** When the gate first would have held the invoice (observe mode). */
  wouldHoldAt: Date | null;
}

export interface GateRunWithLines extends GateRunRecord {
  /** Every comparison round, ordered by round then invoice line order. */
  lines: GateLineRecord[];
}

export interface ListRunsOptions {
  outcome?: GateOutcome;
  customerId?: string;
  limit?: number;
}

export class AuditRunNotFoundError extends Error {
  override readonly name = 'AuditRunNotFoundError';
  constructor(key: RunKey) {
    super(`no gate run recorded for workflow ${key.workflowId} run ${key.runId}; call recordRunStarted first`);
  }
}

const toDate = (s: UnixSeconds | null | undefined): Date | null =>
  s === null || s === undefined ? null : new Date(s * 1000);

export class AuditStore {
  readonly schema: string;

  constructor(
    private readonly database: Kysely<GateDatabase>,
    options: { schema?: string } = {},
  ) {
    this.schema = options.schema ?? DEFAULT_GATE_SCHEMA;
  }

  private get db(): Kysely<GateDatabase> {
    return this.database.withSchema(this.schema);
  }

  /** Creates the run row, or fills in details on a later call. Returns the run's row id. */
  async recordRunStarted(key: RunKey, input: RunStartedInput): Promise<string> {
    const row = await this.db
      .insertInto('gate_runs')
      .values({
        workflow_id: key.workflowId,
        run_id: key.runId,
        invoice_id: input.invoiceId,
        customer_id: input.customerId ?? null,
        period_start: toDate(input.periodStart),
        period_end: toDate(input.periodEnd),
        currency: input.currency ?? null,
        status: input.status ?? 'reading',
        started_at: input.startedAt ?? new Date(),
        updated_at: new Date(),
        ...(input.startedBy ? { started_by: input.startedBy } : {}),
        invoice_status: input.invoiceStatus ?? null,
        finalizes_at: toDate(input.finalizesAt),
      })
      .onConflict((oc) =>
        oc.columns(['workflow_id', 'run_id']).doUpdateSet((eb) => ({
          customer_id: eb.fn.coalesce('excluded.customer_id', 'gate_runs.customer_id'),
          period_start: eb.fn.coalesce('excluded.period_start', 'gate_runs.period_start'),
          period_end: eb.fn.coalesce('excluded.period_end', 'gate_runs.period_end'),
          currency: eb.fn.coalesce('excluded.currency', 'gate_runs.currency'),
          invoice_status: eb.fn.coalesce('gate_runs.invoice_status', 'excluded.invoice_status'),
          finalizes_at: eb.fn.coalesce('gate_runs.finalizes_at', 'excluded.finalizes_at'),
          status: input.status === undefined ? eb.ref('gate_runs.status') : eb.ref('excluded.status'),
          updated_at: eb.ref('excluded.updated_at'),
        })),
      )
      .returning('id')
      .executeTakeFirstOrThrow();
    return row.id;
  }

  async recordStatus(key: RunKey, status: GateStatus): Promise<void> {
    const result = await this.db
      .updateTable('gate_runs')
      .set({ status, updated_at: new Date() })
      .where('workflow_id', '=', key.workflowId)
      .where('run_id', '=', key.runId)
      .executeTakeFirst();
    if (result.numUpdatedRows === 0n) throw new AuditRunNotFoundError(key);
  }

  /**
   * Stores one comparison round (0 = first count, n = nth recount): its lines, and the run's
   * totals unless a later round is already recorded.
   */
  async recordComparison(
    key: RunKey,
    comparison: Comparison,
    recountNumber: number,
    kind: ComparisonKind = recountNumber === 0 ? 'check' : 'recount',
  ): Promise<void> {
    if (!Number.isInteger(recountNumber) || recountNumber < 0)
      throw new RangeError(`recountNumber must be a whole number >= 0, got ${recountNumber}`);
    await this.database.transaction().execute(async (trx) => {
      const tx = trx.withSchema(this.schema);
      const run = await tx
        .selectFrom('gate_runs')
        .select(['id'])
        .where('workflow_id', '=', key.workflowId)
        .where('run_id', '=', key.runId)
        .forUpdate()
        .executeTakeFirst();
      if (!run) throw new AuditRunNotFoundError(key);
      if (comparison.lines.length > 0) {
        await tx
          .insertInto('gate_lines')
          .values(
            comparison.lines.map((line, position) => ({
              run_id: run.id,
              recount: recountNumber,
              kind,
              line_id: line.lineId,
              position,
              description: line.description,
              event_name: line.eventName,
              formula: line.formula,
              period_start: new Date(line.periodStart * 1000),
              period_end: new Date(line.periodEnd * 1000),
              stripe_quantity: line.stripeQuantity,
              ledger_quantity: line.ledgerQuantity,
              difference: line.difference,
              variance_pct: line.variancePct,
              estimated_impact_minor: line.estimatedImpactMinor,
              impact_unavailable_reason: line.impactUnavailableReason ?? null,
              passed: line.passed,
              recorded_at: new Date(),
            })),
          )
          .onConflict((oc) =>
            oc.columns(['run_id', 'recount', 'line_id']).doUpdateSet((eb) => ({
              kind: eb.ref('excluded.kind'),
              position: eb.ref('excluded.position'),
              description: eb.ref('excluded.description'),
              event_name: eb.ref('excluded.event_name'),
              formula: eb.ref('excluded.formula'),
              period_start: eb.ref('excluded.period_start'),
              period_end: eb.ref('excluded.period_end'),
              stripe_quantity: eb.ref('excluded.stripe_quantity'),
              ledger_quantity: eb.ref('excluded.ledger_quantity'),
              difference: eb.ref('excluded.difference'),
              variance_pct: eb.ref('excluded.variance_pct'),
              estimated_impact_minor: eb.ref('excluded.estimated_impact_minor'),
              impact_unavailable_reason: eb.ref('excluded.impact_unavailable_reason'),
              passed: eb.ref('excluded.passed'),
            })),
          )
          .execute();
      }
      const total = (pick: (l: Comparison['lines'][number]) => string) =>
        comparison.lines.reduce((sum, l) => sum.plus(pick(l)), new Decimal(0)).toFixed();
      await tx
        .updateTable('gate_runs')
        .set({
          recounts: recountNumber,
          stripe_total: total((l) => l.stripeQuantity),
          ledger_total: total((l) => l.ledgerQuantity),
          max_variance_pct: comparison.maxVariancePct,
          total_estimated_impact_minor: comparison.totalEstimatedImpactMinor,
          tolerance_pct: comparison.tolerance.pct,
          tolerance_abs: comparison.tolerance.abs,
          tolerance_money: comparison.tolerance.money ?? null,
          updated_at: new Date(),
        })
        .where('id', '=', run.id)
        .where('recounts', '<=', recountNumber)
        .execute();
    });
  }

  /**
   * Records an outcome. `held` is not final; every other outcome sets finished_at once. A late
   * (retried) `held` never overwrites a reviewer's or Stripe's outcome; it may follow `passed` (late
   * usage made a passed draft diverge), which reopens the run. Timestamps keep their first value.
   */
  async recordOutcome(key: RunKey, input: OutcomeInput): Promise<void> {
    const at = input.at ?? new Date();
    const held = input.outcome === 'held';
    let query = this.db
      .updateTable('gate_runs')
      .set((eb) => ({
        outcome: input.outcome,
        status: input.outcome,
        reviewer: input.reviewer ?? eb.ref('reviewer'),
        decision_note: input.note ?? eb.ref('decision_note'),
        reason: input.reason ?? eb.ref('reason'),
        slack_channel: input.slack?.channel ?? eb.ref('slack_channel'),
        slack_ts: input.slack?.ts ?? eb.ref('slack_ts'),
        mode: input.mode ?? eb.ref('mode'),
        would_hold_at:
          input.outcome === 'would_hold'
            ? eb.fn.coalesce('would_hold_at', sql<Date>`${at}::timestamptz`)
            : eb.ref('would_hold_at'),
        decided_at: input.reviewer ? eb.fn.coalesce('decided_at', sql<Date>`${at}::timestamptz`) : eb.ref('decided_at'),
        finished_at: held ? null : eb.fn.coalesce('finished_at', sql<Date>`${at}::timestamptz`),
        // A repeated `held` keeps the hold's start; a hold after a pass (late usage) starts a new one.
        held_at: held
          ? sql<Date>`case when outcome = 'held' and held_at is not null then held_at else ${at}::timestamptz end`
          : eb.ref('held_at'),
        updated_at: new Date(),
      }))
      .where('workflow_id', '=', key.workflowId)
      .where('run_id', '=', key.runId);
    if (held) query = query.where((eb) => eb.or([eb('finished_at', 'is', null), eb('outcome', '=', 'passed')]));
    const result = await query.executeTakeFirst();
    if (result.numUpdatedRows === 0n && !(await this.runExists(key))) throw new AuditRunNotFoundError(key);
  }

  /**
   * Stripe's status of the invoice as the gate follows it: stored only when further along than the
   * recorded one (deliveries repeat and arrive out of order; paid never returns to open).
   */
  async recordInvoiceStatus(key: RunKey, input: InvoiceStatusInput): Promise<void> {
    const rank = (column: ReturnType<typeof sql.ref>) =>
      sql<number>`case ${column} ${sql.join(
        Object.entries(INVOICE_STATUS_RANK).map(([status, r]) => sql`when ${status} then ${r}`),
        sql` `,
      )} else -1 end`;
    const newRank = INVOICE_STATUS_RANK[input.status];
    const result = await this.db
      .updateTable('gate_runs')
      .set(() => ({
        invoice_status: sql<string>`case when ${rank(sql.ref('invoice_status'))} < ${newRank} then ${input.status} else invoice_status end`,
        invoice_status_at: sql<Date>`case when ${rank(sql.ref('invoice_status'))} < ${newRank} then ${input.at ?? new Date()}::timestamptz else invoice_status_at end`,
        payment_failures: sql<number>`greatest(payment_failures, ${input.paymentFailures ?? 0})`,
        updated_at: new Date(),
      }))
      .where('workflow_id', '=', key.workflowId)
      .where('run_id', '=', key.runId)
      .executeTakeFirst();
    if (result.numUpdatedRows === 0n) throw new AuditRunNotFoundError(key);
  }

  async recordSlackMessage(key: RunKey, message: SlackMessageRef): Promise<void> {
    const result = await this.db
      .updateTable('gate_runs')
      .set({ slack_channel: message.channel, slack_ts: message.ts, updated_at: new Date() })
      .where('workflow_id', '=', key.workflowId)
      .where('run_id', '=', key.runId)
      .executeTakeFirst();
    if (result.numUpdatedRows === 0n) throw new AuditRunNotFoundError(key);
  }

  /** Records a received Stripe event once; later deliveries of the same id only count. */
  async recordStripeEvent(event: StripeEventInput): Promise<StripeEventRecorded> {
    const [recorded] = await this.recordStripeEvents([event]);
    return recorded;
  }

  /**
   * Records many received Stripe events in one statement (the webhook's group commit), each once; a
   * delivery of an id already recorded, or repeated in the batch, counts as a duplicate. One result
   * per input, in order, as if they had been recorded one after the other.
   */
  async recordStripeEvents(events: readonly StripeEventInput[]): Promise<StripeEventRecorded[]> {
    if (events.length === 0) return [];
    const now = new Date();
    const deliveries = new Map<string, { event: StripeEventInput; count: number }>();
    for (const event of events) {
      const seen = deliveries.get(event.eventId);
      if (seen) seen.count += 1;
      else deliveries.set(event.eventId, { event, count: 1 });
    }
    const rows = await this.db
      .insertInto('stripe_events')
      .values(
        [...deliveries.values()].map(({ event, count }) => ({
          event_id: event.eventId,
          type: event.type,
          invoice_id: event.invoiceId ?? null,
          payload_created: toDate(event.created),
          received_at: event.at ?? now,
          last_received_at: event.at ?? now,
          duplicate_count: count - 1,
        })),
      )
      .onConflict((oc) =>
        oc.column('event_id').doUpdateSet((eb) => ({
          duplicate_count: eb(eb('stripe_events.duplicate_count', '+', eb.ref('excluded.duplicate_count')), '+', 1),
          last_received_at: eb.ref('excluded.last_received_at'),
        })),
      )
      // xmax is 0 on a row this statement inserted, and set on one it updated.
      .returning(['event_id', 'duplicate_count', sql<boolean>`xmax = 0`.as('inserted')])
      .execute();
    const byId = new Map(rows.map((r) => [r.event_id, r]));
    const taken = new Map<string, number>();
    return events.map((event) => {
      const row = byId.get(event.eventId)!;
      const k = taken.get(event.eventId) ?? 0;
      taken.set(event.eventId, k + 1);
      // The k-th delivery of this id in the batch saw the count before the batch's later ones.
      const duplicateCount = row.duplicate_count - (deliveries.get(event.eventId)!.count - 1 - k);
      return { firstTime: row.inserted && k === 0, duplicateCount };
    });
  }

  /** Records who clicked what on a held invoice, allowed or not. */
  async recordReviewAttempt(attempt: ReviewAttemptInput): Promise<{ recorded: boolean }> {
    const result = await this.db
      .insertInto('review_attempts')
      .values({
        attempt_key: attempt.attemptKey ?? null,
        invoice_id: attempt.invoiceId,
        slack_user_id: attempt.slackUserId,
        action: attempt.action,
        allowed: attempt.allowed,
        outcome: attempt.outcome,
        at: attempt.at ?? new Date(),
      })
      .onConflict((oc) => oc.column('attempt_key').doNothing())
      .executeTakeFirst();
    return { recorded: (result.numInsertedOrUpdatedRows ?? 0n) > 0n };
  }

  /** The latest run for an invoice with every compared line, or null. */
  async getRun(invoiceId: string): Promise<GateRunWithLines | null> {
    const run = await this.db
      .selectFrom('gate_runs')
      .selectAll()
      .where('invoice_id', '=', invoiceId)
      .orderBy('started_at', 'desc')
      .orderBy('id', 'desc')
      .limit(1)
      .executeTakeFirst();
    if (!run) return null;
    const lines = await this.db
      .selectFrom('gate_lines')
      .selectAll()
      .where('run_id', '=', run.id)
      .orderBy('recount')
      .orderBy('position')
      .execute();
    return { ...toRunRecord(run), lines: lines.map(toLineRecord) };
  }

  /** Runs, newest first: e.g. `{ outcome: 'held' }` for everything waiting for a reviewer. */
  async listRuns(options: ListRunsOptions = {}): Promise<GateRunRecord[]> {
    let query = this.db.selectFrom('gate_runs').selectAll();
    if (options.outcome) query = query.where('outcome', '=', options.outcome);
    if (options.customerId) query = query.where('customer_id', '=', options.customerId);
    const rows = await query
      .orderBy('started_at', 'desc')
      .orderBy('id', 'desc')
      .limit(options.limit ?? 50)
      .execute();
    return rows.map(toRunRecord);
  }

  /** Review attempts for an invoice, oldest first. */
  /** The daily observe-mode digest's sums for a period (see ./observe-digest-query.ts). */
  async summarizeObserved(period: DigestPeriod): Promise<ObserveDigestSummary> {
    return summarizeObservedPeriod(this.database, this.schema, period);
  }

  async listReviewAttempts(invoiceId: string): Promise<Array<Omit<ReviewAttemptInput, 'at'> & { at: Date }>> {
    const rows = await this.db
      .selectFrom('review_attempts')
      .selectAll()
      .where('invoice_id', '=', invoiceId)
      .orderBy('at')
      .orderBy('id')
      .execute();
    return rows.map((r) => ({
      invoiceId: r.invoice_id,
      slackUserId: r.slack_user_id,
      action: r.action,
      allowed: r.allowed,
      outcome: r.outcome,
      attemptKey: r.attempt_key,
      at: r.at,
    }));
  }

  private async runExists(key: RunKey): Promise<boolean> {
    const row = await this.db
      .selectFrom('gate_runs')
      .select('id')
      .where('workflow_id', '=', key.workflowId)
      .where('run_id', '=', key.runId)
      .executeTakeFirst();
    return row !== undefined;
  }
}

export function toRunRecord(r: Selectable<GateRunsTable>): GateRunRecord {
  return {
    id: r.id,
    workflowId: r.workflow_id,
    runId: r.run_id,
    invoiceId: r.invoice_id,
    customerId: r.customer_id,
    periodStart: r.period_start,
    periodEnd: r.period_end,
    currency: r.currency,
    status: r.status as GateStatus,
    outcome: r.outcome as GateOutcome | null,
    stripeTotal: r.stripe_total,
    ledgerTotal: r.ledger_total,
    maxVariancePct: r.max_variance_pct,
    totalEstimatedImpactMinor: r.total_estimated_impact_minor,
    tolerance:
      r.tolerance_pct !== null && r.tolerance_abs !== null
        ? {
            pct: r.tolerance_pct,
            abs: r.tolerance_abs,
            ...(r.tolerance_money === null ? {} : { money: r.tolerance_money }),
          }
        : null,
    recounts: r.recounts,
    reviewer: r.reviewer,
    decisionNote: r.decision_note,
    slack: r.slack_channel !== null && r.slack_ts !== null ? { channel: r.slack_channel, ts: r.slack_ts } : null,
    reason: r.reason,
    startedAt: r.started_at,
    decidedAt: r.decided_at,
    finishedAt: r.finished_at,
    updatedAt: r.updated_at,
    invoiceStatus: r.invoice_status as InvoiceStatus | null,
    invoiceStatusAt: r.invoice_status_at,
    paymentFailures: r.payment_failures,
    startedBy: r.started_by as 'webhook' | 'sweep',
    mode: r.mode as GateMode | null,
    wouldHoldAt: r.would_hold_at,
  };
}

export function toLineRecord(l: Selectable<GateLinesTable>): GateLineRecord {
  return {
    recount: l.recount,
    kind: l.kind as ComparisonKind,
    position: l.position,
    lineId: l.line_id,
    description: l.description,
    eventName: l.event_name,
    formula: l.formula,
    periodStart: l.period_start,
    periodEnd: l.period_end,
    stripeQuantity: l.stripe_quantity,
    ledgerQuantity: l.ledger_quantity,
    difference: l.difference,
    variancePct: l.variance_pct,
    estimatedImpactMinor: l.estimated_impact_minor,
    impactUnavailableReason: l.impact_unavailable_reason,
    passed: l.passed,
  };
}
