// The gate: one workflow per Stripe invoice, from invoice.created until Stripe's status is final.
//   1. Check the draft (read it, recount the ledger, compare) before Stripe's deadline; whatever is
//      undecided a margin before Stripe finalizes is paused anyway (fail closed).
//   2. While it is a draft: a held invoice waits for a reviewer; a passed one is compared again when
//      late usage changes it, and paused if it now diverges.
//   3. Once Stripe finalized it: compare what the customer pays with the ledger once more.
//   4. Follow it (paid, payment failed, void, uncollectible, deleted) until it is final.
// In observe mode (GATE_MODE or the customer's `mode`) the gate never writes to Stripe: where enforce
// would hold, it records `would_hold`, tells the channel once, and goes on watching the draft.
// Deterministic: every side effect is an activity; the steps and the gate's state are in ./gate-run.ts.
import { condition, continueAsNew, patched, workflowInfo } from '@temporalio/workflow';
import { decideBy } from '../gate/deadline';
import type { GateStart, GateState } from '../gate/types';
import { audit } from './activities';
import { GateRun, ignoreCancellation, INVOICE_DELETED, ReminderSchedule } from './gate-run';
import { invoiceGateV1 } from './invoice-gate-v1';

/** Marks gates that follow their invoice to the end; gates started before it finish on ./invoice-gate-v1.ts. */
export const FOLLOWS_THE_INVOICE = 'follows-the-invoice-to-the-end';

/** Late usage arrives in bursts: one recheck per minute at most. */
const RECHECK_DEBOUNCE_MS = 60_000;
/** How long after Stripe's finalization time a passed draft is read again if no invoice.finalized came. */
const FINALIZATION_GRACE_MS = 10 * 60_000;
const DEFAULT_DECIDE_MARGIN_MS = 15 * 60_000;
const DEFAULT_FOLLOW_FINALIZED_FOR_MS = 45 * 24 * 3_600_000;

export async function invoiceGate(invoiceId: string, start: GateStart = {}): Promise<GateState> {
  if (!patched(FOLLOWS_THE_INVOICE)) return invoiceGateV1(invoiceId);
  const gate = new GateRun(invoiceId, start.carried);
  gate.followTheInvoice(start);
  await gate.loadSettings(start.customerId ?? gate.state.customerId);

  // 1. Check the draft before Stripe's deadline.
  if (gate.phase === 'deciding') await decide(gate, start);

  // 2. While it is a draft: held, it waits for a reviewer; passed, late usage is compared again.
  while (gate.phase === 'held' || gate.phase === 'watching') {
    await (gate.phase === 'held' ? review(gate) : watch(gate));
    await continueAsNewIfLong(gate, invoiceId, start);
  }

  // 3. Stripe finalized it: what the customer pays is compared with the ledger once more.
  if (gate.phase === 'finalized') {
    gate.state.finalizedAt ??= Date.now();
    await gate.recheckFinalized(gate.settings.tolerance);
    gate.enter('following');
  }

  // 4. Follow it until paid, void, uncollectible or deleted, or long enough after finalization.
  while (gate.phase === 'following') {
    await follow(gate);
    await continueAsNewIfLong(gate, invoiceId, start);
  }
  return gate.state;
}

