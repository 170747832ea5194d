// The steps more than one phase ends with: pass, hold (pause and tell the reviewers), explain a hold,
// observe mode's would-hold, finalize, too late, and finish (the alert and the audit show the outcome).
import { ActivityFailure, isCancellation, patched } from '@temporalio/workflow';
import { DEFAULT_HISTORY_SETTINGS } from '../../gate/history-jump';
import type { Comparison, GateOutcome, GateState, InvoiceSnapshot } from '../../gate/types';
import { audit, explain, history, slack, stripe } from '../activities';
import { permanentFailure } from '../failures';
import type { GateRun } from './gate-run';
import { CHECKS_USAGE_HISTORY, EXPLAINS_DIVERGENCES } from './patches';

/** Every metered line is within tolerance: Stripe finalizes the invoice on its own schedule. */
export async function pass(gate: GateRun, comparison: Comparison): Promise<GateState> {
  gate.moveTo('passed', comparison);
  return finish(gate, 'passed', 'every metered line is within tolerance; Stripe finalizes it as scheduled');
}

/**
 * Pauses this one invoice (auto_advance=false) and tells the reviewers. Returns the gate's end
 * instead when Stripe will not let it pause the invoice any more.
 */
export async function hold(gate: GateRun, comparison: Comparison | null): Promise<GateState | null> {
  const { state } = gate;
  // A deadline hold paused it already; the alert goes from "could not complete" to the divergence.
  if (state.status !== 'held') {
    const notPaused = await pause(gate, comparison);
    if (notPaused) return notPaused;
  }
  state.heldSince ??= Date.now();
  // A comparison that passed is held only for the customer's history (GATE_HISTORY_ACTION=hold).
  if (state.phase) state.heldBecause = comparison ? (comparison.passed ? 'history' : 'divergence') : 'unverifiable';
  gate.moveTo('held', comparison);
  await tellReviewers(gate);
  await audit.recordGateState(gate.key, state, Date.now());
  return null;
}

/** Pauses the invoice in Stripe; the gate's end instead when Stripe will not let it any more. */
export async function pause(gate: GateRun, comparison: Comparison | null): Promise<GateState | null> {
  let paused;
  gate.pauses += 1;
  try {
    paused = await stripe.pauseInvoice(gate.invoiceId, gate.key.workflowId, gate.pauses);
  } catch (error) {
    const refused = permanentFailure(error);
    if (!refused) throw error;
    return tooLate(
      gate,
      comparison,
      `Stripe refused to pause the invoice (${refused}); it finalizes on Stripe's schedule unless someone pauses it in the dashboard`,
    );
  }
  gate.ownRequest(paused.requestId);
  if (!paused.applied)
    return tooLate(
      gate,
      comparison,
      `the invoice became ${paused.status} before the gate could pause it`,
      paused.status,
    );
  return null;
}

/** Posts the alert, or, when one is up already (a deadline hold), brings it up to date. */
export async function tellReviewers(gate: GateRun): Promise<void> {
  const { state } = gate;
  if (state.slackMessage) await slack.updateAlert(gate.key, gate.requireInvoice(), state);
  else state.slackMessage = await slack.notifyReviewers(gate.key, gate.requireInvoice(), state);
}

/**
 * Once the invoice is held and the reviewers told: where in time each diverging line differs, and the
 * alert updated with it. When Stripe's summaries (or the ledger) fail, the alert says so instead.
 */
export async function explainDivergence(gate: GateRun): Promise<void> {
  const { state, invoice } = gate;
  const comparison = state.comparison;
  if (state.status !== 'held' || !invoice || !patched(EXPLAINS_DIVERGENCES)) return;
  // A diverging first check was held without waiting for the history check: it comes now.
  const historyBefore = state.history;
  if (historyBefore === undefined) await checkHistory(gate, invoice);
  if (comparison && !comparison.passed) {
    try {
      state.explanation = await explain.explainDivergence(gate.key, invoice, comparison, gate.lastRound);
    } catch (error) {
      if (isCancellation(error)) throw error;
      state.explanation = { status: 'unavailable', reason: failureReason(error) };
    }
  }
  if (state.explanation || state.history !== historyBefore) await slack.updateAlert(gate.key, invoice, state);
}

