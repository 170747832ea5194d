// Phase 1, deciding: check the draft (read it, recount the ledger, compare) before Stripe's deadline.
// The check races a durable timer set a margin before Stripe finalizes; whatever is undecided then is
// paused anyway (fail closed), and the check goes on.
import { CancellationScope, condition, isCancellation, workflowInfo } from '@temporalio/workflow';
import { decideBy } from '../../gate/deadline';
import { flaggedLines } from '../../gate/history-jump';
import type { Comparison, GateStart, GateState, InvoiceSnapshot } from '../../gate/types';
import { audit, slack, stripe } from '../activities';
import { INVOICE_DELETED, type GateRun } from './gate-run';
import {
  checkHistory,
  explainDivergence,
  finish,
  hold,
  noLongerWouldHold,
  pass,
  pause,
  tellReviewers,
  tooLate,
  wouldHold,
} from './outcomes';

/** What the first check of a draft found. */
type CheckResult =
  | { kind: 'deleted' }
  | { kind: 'skipped' }
  | { kind: 'compared'; invoice: InvoiceSnapshot; comparison: Comparison | null };

/** The first check running alongside the deadline timer. */
interface RunningCheck {
  readonly done: () => boolean;
  readonly result: Promise<CheckResult>;
  cancel(): void;
}

/** Phase 1: the check races a durable timer set a margin before Stripe finalizes. */
export async function deciding(gate: GateRun, start: GateStart): Promise<void> {
  await audit.recordGateStarted(gate.key, start.startedBy ?? 'webhook');
  const check = startCheck(gate);
  // The deadline sharpens once the check has read Stripe's own finalization time.
  let decidedInTime = false;
  for (;;) {
    const readSoFar = readFinalizesAt(gate);
    const deadline = decideBy(
      {
        readFinalizesAt: readSoFar,
        announcedFinalizesAt: start.automaticallyFinalizesAt,
        createdAt: start.createdAt,
        gateStartedAtMs: workflowInfo().startTime.getTime(),
      },
      gate.decideMarginMs,
    );
    const news = () => check.done() || readFinalizesAt(gate) !== readSoFar;
    const inTime =
      deadline === Infinity ? (await condition(news), true) : await condition(news, Math.max(1, deadline - Date.now()));
    if (inTime) {
      if (check.done()) {
        decidedInTime = true;
        break;
      }
      continue;
    }
    break;
  }
  if (!decidedInTime && gate.observing) {
    // Observe mode: enforce would pause it now. Record that, and let the check finish.
    await wouldHoldUndecided(gate, `the check could not complete before Stripe's deadline: ${pendingStep(gate)}`);
    await condition(() => check.done());
  } else if (!decidedInTime) {
    const notPaused = await holdUndecided(
      gate,
      `the check could not complete before Stripe's deadline: ${pendingStep(gate)}`,
    );
    if (notPaused) {
      check.cancel();
      await check.result.catch(ignoreCancellation);
      return gate.enter('following');
    }
    // Held, and still checking: a reviewer may decide before the check completes (Stripe's events,
    // including the echo of the pause, wait for the review).
    await condition(() => check.done() || gate.inbox.hasDecision());
    if (!check.done()) {
      check.cancel();
      await check.result.catch(ignoreCancellation);
      return gate.enter('held');
    }
  }

  const result = await check.result;
  if (result.kind === 'deleted') {
    await finish(gate, 'resolved_in_stripe', INVOICE_DELETED, 'deleted');
    return gate.enter('ended');
  }
  if (result.kind === 'skipped') {
    await finish(gate, 'skipped', 'the invoice has no metered lines');
    return gate.enter('ended');
  }
  const { invoice, comparison } = result;
  if (invoice.status !== 'draft') {
    await tooLate(gate, comparison, `the invoice was already ${invoice.status} when the gate read it`);
    return gate.enter('following');
  }
  if (comparison?.passed) {
    // Within tolerance, but each line is also held against the customer's previous invoices.
    await checkHistory(gate, invoice);
    if (!holdsForHistory(gate)) {
      if (gate.state.heldBecause === 'deadline' && gate.observing) await wouldResume(gate, comparison);
      else if (gate.state.heldBecause === 'deadline')
        await resume(
          gate,
          comparison,
          'the check completed within tolerance after the deadline hold; auto-advance is on again',
        );
      else await pass(gate, comparison);
      await headsUpOnHistory(gate);
      return gate.enter('watching');
    }
  }
  // Observe mode pauses nothing: it tells the channel what enforce would have held and watches the draft on.
  if (gate.observing) {
    await wouldHold(gate, comparison);
    return gate.enter('watching');
  }
  // Beyond tolerance (or not verifiable, or far from its history): pause this one invoice, tell the
  // reviewers, then explain where in time it diverges.
  const notHeld = await hold(gate, comparison);
  if (!notHeld) await explainDivergence(gate);
  gate.enter(notHeld ? 'following' : 'held');
}

