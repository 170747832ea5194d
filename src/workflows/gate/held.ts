// Phase 2, held: the invoice is paused and waits for a reviewer (Release or Recount), for Stripe to
// settle it another way, or for late usage to bring it within tolerance. Reminders follow a schedule;
// the gate never releases by itself on a timeout.
import { condition, patched } from '@temporalio/workflow';
import type { Comparison, GateSettings, GateState, Tolerance } from '../../gate/types';
import { audit, slack } from '../activities';
import { INVOICE_DELETED, type GateRun } from './gate-run';
import { finalize, finish } from './outcomes';
import { DECIDES_BY_UPDATE } from './patches';
import { approvalOf, awaitSecondApproval, release, takeReviewedDecision } from './review';
import { recheckDraft, takeStripeNews } from './stripe-news';

/** Phase 2, held: one wake-up of the wait for a reviewer, Stripe, late usage or the next reminder. */
export async function held(gate: GateRun): Promise<void> {
  const reminders = new ReminderSchedule(gate.state.heldSince ?? Date.now(), gate.settings, gate.remindersSent);
  const now = Date.now();
  const recheckIn = gate.lateUsage.msUntilRecheck(now);
  const wakeIn = Math.min(reminders.msUntilNext(now), recheckIn ?? Infinity);
  if (!(await condition(() => gate.inbox.hasNews(), Math.max(1, wakeIn)))) {
    if (reminders.msUntilNext(Date.now()) <= 1) {
      gate.remindersSent += 1;
      await remind(gate, reminders.take());
    }
    if (gate.lateUsage.msUntilRecheck(Date.now()) === 0) await recheckHeld(gate);
    return;
  }

  const news = await takeStripeNews(gate);
  if (news.bypass) {
    // Someone finalized or resumed the held invoice in Stripe: say so loudly, and keep following it.
    await finish(gate, 'bypassed', news.bypass, news.settled?.invoiceStatus ?? gate.state.invoiceStatus);
    gate.inbox.dropDecisions('the invoice was finalized outside the gate');
    return gate.enter('following');
  }
  if (news.settled) {
    await finish(gate, 'resolved_in_stripe', news.settled.reason, news.settled.invoiceStatus);
    return gate.enter('following');
  }
  if (news.quantitiesChanged) gate.lateUsage.seen(Date.now());

  if (!gate.inbox.hasDecision()) return;
  if (!patched(DECIDES_BY_UPDATE)) return legacyDecision(gate);
  const taken = await takeReviewedDecision(gate);
  if (!taken) return;
  const { decision, answer } = taken;
  if (decision.action === 'recount') {
    // A recount clears a pending first approval: the numbers it approved may change.
    gate.state.approvals = [];
    answer('recounting');
    const ended = await recount(gate, gate.settings.tolerance);
    if (ended) gate.enter(ended.status === 'auto_released' ? 'finalized' : 'following');
    return;
  }
  const approval = approvalOf(decision, Date.now());
  if (decision.action === 'release' && gate.needsSecondApproval()) {
    answer('awaiting_second_approval');
    return awaitSecondApproval(gate, approval);
  }
  const approvals = decision.action === 'approve' ? [...(gate.state.approvals ?? []), approval] : [approval];
  answer('releasing');
  const status = await release(gate, approvals);
  gate.enter(status === 'released' ? 'finalized' : 'following');
}

/** Gates held before the decide Update (replayed histories): the decision signal taken as it came. */
async function legacyDecision(gate: GateRun): Promise<void> {
  const decision = gate.takeDecision();
  if (decision?.action === 'release') {
    const released = await finalize(gate, 'released', `released by ${decision.reviewer}`);
    return gate.enter(released.status === 'released' ? 'finalized' : 'following');
  }
  if (decision?.action === 'recount') {
    const ended = await recount(gate, gate.settings.tolerance);
    if (ended) gate.enter(ended.status === 'auto_released' ? 'finalized' : 'following');
  }
}

/** Late usage reached a held draft: within tolerance now, it is released as a recount would. */
async function recheckHeld(gate: GateRun): Promise<void> {
  const comparison = await recheckDraft(gate, gate.settings.tolerance);
  if (comparison === 'gone') {
    await finish(gate, 'resolved_in_stripe', `the invoice became ${gate.state.invoiceStatus} in Stripe`);
    return gate.enter('following');
  }
  if (comparison?.passed) {
    gate.state.comparison = comparison;
    const released = await finalize(gate, 'auto_released', 'within tolerance after late usage reached the draft');
    return gate.enter(released.status === 'auto_released' ? 'finalized' : 'following');
  }
  await stillHeld(gate, comparison);
}

export async function remind(gate: GateRun, reminder: number): Promise<void> {
  await slack.remindReviewers(gate.key, gate.requireInvoice(), gate.state, reminder, Date.now());
}

/**
 * A reviewer asked for a recount: read the invoice and the ledger again. Within tolerance now, the
 * gate releases it without a person; otherwise it stays held (null).
 */
export async function recount(gate: GateRun, tolerance: Tolerance): Promise<GateState | null> {
  const { state } = gate;
  gate.moveTo('recounting');
  await slack.updateAlert(gate.key, gate.requireInvoice(), state);
  state.recounts += 1;
  const invoice = await gate.read();
  if (!invoice) return finish(gate, 'resolved_in_stripe', INVOICE_DELETED, 'deleted');
  const comparison = await gate.countAndCompare(invoice, tolerance, 'recount');
  if (invoice.status !== 'draft')
    return finish(gate, 'resolved_in_stripe', `the invoice was already ${invoice.status} in Stripe`);
  if (comparison?.passed) {
    state.comparison = comparison;
    return finalize(gate, 'auto_released', `within tolerance after recount ${state.recounts}`);
  }
  gate.moveTo('held', comparison);
  await slack.updateAlert(gate.key, invoice, state);
  await audit.recordGateState(gate.key, state, Date.now());
  return null;
}

/** A recheck of a held draft still diverges: the alert shows the new counts. */
async function stillHeld(gate: GateRun, comparison: Comparison | null): Promise<void> {
  // New numbers: a pending first approval no longer stands.
  gate.state.approvals = [];
  gate.moveTo('held', comparison);
  await slack.updateAlert(gate.key, gate.requireInvoice(), gate.state);
  await audit.recordGateState(gate.key, gate.state, Date.now());
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