/**
 * The first check's lines against the customer's previous invoices (GATE_HISTORY_JUMP). A failure
 * leaves the check out: it is a heads-up, never a reason to hold or to wait.
 */
export async function checkHistory(gate: GateRun, invoice: InvoiceSnapshot): Promise<void> {
  const settings = gate.settings.history ?? DEFAULT_HISTORY_SETTINGS;
  if (settings.jump === null || !patched(CHECKS_USAGE_HISTORY)) return;
  try {
    gate.state.history = await history.checkUsageHistory(gate.key, invoice, { ...settings, jump: settings.jump });
  } catch (error) {
    if (isCancellation(error)) throw error;
    gate.state.history = null;
  }
}

/**
 * Observe mode, where enforce would hold: nothing is paused; the channel gets one button-less
 * "would have held" message (brought up to date on later rounds) and the audit `would_hold`.
 */
export async function wouldHold(gate: GateRun, comparison: Comparison | null): Promise<void> {
  gate.state.heldBecause = comparison ? 'divergence' : 'unverifiable';
  gate.moveTo('would_hold', comparison);
  await tellReviewers(gate);
  await audit.recordGateState(gate.key, gate.state, Date.now());
}

/** Observe mode: a draft the gate would have held passes now (enforce would release or resume it). */
export async function noLongerWouldHold(gate: GateRun, comparison: Comparison, reason: string): Promise<void> {
  const { state } = gate;
  state.heldBecause = null;
  state.reason = reason;
  gate.moveTo('passed', comparison);
  if (state.slackMessage) await slack.updateAlert(gate.key, gate.requireInvoice(), state);
  await audit.recordGateState(gate.key, state, Date.now());
}

/** Finalizes now; if Stripe already moved the invoice on, that is what the gate reports. */
export async function finalize(
  gate: GateRun,
  outcome: 'released' | 'auto_released',
  reason: string,
): Promise<GateState> {
  // Visible at once, so a second click meanwhile is told a release is under way, not "held".
  gate.moveTo('releasing');
  const finalized = await stripe.finalizeInvoice(gate.invoiceId);
  gate.ownRequest(finalized.requestId);
  if (!finalized.applied) {
    return finish(
      gate,
      'resolved_in_stripe',
      `the invoice was already ${finalized.status} in Stripe`,
      finalized.status,
    );
  }
  return finish(gate, outcome, reason, finalized.status);
}

/** Ends the gate's decision: the alert (if one was posted) and the audit show the outcome. */
export async function finish(
  gate: GateRun,
  outcome: GateOutcome,
  reason: string,
  invoiceStatus = gate.state.invoiceStatus,
): Promise<GateState> {
  const { state } = gate;
  state.reason = reason;
  state.invoiceStatus = invoiceStatus;
  gate.moveTo(outcome);
  if (state.slackMessage) await slack.updateAlert(gate.key, gate.requireInvoice(), state);
  await audit.recordGateState(gate.key, state, Date.now());
  return state;
}

/** Nothing can be stopped any more; a divergence is still worth a (button-less) alert. */
export async function tooLate(
  gate: GateRun,
  comparison: Comparison | null,
  reason: string,
  invoiceStatus = gate.state.invoiceStatus,
): Promise<GateState> {
  const { state } = gate;
  state.reason = reason;
  state.invoiceStatus = invoiceStatus;
  gate.moveTo('too_late', comparison);
  if (!comparison?.passed) await tellReviewers(gate);
  await audit.recordGateState(gate.key, state, Date.now());
  return state;
}

/** What went wrong in an activity, in the words of its last attempt. */
function failureReason(error: unknown): string {
  const cause = error instanceof ActivityFailure ? (error.cause ?? error) : error;
  return cause instanceof Error ? cause.message : String(cause);
}
