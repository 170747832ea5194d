// One gate run's state and the steps the story in invoice-gate.ts is told with: reading, counting,
// holding, finishing. Every side effect goes through an activity; every rule is a plain function in
// src/gate/. The workflow's state is what the `state` query returns.
import { setCurrentDetails, setHandler, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import { compareInvoice } from '../gate/compare';
import { isDecision } from '../gate/decision';
import { describeGate } from '../gate/describe-gate';
import { stripeResolution, type StripeResolution } from '../gate/stripe-resolution';
import type {
  Comparison,
  Decision,
  GateOutcome,
  GateRunKey,
  GateSettings,
  GateState,
  GateStatus,
  InvoiceSnapshot,
  StripeInvoiceEvent,
  Tolerance,
} from '../gate/types';
import {
  GateVariancePctKey,
  InvoiceGateStatusKey,
  StripeCustomerIdKey,
  StripeInvoiceIdKey,
} from '../temporal/search-attribute-keys';
import { audit, ledger, slack, stripe } from './activities';
import { decisionSignal, stateQuery, stripeInvoiceEventSignal } from './definitions';
import { invoiceDeleted, permanentFailure } from './failures';

export const INVOICE_DELETED = 'the invoice no longer exists in Stripe';

export class GateRun {
  readonly key: GateRunKey;
  readonly state: GateState;
  /** The invoice as last read; set by read() before anything needs it. */
  private invoice: InvoiceSnapshot | null = null;
  private readonly decisions: Decision[] = [];
  private readonly stripeEvents: StripeInvoiceEvent[] = [];

  constructor(readonly invoiceId: string) {
    const { workflowId, runId } = workflowInfo();
    this.key = { invoiceId, workflowId, runId };
    this.state = {
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
    setHandler(stateQuery, () => this.state);
    setHandler(decisionSignal, (decision) => {
      // A malformed signal (from a script or the CLI) changes nothing.
      if (isDecision(decision)) this.decisions.push(decision);
    });
    setHandler(stripeInvoiceEventSignal, (event) => void this.stripeEvents.push(event));
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
    await audit.recordInvoiceRead(this.key, invoice);
    upsertSearchAttributes([
      { key: StripeInvoiceIdKey, value: this.invoiceId },
      { key: StripeCustomerIdKey, value: invoice.customerId },
    ]);
  }

  /** The comparison, or null (with the reason in state) when the ledger cannot be counted: fail closed. */
  async countAndCompare(invoice: InvoiceSnapshot, tolerance: Tolerance): Promise<Comparison | null> {
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
    const comparison = compareInvoice(invoice.meteredLines, counts, tolerance);
    await audit.recordComparison(this.key, comparison, this.state.recounts);
    return comparison;
  }

  /** Every metered line is within tolerance: Stripe finalizes the invoice on its own schedule. */
  async pass(comparison: Comparison): Promise<GateState> {
    this.moveTo('passed', comparison);
    return this.finish('passed', 'every metered line is within tolerance; Stripe finalizes it as scheduled');
  }

  /**
   * Pauses this one invoice (auto_advance=false) and tells the reviewers. Returns the gate's end
   * instead when Stripe will not let it pause the invoice any more.
   */
  async hold(comparison: Comparison | null): Promise<GateState | null> {
    let pause;
    try {
      pause = await stripe.pauseInvoice(this.invoiceId, this.key.workflowId);
    } catch (error) {
      const refused = permanentFailure(error);
      if (!refused) throw error;
      return this.tooLate(
        comparison,
        `Stripe refused to pause the invoice (${refused}); it finalizes on Stripe's schedule unless someone pauses it in the dashboard`,
      );
    }
    if (!pause.applied) return this.tooLate(comparison, `the invoice became ${pause.status} before the gate could pause it`, pause.status);
    this.state.heldSince = Date.now();
    this.moveTo('held', comparison);
    this.state.slackMessage = await slack.notifyReviewers(this.key, this.requireInvoice(), this.state);
    await audit.recordGateState(this.key, this.state, Date.now());
    return null;
  }

  /** Whether a decision or a Stripe event is waiting to be handled. */
  hasNews(): boolean {
    return this.decisions.length > 0 || this.stripeEvents.length > 0;
  }

  /** Stripe settled the invoice another way meanwhile (finalized, voided, deleted, paid); null if not. */
  settledInStripe(): StripeResolution | null {
    return stripeResolution(this.stripeEvents.splice(0));
  }

  /** The next reviewer decision, now the gate's decision of record. */
  takeDecision(): Decision | undefined {
    const decision = this.decisions.shift();
    if (decision) {
      this.state.decision = decision;
      this.state.reviewer = decision.reviewer;
    }
    return decision;
  }

  async remind(reminder: number): Promise<void> {
    await slack.remindReviewers(this.key, this.requireInvoice(), this.state, reminder, Date.now());
  }

  /**
   * A reviewer asked for a recount: read the invoice and the ledger again. Within tolerance now, the
   * gate releases it without a person; otherwise it stays held (null).
   */
  async recount(tolerance: Tolerance): Promise<GateState | null> {
    this.moveTo('recounting');
    await slack.updateAlert(this.key, this.requireInvoice(), this.state);
    this.state.recounts += 1;
    const invoice = await this.read();
    if (!invoice) return this.finish('resolved_in_stripe', INVOICE_DELETED, 'deleted');
    const comparison = await this.countAndCompare(invoice, tolerance);
    if (invoice.status !== 'draft') return this.finish('resolved_in_stripe', `the invoice was already ${invoice.status} in Stripe`);
    if (comparison?.passed) {
      this.state.comparison = comparison;
      return this.finalize('auto_released', `within tolerance after recount ${this.state.recounts}`);
    }
    this.moveTo('held', comparison);
    await slack.updateAlert(this.key, invoice, this.state);
    await audit.recordGateState(this.key, this.state, Date.now());
    return null;
  }

  /** Finalizes now; if Stripe already moved the invoice on, that is what the gate reports. */
  async finalize(outcome: 'released' | 'auto_released', reason: string): Promise<GateState> {
    // Visible at once, so a second click meanwhile is told a release is under way, not "held".
    this.moveTo('releasing');
    const finalized = await stripe.finalizeInvoice(this.invoiceId);
    if (!finalized.applied) {
      return this.finish('resolved_in_stripe', `the invoice was already ${finalized.status} in Stripe`, finalized.status);
    }
    return this.finish(outcome, reason, finalized.status);
  }

  /** Ends the gate: the alert (if one was posted) and the audit show the outcome. */
  async finish(outcome: GateOutcome, reason: string, invoiceStatus = this.state.invoiceStatus): Promise<GateState> {
    this.state.reason = reason;
    this.state.invoiceStatus = invoiceStatus;
    this.moveTo(outcome);
    if (this.state.slackMessage) await slack.updateAlert(this.key, this.requireInvoice(), this.state);
    await audit.recordGateState(this.key, this.state, Date.now());
    return this.state;
  }

  /** Nothing can be stopped any more; a divergence is still worth a (button-less) alert. */
  async tooLate(comparison: Comparison | null, reason: string, invoiceStatus = this.state.invoiceStatus): Promise<GateState> {
    this.state.reason = reason;
    this.state.invoiceStatus = invoiceStatus;
    this.moveTo('too_late', comparison);
    if (!comparison?.passed) this.state.slackMessage = await slack.notifyReviewers(this.key, this.requireInvoice(), this.state);
    await audit.recordGateState(this.key, this.state, Date.now());
    return this.state;
  }

  private requireInvoice(): InvoiceSnapshot {
    if (!this.invoice) throw new Error(`gate ${this.key.workflowId}: the invoice has not been read`);
    return this.invoice;
  }
}

/** When the next reminder is due while the invoice is held: after `reminderAfterMs`, then every `reminderEveryMs`. */
export class ReminderSchedule {
  private nextAt: number;
  private sent = 0;

  constructor(heldSince: number, private readonly settings: Pick<GateSettings, 'reminderAfterMs' | 'reminderEveryMs'>) {
    this.nextAt = heldSince + settings.reminderAfterMs;
  }

  /** Milliseconds until the next reminder (at least 1: a zero timeout would mean "no timeout"). */
  msUntilNext(now: number): number {
    return Math.max(1, this.nextAt - now);
  }

  /** Counts a reminder as sent and returns its number (1, 2, ...). */
  take(): number {
    this.sent += 1;
    this.nextAt += this.settings.reminderEveryMs;
    return this.sent;
  }
}
