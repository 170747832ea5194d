// The read queries behind the reviewers' run page: everything the audit schema knows about one
// invoice (its gate runs with every compared line, the review clicks, the decision log, Stripe's events).
import type { Kysely } from 'kysely';
import { DEFAULT_GATE_SCHEMA, type GateDatabase } from '../db/schema';
import { toLineRecord, toRunRecord, type GateRunWithLines } from './audit-store';

export interface ReviewClick {
  slackUserId: string;
  action: string;
  allowed: boolean;
  outcome: string;
  at: Date;
}

/** A row of the decision log about this invoice: who asked what, why, and whether the gate took it. */
export interface DecisionRecord {
  seq: string;
  at: Date;
  reviewer: string;
  action: string;
  reason: string | null;
  note: string | null;
  accepted: boolean;
  refusal: string | null;
  channel: string;
}

export interface ReceivedStripeEvent {
  eventId: string;
  type: string;
  /** Stripe's `created` of the event. */
  createdAt: Date | null;
  receivedAt: Date;
  /** Deliveries after the first. */
  duplicateCount: number;
}

export interface InvoiceRecord {
  invoiceId: string;
  /** Newest first; every comparison round of each run, by round then invoice line order. */
  runs: GateRunWithLines[];
  /** Oldest first. */
  clicks: ReviewClick[];
  /** The decision log's rows for the invoice, oldest first. */
  decisions: DecisionRecord[];
  /** Oldest first (by Stripe's `created`, then arrival). */
  stripeEvents: ReceivedStripeEvent[];
}

export class InvoiceRecordReader {
  private readonly schema: string;

  constructor(
    private readonly database: Kysely<GateDatabase>,
    options: { schema?: string } = {},
  ) {
    this.schema = options.schema ?? DEFAULT_GATE_SCHEMA;
  }

  /** What the gate recorded about the invoice; null when it never gated it. */
  async read(invoiceId: string): Promise<InvoiceRecord | null> {
    const db = this.database.withSchema(this.schema);
    const runs = await db
      .selectFrom('gate_runs')
      .selectAll()
      .where('invoice_id', '=', invoiceId)
      .orderBy('started_at', 'desc')
      .orderBy('id', 'desc')
      .execute();
    if (runs.length === 0) return null;
    const [lines, clicks, events, decisions] = await Promise.all([
      db
        .selectFrom('gate_lines')
        .selectAll()
        .where(
          'run_id',
          'in',
          runs.map((r) => r.id),
        )
        .orderBy('run_id')
        .orderBy('recount')
        .orderBy('position')
        .execute(),
      db
        .selectFrom('review_attempts')
        .select(['slack_user_id', 'action', 'allowed', 'outcome', 'at'])
        .where('invoice_id', '=', invoiceId)
        .orderBy('at')
        .orderBy('id')
        .execute(),
      db
        .selectFrom('stripe_events')
        .select(['event_id', 'type', 'payload_created', 'received_at', 'duplicate_count'])
        .where('invoice_id', '=', invoiceId)
        .orderBy('payload_created')
        .orderBy('received_at')
        .execute(),
      db
        .selectFrom('decision_log')
        .select(['seq', 'at', 'reviewer', 'action', 'reason', 'note', 'accepted', 'refusal', 'channel'])
        .where('invoice_id', '=', invoiceId)
        .orderBy('seq')
        .execute(),
    ]);
    return {
      invoiceId,
      runs: runs.map((run) => ({
        ...toRunRecord(run),
        lines: lines.filter((l) => l.run_id === run.id).map(toLineRecord),
      })),
      clicks: clicks.map((c) => ({
        slackUserId: c.slack_user_id,
        action: c.action,
        allowed: c.allowed,
        outcome: c.outcome,
        at: c.at,
      })),
      decisions: decisions.map((d) => ({ ...d, seq: String(d.seq) })),
      stripeEvents: events.map((e) => ({
        eventId: e.event_id,
        type: e.type,
        createdAt: e.payload_created,
        receivedAt: e.received_at,
        duplicateCount: e.duplicate_count,
      })),
    };
  }
}