/** Step 1: the check races a durable timer set a margin before Stripe finalizes. */
async function decide(gate: GateRun, start: GateStart): Promise<void> {
  await audit.recordGateStarted(gate.key, start.startedBy ?? 'webhook');
  const check = gate.startCheck();
  // The deadline sharpens once the check has read Stripe's own finalization time.
  let decidedInTime = false;
  for (;;) {
    const readSoFar = gate.readFinalizesAt();
    const deadline = decideBy(
      {
        readFinalizesAt: readSoFar,
        announcedFinalizesAt: start.automaticallyFinalizesAt,
        createdAt: start.createdAt,
        gateStartedAtMs: workflowInfo().startTime.getTime(),
      },
      gate.settings.decideMarginMs ?? DEFAULT_DECIDE_MARGIN_MS,
    );
    const news = () => check.done() || gate.readFinalizesAt() !== readSoFar;
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
    await gate.wouldHoldUndecided(`the check could not complete before Stripe's deadline: ${gate.pendingStep()}`);
    await condition(() => check.done());
  } else if (!decidedInTime) {
    const notPaused = await gate.holdUndecided(
      `the check could not complete before Stripe's deadline: ${gate.pendingStep()}`,
    );
    if (notPaused) {
      check.cancel();
      await check.result.catch(ignoreCancellation);
      return gate.enter('following');
    }
    // Held, and still checking: a reviewer may decide before the check completes (Stripe's events,
    // including the echo of the pause, wait for the review).
    await condition(() => check.done() || gate.hasDecision());
    if (!check.done()) {
      check.cancel();
      await check.result.catch(ignoreCancellation);
      return gate.enter('held');
    }
  }

  const result = await check.result;
  if (result.kind === 'deleted') {
    await gate.finish('resolved_in_stripe', INVOICE_DELETED, 'deleted');
    return gate.enter('ended');
  }
  if (result.kind === 'skipped') {
    await gate.finish('skipped', 'the invoice has no metered lines');
    return gate.enter('ended');
  }
  const { invoice, comparison } = result;
  if (invoice.status !== 'draft') {
    await gate.tooLate(comparison, `the invoice was already ${invoice.status} when the gate read it`);
    return gate.enter('following');
  }
  if (comparison?.passed) {
    // Within tolerance, but each line is also held against the customer's previous invoices.
    await gate.checkHistory(invoice);
    if (!gate.holdsForHistory()) {
      if (gate.state.heldBecause === 'deadline' && gate.observing) await gate.wouldResume(comparison);
      else if (gate.state.heldBecause === 'deadline')
        await gate.resume(
          comparison,
          'the check completed within tolerance after the deadline hold; auto-advance is on again',
        );
      else await gate.pass(comparison);
      await gate.headsUpOnHistory();
      return gate.enter('watching');
    }
  }
  // Observe mode pauses nothing: it tells the channel what enforce would have held and watches the draft on.
  if (gate.observing) {
    await gate.wouldHold(comparison);
    return gate.enter('watching');
  }
  // Beyond tolerance (or not verifiable, or far from its history): pause this one invoice, tell the
  // reviewers, then explain where in time it diverges.
  const notHeld = await gate.hold(comparison);
  if (!notHeld) await gate.explainDivergence();
  gate.enter(notHeld ? 'following' : 'held');
}

/** Step 2, held: one wake-up of the wait for a reviewer, Stripe, late usage or the next reminder. */
async function review(gate: GateRun): Promise<void> {
  const reminders = new ReminderSchedule(gate.state.heldSince ?? Date.now(), gate.settings, gate.remindersSent);
  const now = Date.now();
  const recheckIn = gate.msUntilRecheck(now, RECHECK_DEBOUNCE_MS);
  const wakeIn = Math.min(reminders.msUntilNext(now), recheckIn ?? Infinity);
  if (!(await condition(() => gate.hasNews(), Math.max(1, wakeIn)))) {
    if (reminders.msUntilNext(Date.now()) <= 1) {
      gate.remindersSent += 1;
      await gate.remind(reminders.take());
    }
    if (gate.msUntilRecheck(Date.now(), RECHECK_DEBOUNCE_MS) === 0) await recheckHeld(gate);
    return;
  }

  const news = await gate.takeStripeNews();
  if (news.settled) {
    await gate.finish('resolved_in_stripe', news.settled.reason, news.settled.invoiceStatus);
    return gate.enter('following');
  }
  if (news.quantitiesChanged) gate.lateUsageSeen(Date.now());

  const decision = gate.takeDecision();
  if (decision?.action === 'release') {
    const released = await gate.finalize('released', `released by ${decision.reviewer}`);
    return gate.enter(released.status === 'released' ? 'finalized' : 'following');
  }
  if (decision?.action === 'recount') {
    const ended = await gate.recount(gate.settings.tolerance);
    if (ended) gate.enter(ended.status === 'auto_released' ? 'finalized' : 'following');
  }
}

