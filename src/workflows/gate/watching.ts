// Phase 2, watching: a draft that passed (or, in observe mode, that the gate would have held) is
// compared again when late usage changes it, and once before and after Stripe's finalization time;
// enforce pauses it when it now diverges.
import { condition } from '@temporalio/workflow';
import type { Comparison } from '../../gate/types';
import type { GateRun } from './gate-run';
import { explainDivergence, hold, noLongerWouldHold, wouldHold } from './outcomes';
import { recheckDraft, takeStripeNews } from './stripe-news';

/** How long after Stripe's finalization time a passed draft is read again if no invoice.finalized came. */
const FINALIZATION_GRACE_MS = 10 * 60_000;

/** Phase 2, passed: one wake-up of the watch over the draft until Stripe finalizes it. */
export async function watching(gate: GateRun): Promise<void> {
  gate.inbox.dropDecisions();
  const now = Date.now();
  const recheckIn = gate.lateUsage.msUntilRecheck(now);
  const lookIn = msUntilLook(gate, now, gate.decideMarginMs, FINALIZATION_GRACE_MS);
  const woke = await condition(() => gate.inbox.hasStripeNews(), Math.max(1, Math.min(recheckIn ?? Infinity, lookIn)));
  if (woke) {
    const news = await takeStripeNews(gate);
    if (news.settled) return gate.enter(finalizedOrFollowing(gate));
    if (news.quantitiesChanged) gate.lateUsage.seen(Date.now());
    return;
  }
  // A recheck is due (late usage), or it is time to look again before or after Stripe's finalization.
  const comparison = await recheckDraft(gate, gate.settings.tolerance);
  if (comparison === 'gone') return gate.enter(finalizedOrFollowing(gate));
  if (comparison?.passed) return stillPassing(gate, comparison);
  // Late usage made it diverge: enforce pauses it now; observe mode records that it would.
  if (gate.observing) return wouldHold(gate, comparison);
  const notHeld = await hold(gate, comparison);
  if (!notHeld) await explainDivergence(gate);
  gate.enter(notHeld ? 'following' : 'held');
}

/** A draft that left draft: finalized ones are compared once more, voided or deleted ones only followed. */
function finalizedOrFollowing(gate: GateRun): 'finalized' | 'following' {
  const status = gate.state.invoiceStatus;
  return status === 'open' || status === 'paid' || status === 'uncollectible' ? 'finalized' : 'following';
}

/**
 * Milliseconds until the watch over a passed draft looks again: once a margin before Stripe's
 * finalization time (Stripe recalculates usage then), then after it, until the draft is gone.
 */
function msUntilLook(gate: GateRun, now: number, marginMs: number, graceMs: number): number {
  const finalizesAt = gate.invoice?.automaticallyFinalizesAt;
  if (!finalizesAt) return Math.max(0, gate.lastLookAt + 6 * graceMs - now);
  const before = finalizesAt * 1000 - marginMs;
  const after = finalizesAt * 1000 + graceMs;
  if (gate.lastLookAt < before) return Math.max(0, before - now);
  if (gate.lastLookAt < after) return Math.max(0, after - now);
  return Math.max(0, gate.lastLookAt + graceMs - now);
}

/**
 * A recheck of a passed draft still passes: nothing to do but show the new counts. In observe mode a
 * draft the gate would have held that now passes is passed again (enforce would release it), and says so.
 */
async function stillPassing(gate: GateRun, comparison: Comparison): Promise<void> {
  if (gate.state.status === 'would_hold')
    return noLongerWouldHold(
      gate,
      comparison,
      'within tolerance after late usage reached the draft; enforce would have released it',
    );
  gate.moveTo('passed', comparison);
}
