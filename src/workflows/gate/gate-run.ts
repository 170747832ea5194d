// One gate's state and what every phase needs of it: the settings, the invoice as last read, the
// comparison rounds, the status everyone sees (query, search attributes, Web UI details), and Stripe's
// status as the audit has it. The phases' own steps are in the files named after them.
import { setCurrentDetails, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import { compareInvoice } from '../../gate/compare';
import { checkDecision, type DecisionStage, type ReviewerPolicy } from '../../gate/decision-rules';
import { moneyAtStake, needsSecondApproval } from '../../gate/second-approval';
import { describeGate } from '../../gate/describe-gate';
import { isSettled, laterStatus, type InvoiceStatus } from '../../gate/lifecycle';
import type {
  CarriedGate,
  Comparison,
  ComparisonKind,
  Decision,
  GatePhase,
  GateRunKey,
  GateSettings,
  GateStart,
  GateState,
  GateStatus,
  InvoiceSnapshot,
  Tolerance,
} from '../../gate/types';
import {
  GateVariancePctKey,
  InvoiceGateStatusKey,
  StripeCustomerIdKey,
  StripeInvoiceIdKey,
} from '../../temporal/search-attribute-keys';
import { audit, ledger, stripe } from '../activities';
import { invoiceDeleted, permanentFailure } from '../failures';
import { GateInbox } from './inbox';
import { LateUsage } from './late-usage';

export const INVOICE_DELETED = 'the invoice no longer exists in Stripe';
const DEFAULT_DECIDE_MARGIN_MS = 15 * 60_000;

export class GateRun {
  readonly key: GateRunKey;
  readonly state: GateState;
  readonly inbox: GateInbox;
  readonly lateUsage = new LateUsage();
  /** The invoice as last read; set by read() before anything needs it. */
  invoice: InvoiceSnapshot | null;
  /** The customer's settings; loaded before the first check, again once the invoice names its customer. */
  settings!: GateSettings;
  settingsCustomer: string | null = null;
  /** When the draft was last compared (epoch ms): the watch looks again before and after Stripe finalizes. */
  lastLookAt = 0;
  /** What the webhook or the sweep told the gate, for an alert before Stripe has answered a read. */
  private start: GateStart = {};
  /** Stripe's status as recorded in the audit (the state's may be newer from a read). */
  private recordedStatus: InvoiceStatus | null;
  /** Pauses made so far: each pause is its own Stripe write with its own idempotency key. */
  pauses: number;
  /** The audit round (gate_lines.recount) of the latest comparison, which an explanation is linked to. */
  lastRound = 0;
  remindersSent: number;

  constructor(
    readonly invoiceId: string,
    carried?: CarriedGate,
  ) {
    // The first run's id: audit rows stay one per gate when the run continues as new.
    const { workflowId, firstExecutionRunId } = workflowInfo();
    this.key = { invoiceId, workflowId, runId: firstExecutionRunId };
    this.state = carried?.state ?? {
      invoiceId,
      customerId: null,
      status: 'reading',
      invoiceStatus: null,
      heldSince: null,
      comparison: null,
      decision: null,
      reviewer: null,
      slackMessage: null,
      recounts: 0,
      reason: null,
    };
    this.invoice = carried?.invoice ?? null;
    this.pauses = carried?.pauses ?? 0;
    this.recordedStatus = (carried?.recordedStatus as InvoiceStatus | undefined) ?? null;
    this.remindersSent = carried?.remindersSent ?? 0;
    this.inbox = new GateInbox(
      () => this.state,
      (decision) => checkDecision(decision, this.decisionStage(), this.reviewerPolicy()),
      carried?.seenEventIds,
    );
  }

  /** What a continued run needs to go on where this one stopped. */
  carry(): CarriedGate {
    return {
      state: this.state,
      invoice: this.invoice,
      seenEventIds: this.inbox.carriedEventIds(),
      pauses: this.pauses,
      remindersSent: this.remindersSent,
      recordedStatus: this.recordedStatus,
    };
  }

  async loadSettings(customerId: string | null): Promise<GateSettings> {
    this.settings = await ledger.loadGateSettings(customerId ?? '');
    this.settingsCustomer = customerId;
    // The mode is the customer's until the gate first holds (or would hold), then the gate's for good:
    // switching a customer to enforce applies to its next invoices, not to one already observed.
    if (this.phase === 'deciding' && this.state.status !== 'held' && this.state.status !== 'would_hold')
      this.state.mode = this.settings.mode ?? 'enforce';
    return this.settings;
  }

  /** GATE_DECIDE_MARGIN: an undecided invoice is paused anyway this long before Stripe finalizes it. */
  get decideMarginMs(): number {
    return this.settings.decideMarginMs ?? DEFAULT_DECIDE_MARGIN_MS;
  }

  /** Observe mode: the gate does everything but write to Stripe. */
  get observing(): boolean {
    return this.state.mode === 'observe';
  }

  /** Marks a gate that follows its invoice to the end (phases, numbered comparison rounds). */
  followTheInvoice(start: GateStart): void {
    this.start = start;
    if (this.state.phase) return;
    this.state.rounds = 0;
    this.enter('deciding');
  }

  get phase(): GatePhase {
    return this.state.phase ?? 'deciding';
  }

  /** The status everyone sees: the query, the search attributes and the Web UI's details. */
  moveTo(status: GateStatus, comparison: Comparison | null = this.state.comparison): void {
    this.state.status = status;
    this.state.comparison = comparison;
    upsertSearchAttributes([
      { key: InvoiceGateStatusKey, value: status },
      ...(comparison ? [{ key: GateVariancePctKey, value: Number(comparison.maxVariancePct) }] : []),
    ]);
    setCurrentDetails(describeGate(this.state));
  }

  enter(phase: GatePhase): void {
    this.state.phase = phase;
    setCurrentDetails(describeGate(this.state));
  }

  /** The invoice as Stripe has it now; null once it has been deleted. */
  async read(): Promise<InvoiceSnapshot | null> {
    try {
      this.invoice = await stripe.readInvoice(this.invoiceId);
    } catch (error) {
      if (invoiceDeleted(error)) return null;
      throw error;
    }
    this.state.invoiceStatus = this.invoice.status;
    return this.invoice;
  }

  /** The first read: the audit and the search attributes learn whose invoice this is. */
  async invoiceFound(invoice: InvoiceSnapshot): Promise<void> {
    this.state.customerId = invoice.customerId;
    this.state.currency = invoice.currency;
    await audit.recordInvoiceRead(this.key, invoice);
    this.recordedStatus ??= invoice.status as InvoiceStatus;
    upsertSearchAttributes([
      { key: StripeInvoiceIdKey, value: this.invoiceId },
      { key: StripeCustomerIdKey, value: invoice.customerId },
    ]);
  }

  /** The comparison, or null (with the reason in state) when the ledger cannot be counted: fail closed. */
  async countAndCompare(
    invoice: InvoiceSnapshot,
    tolerance: Tolerance,
    kind: ComparisonKind = 'check',
  ): Promise<Comparison | null> {
    let counts;
    try {
      counts = await ledger.countLedgerEvents({
        customerId: invoice.customerId,
        customerMetadata: invoice.customerMetadata,
        lines: invoice.meteredLines,
      });
    } catch (error) {
      const why = permanentFailure(error);
      if (!why) throw error;
      this.state.reason = `the ledger could not be counted: ${why}`;
      return null;
    }
    this.state.reason = null;
    this.lastLookAt = Date.now();
    const comparison = compareInvoice(invoice.meteredLines, counts, tolerance);
    // Gates that follow the invoice number every round; the first version numbered recounts only.
    const round = this.state.rounds === undefined ? this.state.recounts : this.state.rounds;
    await audit.recordComparison(this.key, comparison, round, kind);
    this.lastRound = round;
    if (this.state.rounds !== undefined) this.state.rounds += 1;
    return comparison;
  }

  /** Records Stripe's status as the gate learned it from its own read or write. */
  async noteInvoiceStatus(status: string): Promise<void> {
    const next = laterStatus(this.state.invoiceStatus as InvoiceStatus | null, status as InvoiceStatus);
    this.state.invoiceStatus = next;
    await this.recordStatus(next, false);
  }

  /** Writes the status to the audit when it moved on (or a payment failed) since the last write. */
  async recordStatus(status: InvoiceStatus, paymentFailed: boolean): Promise<void> {
    const next = laterStatus(this.recordedStatus, status);
    if (next === this.recordedStatus && !paymentFailed) return;
    this.recordedStatus = next;
    await audit.recordInvoiceStatus(this.key, { status: next, paymentFailures: this.state.paymentFailures ?? 0 });
  }

  invoiceSettled(): boolean {
    return isSettled(this.state.invoiceStatus as InvoiceStatus | null);
  }

  /** What a reviewer's decision can do now. */
  decisionStage(): DecisionStage {
    const { status, approvals } = this.state;
    if (status === 'held') return { waitingFor: 'review' };
    if (status === 'awaiting_second_approval' && approvals?.[0]) {
      return { waitingFor: 'second_approval', firstApprover: approvals[0].reviewer };
    }
    return { waitingFor: 'nothing', status };
  }

  /** Who may decide, as configured on the worker; null before the settings carry it (see checkDecision). */
  reviewerPolicy(): ReviewerPolicy | null {
    const review = this.settings?.review;
    return review ? { reviewers: review.reviewers, approvers: review.approvers } : null;
  }

  /** The money at stake on the invoice (minor units; null when it cannot be computed). */
  moneyAtStake(): string | null {
    const comparison = this.state.comparison;
    return comparison ? moneyAtStake(comparison.lines) : null;
  }

  /** Whether a release of the invoice as it stands needs a second reviewer (GATE_SECOND_APPROVAL_ABOVE). */
  needsSecondApproval(): boolean {
    const threshold = this.settings.review?.secondApprovalAbove ?? null;
    return needsSecondApproval(threshold, this.moneyAtStake(), this.invoice?.currency ?? null);
  }

  /** A write of the gate's own to the invoice: Stripe events it caused are not someone else's. */
  ownRequest(requestId: string | null | undefined): void {
    if (!requestId) return;
    const own = (this.state.ownRequestIds ??= []);
    if (!own.includes(requestId)) own.push(requestId);
  }

  /** The next reviewer decision, now the gate's decision of record. */
  takeDecision(): Decision | undefined {
    const decision = this.inbox.takeDecision();
    if (decision) {
      this.state.decision = decision;
      this.state.reviewer = decision.reviewer;
    }
    return decision;
  }

  /** The invoice as last read; before any read succeeded (a deadline hold), what the webhook said of it. */
  requireInvoice(): InvoiceSnapshot {
    if (this.invoice) return this.invoice;
    return {
      invoiceId: this.invoiceId,
      customerId: this.start.customerId ?? 'unknown (Stripe has not answered)',
      customerName: null,
      customerEmail: null,
      customerMetadata: {},
      status: 'draft',
      autoAdvance: true,
      currency: this.start.currency ?? 'usd',
      livemode: this.start.livemode ?? false,
      periodStart: 0,
      periodEnd: 0,
      automaticallyFinalizesAt: this.start.automaticallyFinalizesAt ?? null,
      meteredLines: [],
      otherLineCount: 0,
    };
  }
}
