// One gate's state and the steps the story in invoice-gate.ts is told with: reading, counting,
// holding, rechecking, following Stripe's status. Every side effect goes through an activity; every
// rule is a plain function in src/gate/. The state is what the `state` query returns.
import {
  ActivityFailure,
  CancellationScope,
  isCancellation,
  patched,
  setCurrentDetails,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import { compareInvoice } from '../gate/compare';
import { isDecision } from '../gate/decision';
import { DEFAULT_HISTORY_SETTINGS, flaggedLines } from '../gate/history-jump';
import { describeGate } from '../gate/describe-gate';
import { isSettled, laterStatus, mayChangeQuantities, statusOfEvent, type InvoiceStatus } from '../gate/lifecycle';
import { stripeResolution, type StripeResolution } from '../gate/stripe-resolution';
import type {
  CarriedGate,
  Comparison,
  ComparisonKind,
  Decision,
  GateOutcome,
  GatePhase,
  GateRunKey,
  GateStart,
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
import { audit, explain, history, ledger, slack, stripe } from './activities';
import { decisionSignal, stateQuery, stripeInvoiceEventSignal } from './definitions';
import { invoiceDeleted, permanentFailure } from './failures';

export const INVOICE_DELETED = 'the invoice no longer exists in Stripe';
/** Marks gates that explain a hold: where in time Stripe and the ledger differ. */
export const EXPLAINS_DIVERGENCES = 'explains-divergences';
/** Marks gates whose first check compares each line with the customer's previous invoices. */
export const CHECKS_USAGE_HISTORY = 'checks-usage-history';

/** Event ids remembered for deduplication (carried across continue-as-new). */
const SEEN_EVENT_IDS_KEPT = 500;

/** What the first check of a draft found. */
export type CheckResult =
  | { kind: 'deleted' }
  | { kind: 'skipped' }
  | { kind: 'compared'; invoice: InvoiceSnapshot; comparison: Comparison | null };

/** The first check running alongside the deadline timer. */
export interface RunningCheck {
  readonly done: () => boolean;
  readonly result: Promise<CheckResult>;
  cancel(): void;
}

/** What Stripe events that arrived meanwhile mean for the gate. */
export interface StripeNews {
  /** The invoice left draft (finalized, paid, voided, deleted): how, for the audit and the alert. */
  settled: StripeResolution | null;
  /** A draft's quantities may have changed (late usage): compare again. */
  quantitiesChanged: boolean;
}

export class GateRun {
  readonly key: GateRunKey;
  readonly state: GateState;
  /** The invoice as last read; set by read() before anything needs it. */
  private invoice: InvoiceSnapshot | null;
  private readonly decisions: Decision[] = [];
  private readonly stripeEvents: StripeInvoiceEvent[] = [];
  private readonly seenEventIds: string[];
  /** The customer's settings; loaded before the first check, again once the invoice names its customer. */
  settings!: GateSettings;
  private settingsCustomer: string | null = null;
  /** When late usage last changed the draft and was not yet compared (epoch ms), and the last recheck. */
  private lateUsageSince: number | null = null;
  private lastRecheckAt = 0;
  /** When the draft was last compared (epoch ms): the watch looks again before and after Stripe finalizes. */
  private lastLookAt = 0;
  /** What the webhook or the sweep told the gate, for an alert before Stripe has answered a read. */
  private start: GateStart = {};
  /** Stripe's status as recorded in the audit (the state's may be newer from a read). */
  private recordedStatus: InvoiceStatus | null;
  /** Pauses made so far: each pause is its own Stripe write with its own idempotency key. */
  private pauses: number;
  /** The audit round (gate_lines.recount) of the latest comparison, which an explanation is linked to. */
  private lastRound = 0;
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
    this.seenEventIds = carried?.seenEventIds ?? [];
    this.pauses = carried?.pauses ?? 0;
    this.recordedStatus = (carried?.recordedStatus as InvoiceStatus | undefined) ?? null;
    this.remindersSent = carried?.remindersSent ?? 0;
    setHandler(stateQuery, () => this.state);
    setHandler(decisionSignal, (decision) => {
      // A malformed signal (from a script or the CLI) changes nothing.
      if (isDecision(decision)) this.decisions.push(decision);
    });
    setHandler(stripeInvoiceEventSignal, (event) => void this.stripeEvents.push(event));
  }

  /** What a continued run needs to go on where this one stopped. */
  carry(): CarriedGate {
    return {
      state: this.state,
      invoice: this.invoice,
      seenEventIds: this.seenEventIds.slice(-SEEN_EVENT_IDS_KEPT),
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

  /**
   * Reads and compares the draft in a scope of its own, so that it can run alongside the deadline
   * timer and be cancelled when a reviewer or Stripe settles the invoice first.
   */
  startCheck(): RunningCheck {
    let done = false;
    const scope = new CancellationScope();
    const result = scope.run(async (): Promise<CheckResult> => {
      const invoice = await this.read();
      if (!invoice) return { kind: 'deleted' };
      await this.invoiceFound(invoice);
      if (invoice.meteredLines.length === 0) return { kind: 'skipped' };
      if (this.settingsCustomer !== invoice.customerId) await this.loadSettings(invoice.customerId);
      // After a deadline hold (or would-hold) the invoice stays so while the check finishes.
      if (this.state.status !== 'held' && this.state.status !== 'would_hold') this.moveTo('counting');
      return { kind: 'compared', invoice, comparison: await this.countAndCompare(invoice, this.settings.tolerance) };
    });
    void result.then(
      () => (done = true),
      () => (done = true),
    );
    return { done: () => done, result, cancel: () => scope.cancel() };
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
    // A deadline hold paused it already; the alert goes from "could not complete" to the divergence.
    if (this.state.status !== 'held') {
      const notPaused = await this.pause(comparison);
      if (notPaused) return notPaused;
    }
    this.state.heldSince ??= Date.now();
    // A comparison that passed is held only for the customer's history (GATE_HISTORY_ACTION=hold).
    if (this.state.phase)
      this.state.heldBecause = comparison ? (comparison.passed ? 'history' : 'divergence') : 'unverifiable';
    this.moveTo('held', comparison);
    await this.tellReviewers();
    await audit.recordGateState(this.key, this.state, Date.now());
    return null;
  }

  /**
   * Once the invoice is held and the reviewers told: where in time each diverging line differs, and the
   * alert updated with it. When Stripe's summaries (or the ledger) fail, the alert says so instead.
   */
  async explainDivergence(): Promise<void> {
    const comparison = this.state.comparison;
    if (this.state.status !== 'held' || !this.invoice || !patched(EXPLAINS_DIVERGENCES)) return;
    // A diverging first check was held without waiting for the history check: it comes now.
    const historyBefore = this.state.history;
    if (historyBefore === undefined) await this.checkHistory(this.invoice);
    if (comparison && !comparison.passed) {
      try {
        this.state.explanation = await explain.explainDivergence(this.key, this.invoice, comparison, this.lastRound);
      } catch (error) {
        if (isCancellation(error)) throw error;
        this.state.explanation = { status: 'unavailable', reason: failureReason(error) };
      }
    }
    if (this.state.explanation || this.state.history !== historyBefore)
      await slack.updateAlert(this.key, this.invoice, this.state);
  }

  /**
   * The first check's lines against the customer's previous invoices (GATE_HISTORY_JUMP). A failure
   * leaves the check out: it is a heads-up, never a reason to hold or to wait.
   */
  async checkHistory(invoice: InvoiceSnapshot): Promise<void> {
    const settings = this.settings.history ?? DEFAULT_HISTORY_SETTINGS;
    if (settings.jump === null || !patched(CHECKS_USAGE_HISTORY)) return;
    try {
      this.state.history = await history.checkUsageHistory(this.key, invoice, { ...settings, jump: settings.jump });
    } catch (error) {
      if (isCancellation(error)) throw error;
      this.state.history = null;
    }
  }

  /** Whether the history check asks to hold an invoice whose counts agree (GATE_HISTORY_ACTION=hold). */
  holdsForHistory(): boolean {
    return this.state.history?.action === 'hold' && flaggedLines(this.state.history).length > 0;
  }

  /** Counts agree but a line is far from its history: a button-less heads-up (GATE_HISTORY_ACTION=alert). */
  async headsUpOnHistory(): Promise<void> {
    if (flaggedLines(this.state.history).length === 0) return;
    await slack.notifyHistoryJump(this.key, this.requireInvoice(), this.state);
  }

  /**
   * No decision by the deadline: pause anyway (fail closed) and say why, while the check goes on.
   * Returns the gate's end instead when Stripe will not let it pause the invoice any more.
   */
  async holdUndecided(reason: string): Promise<GateState | null> {
    this.state.reason = reason;
    const notPaused = await this.pause(null);
    if (notPaused) return notPaused;
    this.state.heldSince = Date.now();
    this.state.heldBecause = 'deadline';
    this.moveTo('held', null);
    await this.tellReviewers();
    await audit.recordGateState(this.key, this.state, Date.now());
    return null;
  }

  /**
   * Observe mode, where enforce would hold: nothing is paused; the channel gets one button-less
   * "would have held" message (brought up to date on later rounds) and the audit `would_hold`.
   */
  async wouldHold(comparison: Comparison | null): Promise<void> {
    this.state.heldBecause = comparison ? 'divergence' : 'unverifiable';
    this.moveTo('would_hold', comparison);
    await this.tellReviewers();
    await audit.recordGateState(this.key, this.state, Date.now());
  }

  /** Observe mode, no decision by the deadline: enforce would pause it now; the check goes on. */
  async wouldHoldUndecided(reason: string): Promise<void> {
    this.state.reason = reason;
    this.state.heldBecause = 'deadline';
    this.moveTo('would_hold', null);
    await this.tellReviewers();
    await audit.recordGateState(this.key, this.state, Date.now());
  }

  /** Observe mode: the check completed within tolerance after a deadline would-hold (enforce would resume it). */
  async wouldResume(comparison: Comparison): Promise<void> {
    await this.noLongerWouldHold(
      comparison,
      'the check completed within tolerance after the deadline; enforce would have resumed it (observe mode paused nothing)',
    );
  }

  private async noLongerWouldHold(comparison: Comparison, reason: string): Promise<void> {
    this.state.heldBecause = null;
    this.state.reason = reason;
    this.moveTo('passed', comparison);
    if (this.state.slackMessage) await slack.updateAlert(this.key, this.requireInvoice(), this.state);
    await audit.recordGateState(this.key, this.state, Date.now());
  }

  /** A held invoice now passes without a person: auto-advance back on, Stripe finalizes as scheduled. */
  async resume(comparison: Comparison, reason: string): Promise<void> {
    await stripe.resumeInvoice(this.invoiceId, this.pauses);
    this.state.heldSince = null;
    this.state.heldBecause = null;
    this.state.reason = reason;
    this.moveTo('passed', comparison);
    if (this.state.slackMessage) await slack.updateAlert(this.key, this.requireInvoice(), this.state);
    await audit.recordGateState(this.key, this.state, Date.now());
  }

  /** Posts the alert, or, when one is up already (a deadline hold), brings it up to date. */
  private async tellReviewers(): Promise<void> {
    if (this.state.slackMessage) await slack.updateAlert(this.key, this.requireInvoice(), this.state);
    else this.state.slackMessage = await slack.notifyReviewers(this.key, this.requireInvoice(), this.state);
  }

  private async pause(comparison: Comparison | null): Promise<GateState | null> {
    let pause;
    this.pauses += 1;
    try {
      pause = await stripe.pauseInvoice(this.invoiceId, this.key.workflowId, this.pauses);
    } catch (error) {
      const refused = permanentFailure(error);
      if (!refused) throw error;
      return this.tooLate(
        comparison,
        `Stripe refused to pause the invoice (${refused}); it finalizes on Stripe's schedule unless someone pauses it in the dashboard`,
      );
    }
    if (!pause.applied)
      return this.tooLate(
        comparison,
        `the invoice became ${pause.status} before the gate could pause it`,
        pause.status,
      );
    return null;
  }

  /** Whether a decision or a Stripe event is waiting to be handled. */
  hasNews(): boolean {
    return this.decisions.length > 0 || this.stripeEvents.length > 0;
  }

  hasDecision(): boolean {
    return this.decisions.length > 0;
  }

  hasStripeNews(): boolean {
    return this.stripeEvents.length > 0;
  }

  /** Stripe's finalization time as read from the invoice itself; undefined before a read succeeded. */
  readFinalizesAt(): number | null | undefined {
    return this.invoice ? this.invoice.automaticallyFinalizesAt : undefined;
  }

  /** What the check is still waiting for, for the deadline hold's alert. */
  pendingStep(): string {
    return this.state.status === 'reading'
      ? 'Stripe has not answered the invoice read yet; still retrying'
      : 'the ledger has not answered the recount yet; still retrying';
  }

  /** Late usage changed the draft: compare again, at most once per `debounceMs`. */
  lateUsageSeen(now: number): void {
    this.lateUsageSince ??= now;
  }

  /** Milliseconds until a pending late-usage recheck is due (0: now), or null when none is pending. */
  msUntilRecheck(now: number, debounceMs: number): number | null {
    if (this.lateUsageSince === null) return null;
    return Math.max(0, this.lastRecheckAt + debounceMs - now);
  }

  /**
   * Milliseconds until the watch over a passed draft looks again: once a margin before Stripe's
   * finalization time (Stripe recalculates usage then), then after it, until the draft is gone.
   */
  msUntilLook(now: number, marginMs: number, graceMs: number): number {
    const finalizesAt = this.invoice?.automaticallyFinalizesAt;
    if (!finalizesAt) return Math.max(0, this.lastLookAt + 6 * graceMs - now);
    const before = finalizesAt * 1000 - marginMs;
    const after = finalizesAt * 1000 + graceMs;
    if (this.lastLookAt < before) return Math.max(0, before - now);
    if (this.lastLookAt < after) return Math.max(0, after - now);
    return Math.max(0, this.lastLookAt + graceMs - now);
  }

  /** Reviewers have no buttons while the gate is not holding the invoice: a stray click changes nothing. */
  dropDecisions(): void {
    this.decisions.splice(0);
  }

  private recheckStarted(now: number): void {
    this.lateUsageSince = null;
    this.lastRecheckAt = now;
  }

  /** Stripe settled the invoice another way meanwhile (finalized, voided, deleted, paid); null if not. */
  settledInStripe(): StripeResolution | null {
    return stripeResolution(this.stripeEvents.splice(0));
  }

  /**
   * Applies the Stripe events that arrived: each event id once, Stripe's status only ever forward
   * (recorded in the audit), and says what they mean for the gate.
   */
  async takeStripeNews(): Promise<StripeNews> {
    const fresh = this.stripeEvents.splice(0).filter((event) => !this.seenEventIds.includes(event.eventId));
    for (const event of fresh) this.seenEventIds.push(event.eventId);
    const before = this.state.invoiceStatus as InvoiceStatus | null;
    let status = before;
    let paymentFailed = false;
    for (const event of fresh) {
      const reported = statusOfEvent(event);
      if (reported) status = laterStatus(status, reported);
      if (event.type === 'invoice.payment_failed') {
        paymentFailed = true;
        this.state.paymentFailures = Math.max((this.state.paymentFailures ?? 0) + 1, event.attemptCount ?? 0);
      }
    }
    if (status !== null) {
      this.state.invoiceStatus = status;
      await this.recordStatus(status, paymentFailed);
    }
    const leftDraft = (before === null || before === 'draft') && status !== null && status !== 'draft';
    const resolution = leftDraft ? stripeResolution(fresh) : null;
    return {
      settled: leftDraft
        ? { reason: resolution?.reason ?? `the invoice became ${status} in Stripe`, invoiceStatus: status! }
        : null,
      quantitiesChanged:
        status === 'draft' && fresh.some((e) => e.type === 'invoice.updated' && mayChangeQuantities(e.changedFields)),
    };
  }

  /** Records Stripe's status as the gate learned it from its own read or write. */
  async noteInvoiceStatus(status: string): Promise<void> {
    const next = laterStatus(this.state.invoiceStatus as InvoiceStatus | null, status as InvoiceStatus);
    this.state.invoiceStatus = next;
    await this.recordStatus(next, false);
  }

  /** Writes the status to the audit when it moved on (or a payment failed) since the last write. */
  private async recordStatus(status: InvoiceStatus, paymentFailed: boolean): Promise<void> {
    const next = laterStatus(this.recordedStatus, status);
    if (next === this.recordedStatus && !paymentFailed) return;
    this.recordedStatus = next;
    await audit.recordInvoiceStatus(this.key, { status: next, paymentFailures: this.state.paymentFailures ?? 0 });
  }

  invoiceSettled(): boolean {
    return isSettled(this.state.invoiceStatus as InvoiceStatus | null);
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
    const comparison = await this.countAndCompare(invoice, tolerance, 'recount');
    if (invoice.status !== 'draft')
      return this.finish('resolved_in_stripe', `the invoice was already ${invoice.status} in Stripe`);
    if (comparison?.passed) {
      this.state.comparison = comparison;
      return this.finalize('auto_released', `within tolerance after recount ${this.state.recounts}`);
    }
    this.moveTo('held', comparison);
    await slack.updateAlert(this.key, invoice, this.state);
    await audit.recordGateState(this.key, this.state, Date.now());
    return null;
  }

  /**
   * Late usage changed the draft: compare again. Returns the new comparison (null when the ledger
   * cannot be counted), or 'gone' when the invoice is no longer a draft (or no longer exists).
   */
  async recheckDraft(tolerance: Tolerance): Promise<Comparison | null | 'gone'> {
    this.recheckStarted(Date.now());
    const previous = this.state.comparison;
    const invoice = await this.read();
    if (!invoice) {
      await this.noteInvoiceStatus('deleted');
      return 'gone';
    }
    if (invoice.status !== 'draft') {
      await this.noteInvoiceStatus(invoice.status);
      return 'gone';
    }
    const comparison = await this.countAndCompare(invoice, tolerance, 'late_usage');
    this.state.previousComparison = previous;
    return comparison;
  }

  /**
   * What Stripe finalized is what the customer pays: compare it with the ledger once more. A
   * divergence can no longer be paused; it is reported with the money difference.
   */
  async recheckFinalized(tolerance: Tolerance): Promise<void> {
    const invoice = await this.read();
    if (!invoice) {
      await this.noteInvoiceStatus('deleted');
      return;
    }
    await this.noteInvoiceStatus(invoice.status);
    const comparison = await this.countAndCompare(invoice, tolerance, 'finalized');
    this.state.finalizedComparison = comparison;
    setCurrentDetails(describeGate(this.state));
    if (!comparison || comparison.passed) return;
    // A reviewer who released a divergence has seen it, and so has the channel that was told the gate would
    // have held it (observe mode); only news is worth an alert.
    const seen = this.state.status === 'released' || this.state.status === 'would_hold';
    if (seen && sameQuantities(comparison, this.state.comparison)) return;
    await slack.alertFinalizedDivergence(this.key, invoice, this.state);
  }

  /** A recheck of a held draft still diverges: the alert shows the new counts. */
  async stillHeld(comparison: Comparison | null): Promise<void> {
    this.moveTo('held', comparison);
    await slack.updateAlert(this.key, this.requireInvoice(), this.state);
    await audit.recordGateState(this.key, this.state, Date.now());
  }

  /**
   * A recheck of a passed draft still passes: nothing to do but show the new counts. In observe mode a
   * draft the gate would have held that now passes is passed again (enforce would release it), and says so.
   */
  async stillPassing(comparison: Comparison): Promise<void> {
    if (this.state.status === 'would_hold')
      return this.noLongerWouldHold(
        comparison,
        'within tolerance after late usage reached the draft; enforce would have released it',
      );
    this.moveTo('passed', comparison);
  }

  /** Finalizes now; if Stripe already moved the invoice on, that is what the gate reports. */
  async finalize(outcome: 'released' | 'auto_released', reason: string): Promise<GateState> {
    // Visible at once, so a second click meanwhile is told a release is under way, not "held".
    this.moveTo('releasing');
    const finalized = await stripe.finalizeInvoice(this.invoiceId);
    if (!finalized.applied) {
      return this.finish(
        'resolved_in_stripe',
        `the invoice was already ${finalized.status} in Stripe`,
        finalized.status,
      );
    }
    return this.finish(outcome, reason, finalized.status);
  }

  /** Ends the gate's decision: the alert (if one was posted) and the audit show the outcome. */
  async finish(outcome: GateOutcome, reason: string, invoiceStatus = this.state.invoiceStatus): Promise<GateState> {
    this.state.reason = reason;
    this.state.invoiceStatus = invoiceStatus;
    this.moveTo(outcome);
    if (this.state.slackMessage) await slack.updateAlert(this.key, this.requireInvoice(), this.state);
    await audit.recordGateState(this.key, this.state, Date.now());
    return this.state;
  }

  /** Nothing can be stopped any more; a divergence is still worth a (button-less) alert. */
  async tooLate(
    comparison: Comparison | null,
    reason: string,
    invoiceStatus = this.state.invoiceStatus,
  ): Promise<GateState> {
    this.state.reason = reason;
    this.state.invoiceStatus = invoiceStatus;
    this.moveTo('too_late', comparison);
    if (!comparison?.passed) {
      if (this.state.slackMessage) await slack.updateAlert(this.key, this.requireInvoice(), this.state);
      else this.state.slackMessage = await slack.notifyReviewers(this.key, this.requireInvoice(), this.state);
    }
    await audit.recordGateState(this.key, this.state, Date.now());
    return this.state;
  }

  /** The invoice as last read; before any read succeeded (a deadline hold), what the webhook said of it. */
  private requireInvoice(): InvoiceSnapshot {
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

/** Whether two comparisons found the same Stripe quantities line by line. */
function sameQuantities(a: Comparison, b: Comparison | null): boolean {
  if (!b || a.lines.length !== b.lines.length) return false;
  return a.lines.every(
    (line, i) => line.lineId === b.lines[i].lineId && line.stripeQuantity === b.lines[i].stripeQuantity,
  );
}

/** What went wrong in an activity, in the words of its last attempt. */
function failureReason(error: unknown): string {
  const cause = error instanceof ActivityFailure ? (error.cause ?? error) : error;
  return cause instanceof Error ? cause.message : String(cause);
}

/** Cancellation of the check is the gate's own choice (a decision came first), not a failure. */
export function ignoreCancellation(error: unknown): void {
  if (!isCancellation(error)) throw error;
}

/** When the next reminder is due while the invoice is held: after `reminderAfterMs`, then every `reminderEveryMs`. */
export class ReminderSchedule {
  private nextAt: number;
  private sent: number;

  constructor(
    heldSince: number,
    private readonly settings: Pick<GateSettings, 'reminderAfterMs' | 'reminderEveryMs'>,
    alreadySent = 0,
  ) {
    this.sent = alreadySent;
    this.nextAt = heldSince + settings.reminderAfterMs + alreadySent * settings.reminderEveryMs;
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