/**
 * Reads and compares the draft in a scope of its own, so that it can run alongside the deadline
 * timer and be cancelled when a reviewer or Stripe settles the invoice first.
 */
function startCheck(gate: GateRun): RunningCheck {
  let done = false;
  const scope = new CancellationScope();
  const result = scope.run(async (): Promise<CheckResult> => {
    const invoice = await gate.read();
    if (!invoice) return { kind: 'deleted' };
    await gate.invoiceFound(invoice);
    if (invoice.meteredLines.length === 0) return { kind: 'skipped' };
    if (gate.settingsCustomer !== invoice.customerId) await gate.loadSettings(invoice.customerId);
    // After a deadline hold (or would-hold) the invoice stays so while the check finishes.
    if (gate.state.status !== 'held' && gate.state.status !== 'would_hold') gate.moveTo('counting');
    return { kind: 'compared', invoice, comparison: await gate.countAndCompare(invoice, gate.settings.tolerance) };
  });
  void result.then(
    () => (done = true),
    () => (done = true),
  );
  return { done: () => done, result, cancel: () => scope.cancel() };
}

/** Stripe's finalization time as read from the invoice itself; undefined before a read succeeded. */
function readFinalizesAt(gate: GateRun): number | null | undefined {
  return gate.invoice ? gate.invoice.automaticallyFinalizesAt : undefined;
}

/** What the check is still waiting for, for the deadline hold's alert. */
function pendingStep(gate: GateRun): string {
  return gate.state.status === 'reading'
    ? 'Stripe has not answered the invoice read yet; still retrying'
    : 'the ledger has not answered the recount yet; still retrying';
}

/** Cancellation of the check is the gate's own choice (a decision came first), not a failure. */
function ignoreCancellation(error: unknown): void {
  if (!isCancellation(error)) throw error;
}

/**
 * No decision by the deadline: pause anyway (fail closed) and say why, while the check goes on.
 * Returns the gate's end instead when Stripe will not let it pause the invoice any more.
 */
async function holdUndecided(gate: GateRun, reason: string): Promise<GateState | null> {
  const { state } = gate;
  state.reason = reason;
  const notPaused = await pause(gate, null);
  if (notPaused) return notPaused;
  state.heldSince = Date.now();
  state.heldBecause = 'deadline';
  gate.moveTo('held', null);
  await tellReviewers(gate);
  await audit.recordGateState(gate.key, state, Date.now());
  return null;
}

/** Observe mode, no decision by the deadline: enforce would pause it now; the check goes on. */
async function wouldHoldUndecided(gate: GateRun, reason: string): Promise<void> {
  gate.state.reason = reason;
  gate.state.heldBecause = 'deadline';
  gate.moveTo('would_hold', null);
  await tellReviewers(gate);
  await audit.recordGateState(gate.key, gate.state, Date.now());
}

/** Observe mode: the check completed within tolerance after a deadline would-hold (enforce would resume it). */
async function wouldResume(gate: GateRun, comparison: Comparison): Promise<void> {
  await noLongerWouldHold(
    gate,
    comparison,
    'the check completed within tolerance after the deadline; enforce would have resumed it (observe mode paused nothing)',
  );
}

/** A held invoice now passes without a person: auto-advance back on, Stripe finalizes as scheduled. */
async function resume(gate: GateRun, comparison: Comparison, reason: string): Promise<void> {
  const { state } = gate;
  await stripe.resumeInvoice(gate.invoiceId, gate.pauses);
  state.heldSince = null;
  state.heldBecause = null;
  state.reason = reason;
  gate.moveTo('passed', comparison);
  if (state.slackMessage) await slack.updateAlert(gate.key, gate.requireInvoice(), state);
  await audit.recordGateState(gate.key, state, Date.now());
}

/** Whether the history check asks to hold an invoice whose counts agree (GATE_HISTORY_ACTION=hold). */
function holdsForHistory(gate: GateRun): boolean {
  return gate.state.history?.action === 'hold' && flaggedLines(gate.state.history).length > 0;
}

/** Counts agree but a line is far from its history: a button-less heads-up (GATE_HISTORY_ACTION=alert). */
async function headsUpOnHistory(gate: GateRun): Promise<void> {
  if (flaggedLines(gate.state.history).length === 0) return;
  await slack.notifyHistoryJump(gate.key, gate.requireInvoice(), gate.state);
}