/** Late usage reached a held draft: within tolerance now, it is released as a recount would. */
async function recheckHeld(gate: GateRun): Promise<void> {
  const comparison = await gate.recheckDraft(gate.settings.tolerance);
  if (comparison === 'gone') {
    await gate.finish('resolved_in_stripe', `the invoice became ${gate.state.invoiceStatus} in Stripe`);
    return gate.enter('following');
  }
  if (comparison?.passed) {
    gate.state.comparison = comparison;
    const released = await gate.finalize('auto_released', 'within tolerance after late usage reached the draft');
    return gate.enter(released.status === 'auto_released' ? 'finalized' : 'following');
  }
  await gate.stillHeld(comparison);
}

/** Step 2, passed: one wake-up of the watch over the draft until Stripe finalizes it. */
async function watch(gate: GateRun): Promise<void> {
  gate.dropDecisions();
  const now = Date.now();
  const recheckIn = gate.msUntilRecheck(now, RECHECK_DEBOUNCE_MS);
  const lookIn = gate.msUntilLook(now, gate.settings.decideMarginMs ?? DEFAULT_DECIDE_MARGIN_MS, FINALIZATION_GRACE_MS);
  const woke = await condition(() => gate.hasStripeNews(), Math.max(1, Math.min(recheckIn ?? Infinity, lookIn)));
  if (woke) {
    const news = await gate.takeStripeNews();
    if (news.settled) return gate.enter(finalizedOrFollowing(gate));
    if (news.quantitiesChanged) gate.lateUsageSeen(Date.now());
    return;
  }
  // A recheck is due (late usage), or it is time to look again before or after Stripe's finalization.
  const comparison = await gate.recheckDraft(gate.settings.tolerance);
  if (comparison === 'gone') return gate.enter(finalizedOrFollowing(gate));
  if (comparison?.passed) return gate.stillPassing(comparison);
  // Late usage made it diverge: enforce pauses it now; observe mode records that it would.
  if (gate.observing) return gate.wouldHold(comparison);
  const notHeld = await gate.hold(comparison);
  if (!notHeld) await gate.explainDivergence();
  gate.enter(notHeld ? 'following' : 'held');
}

/** A draft that left draft: finalized ones are compared once more, voided or deleted ones only followed. */
function finalizedOrFollowing(gate: GateRun): 'finalized' | 'following' {
  const status = gate.state.invoiceStatus;
  return status === 'open' || status === 'paid' || status === 'uncollectible' ? 'finalized' : 'following';
}

/** Step 4: one wake-up while following a finalized invoice's payment. */
async function follow(gate: GateRun): Promise<void> {
  gate.dropDecisions();
  if (gate.invoiceSettled()) return gate.enter('ended');
  const followFor = gate.settings.followFinalizedForMs ?? DEFAULT_FOLLOW_FINALIZED_FOR_MS;
  const since = gate.state.finalizedAt ?? Date.now();
  gate.state.finalizedAt = since;
  if (!(await condition(() => gate.hasStripeNews(), Math.max(1, since + followFor - Date.now()))))
    return gate.enter('ended');
  await gate.takeStripeNews();
}

/** Long-lived gates (late usage bursts, months of payment events) start a fresh history now and then. */
async function continueAsNewIfLong(gate: GateRun, invoiceId: string, start: GateStart): Promise<void> {
  const info = workflowInfo();
  if (!info.continueAsNewSuggested && info.historyLength < (gate.settings.continueAsNewAfterEvents ?? 2_000)) return;
  // Signals not yet handled would be lost with this run's history.
  if (gate.phase === 'ended' || gate.hasNews()) return;
  await continueAsNew<typeof invoiceGate>(invoiceId, { ...start, carried: gate.carry() });
}
