// The gate, one run per Stripe invoice: read the draft, recount the ledger, compare, and either let
// Stripe finalize it or hold it until a reviewer decides. Deterministic: every side effect is an activity.
import {
  condition,
  proxyActivities,
  setCurrentDetails,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
  type ActivityOptions,
} from '@temporalio/workflow';
import type { GateActivities } from '../activities';
import { compareInvoice } from '../gate/compare';
import { isDecision } from '../gate/decision';
import { describeGate } from '../gate/describe-gate';
import { stripeResolution } from '../gate/stripe-resolution';
import type {
  Comparison,
  Decision,
  GateOutcome,
  GateRunKey,
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
import { invoiceDeleted, permanentFailure } from './activity-failures';
import { decisionSignal, stateQuery, stripeInvoiceEventSignal } from './definitions';

const INVOICE_DELETED = 'the invoice no longer exists in Stripe';

// Transient failures (Stripe 429/5xx, network, a lost ledger connection) retry without limit; the
// activities themselves mark what must not be retried (Stripe refusing a request, a wrong ledger mapping).
const retryForever: ActivityOptions['retry'] = { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '5m' };

// Stripe calls back off to at most a minute: an outage or a month-end rate limit clears in seconds to
// minutes, and every minute of a held-up gate eats into Stripe's one-hour finalization window.
const stripe = proxyActivities<GateActivities>({ startToCloseTimeout: '1m', retry: { ...retryForever, maximumInterval: '1m' } });
const ledger = proxyActivities<GateActivities>({ startToCloseTimeout: '5m', retry: retryForever });
// Slack being down delays the message, never the safety: the invoice is already paused when we notify.
const slack = proxyActivities<GateActivities>({ startToCloseTimeout: '30s', retry: { ...retryForever, maximumInterval: '10m' } });
const audit = proxyActivities<GateActivities>({ startToCloseTimeout: '30s', retry: retryForever });

export async function invoiceGate(invoiceId: string): Promise<GateState> {
  const { workflowId, runId } = workflowInfo();
  const run: GateRunKey = { invoiceId, workflowId, runId };
  const state: GateState = {
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
  const decisions: Decision[] = [];
  const stripeEvents: StripeInvoiceEvent[] = [];
  setHandler(stateQuery, () => state);
  setHandler(decisionSignal, (decision) => {
    // A malformed signal (from a script or the CLI) changes nothing.
    if (isDecision(decision)) decisions.push(decision);
  });
  setHandler(stripeInvoiceEventSignal, (event) => void stripeEvents.push(event));

  function moveTo(status: GateStatus, comparison: Comparison | null = state.comparison): void {
    state.status = status;
    state.comparison = comparison;
    upsertSearchAttributes([
      { key: InvoiceGateStatusKey, value: status },
      ...(comparison ? [{ key: GateVariancePctKey, value: Number(comparison.maxVariancePct) }] : []),
    ]);
    setCurrentDetails(describeGate(state));
  }

  /** Ends the gate: the alert (if one was posted) and the audit show the outcome. */
  async function finish(outcome: GateOutcome, reason: string, invoiceStatus = state.invoiceStatus): Promise<GateState> {
    state.reason = reason;
    state.invoiceStatus = invoiceStatus;
    moveTo(outcome);
    if (state.slackMessage) await slack.updateAlert(run, invoice, state);
    await audit.recordGateState(run, state, Date.now());
    return state;
  }

  /** Nothing can be stopped any more; a divergence is still worth a (button-less) alert. */
  async function tooLate(comparison: Comparison | null, reason: string, invoiceStatus = state.invoiceStatus): Promise<GateState> {
    state.reason = reason;
    state.invoiceStatus = invoiceStatus;
    moveTo('too_late', comparison);
    if (!comparison?.passed) state.slackMessage = await slack.notifyReviewers(run, invoice, state);
    await audit.recordGateState(run, state, Date.now());
    return state;
  }

  /** Finalizes now; if Stripe already moved the invoice on, that is what the gate reports. */
  async function finalize(outcome: 'released' | 'auto_released', reason: string): Promise<GateState> {
    // Visible at once, so a second click meanwhile is told a release is under way, not "held".
    moveTo('releasing');
    const finalized = await stripe.finalizeInvoice(invoiceId);
    if (!finalized.applied) {
      return finish('resolved_in_stripe', `the invoice was already ${finalized.status} in Stripe`, finalized.status);
    }
    return finish(outcome, reason, finalized.status);
  }

  /** The invoice as Stripe has it now; null once it has been deleted. */
  async function readInvoice(): Promise<InvoiceSnapshot | null> {
    try {
      const snapshot = await stripe.readInvoice(invoiceId);
      state.invoiceStatus = snapshot.status;
      return snapshot;
    } catch (error) {
      if (invoiceDeleted(error)) return null;
      throw error;
    }
  }
  /** The comparison, or null (with the reason in state) when the ledger cannot be counted: fail closed. */
  async function countAndCompare(invoice: InvoiceSnapshot, tolerance: Tolerance): Promise<Comparison | null> {
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
      state.reason = `the ledger could not be counted: ${why}`;
      return null;
    }
    state.reason = null;
    const comparison = compareInvoice(invoice.meteredLines, counts, tolerance);
    await audit.recordComparison(run, comparison, state.recounts);
    return comparison;
  }

  // 1. Read the draft invoice and its metered lines.
  await audit.recordGateStarted(run);
  const firstRead = await readInvoice();
  if (!firstRead) return finish('resolved_in_stripe', INVOICE_DELETED, 'deleted');
  let invoice = firstRead;
  state.customerId = invoice.customerId;
  await audit.recordInvoiceRead(run, invoice);
  upsertSearchAttributes([
    { key: StripeInvoiceIdKey, value: invoiceId },
    { key: StripeCustomerIdKey, value: invoice.customerId },
  ]);
  if (invoice.meteredLines.length === 0) return finish('skipped', 'the invoice has no metered lines');

  // 2-3. Recount the ledger for each line's exact period and compare.
  moveTo('counting');
  const settings = await ledger.loadGateSettings(invoice.customerId);
  let comparison = await countAndCompare(invoice, settings.tolerance);
  if (invoice.status !== 'draft') return tooLate(comparison, `the invoice was already ${invoice.status} when the gate read it`);
  if (comparison?.passed) {
    moveTo('passed', comparison);
    return finish('passed', 'every metered line is within tolerance; Stripe finalizes it as scheduled');
  }

  // 4. Beyond tolerance (or not verifiable): pause this one invoice, then tell the reviewers.
  let pause;
  try {
    pause = await stripe.pauseInvoice(invoiceId, workflowId);
  } catch (error) {
    const refused = permanentFailure(error);
    if (!refused) throw error;
    return tooLate(comparison, `Stripe refused to pause the invoice (${refused}); it finalizes on Stripe's schedule unless someone pauses it in the dashboard`);
  }
  if (!pause.applied) return tooLate(comparison, `the invoice became ${pause.status} before the gate could pause it`, pause.status);
  state.heldSince = Date.now();
  moveTo('held', comparison);
  state.slackMessage = await slack.notifyReviewers(run, invoice, state);
  await audit.recordGateState(run, state, Date.now());

  // 5. Wait durably for a reviewer, or for Stripe to settle the invoice another way. Reminders follow a
  //    fixed schedule; the gate never releases by itself on a timeout.
  let nextReminderAt = state.heldSince + settings.reminderAfterMs;
  let reminders = 0;
  for (;;) {
    const woke = await condition(
      () => decisions.length > 0 || stripeEvents.length > 0,
      Math.max(1, nextReminderAt - Date.now()),
    );
    if (!woke) {
      reminders += 1;
      await slack.remindReviewers(run, invoice, state, reminders, Date.now());
      nextReminderAt += settings.reminderEveryMs;
      continue;
    }

    const settled = stripeResolution(stripeEvents.splice(0));
    if (settled) return finish('resolved_in_stripe', settled.reason, settled.invoiceStatus);

    const decision = decisions.shift();
    if (!decision) continue;
    state.decision = decision;
    state.reviewer = decision.reviewer;

    if (decision.action === 'release') return finalize('released', `released by ${decision.reviewer}`);

    // Recount: read the invoice and the ledger again; within tolerance now releases without a person.
    moveTo('recounting');
    await slack.updateAlert(run, invoice, state);
    state.recounts += 1;
    const reread = await readInvoice();
    if (!reread) return finish('resolved_in_stripe', INVOICE_DELETED, 'deleted');
    invoice = reread;
    comparison = await countAndCompare(invoice, settings.tolerance);
    if (invoice.status !== 'draft') {
      return finish('resolved_in_stripe', `the invoice was already ${invoice.status} in Stripe`);
    }
    if (comparison?.passed) {
      state.comparison = comparison;
      return finalize('auto_released', `within tolerance after recount ${state.recounts}`);
    }
    moveTo('held', comparison);
    await slack.updateAlert(run, invoice, state);
    await audit.recordGateState(run, state, Date.now());
  }
}
