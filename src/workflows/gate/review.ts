// A reviewer's decision on a held invoice, the controlled way: every decision meets the rules again when
// the gate takes it (the gate may have moved on since the Update's validator accepted it), is written to
// the decision log, and is answered with the status it leads to. A release above the approval limit only
// records a first approval; a different reviewer's approval releases it; a recount clears it.
import { describeReleaseReason, checkDecision, type Refusal } from '../../gate/decision-rules';
import type { Approval, Decision, GateStatus } from '../../gate/types';
import { audit, slack, stripe } from '../activities';
import type { GateRun } from './gate-run';
import type { PendingDecision } from './inbox';
import { finalize, finish } from './outcomes';

/** A decision the gate took, and how to answer whoever asked. */
export interface TakenDecision {
  decision: Decision;
  answer: (status: GateStatus) => void;
}

/** The next decision that meets the rules now; refused ones are answered and logged on the way. */
export async function takeReviewedDecision(gate: GateRun): Promise<TakenDecision | undefined> {
  for (let pending = gate.inbox.nextDecision(); pending; pending = gate.inbox.nextDecision()) {
    // Gates started before the reviewer lists reached the workflow learn them now.
    if (!gate.settings.review) await gate.loadSettings(gate.settingsCustomer);
    const stage = gate.decisionStage();
    const check = checkDecision(pending.decision, stage, gate.reviewerPolicy());
    if (!check.accepted) {
      await logDecision(gate, pending, check.refusal);
      pending.answer = { accepted: false, refusal: check.refusal };
      continue;
    }
    const round = (gate.state.decisionRound ?? 0) + 1;
    gate.state.decisionRound = round;
    gate.state.decision = check.decision;
    gate.state.reviewer = check.decision.reviewer;
    await logDecision(gate, { ...pending, decision: check.decision }, null);
    const taken = pending;
    return {
      decision: check.decision,
      answer: (status) => void (taken.answer = { accepted: true, answer: { status, decisionRound: round } }),
    };
  }
  return undefined;
}

async function logDecision(gate: GateRun, pending: PendingDecision, refusal: Refusal | null): Promise<void> {
  const { decision } = pending;
  const round = gate.state.decisionRound ?? 0;
  await audit.recordDecision({
    // The Update id makes a retried write one row; a signal is named by the round and what it asked.
    attemptId:
      pending.updateId ??
      `signal-${gate.key.workflowId}-${round}-${decision.action}-${decision.reviewer}-${refusal ? 'refused' : 'taken'}`,
    at: Date.now(),
    invoiceId: gate.invoiceId,
    reviewer: typeof decision.reviewer === 'string' ? decision.reviewer : String(decision.reviewer),
    action: typeof decision.action === 'string' ? decision.action : String(decision.action),
    reason: decision.reason ?? null,
    note: decision.note ?? null,
    accepted: refusal === null,
    refusal: refusal ? `${refusal.code}: ${refusal.message}` : null,
    channel: pending.via === 'signal' ? 'signal' : typeof decision.channel === 'string' ? decision.channel : 'update',
    gateStatus: gate.state.status,
    moneyAtStake: gate.moneyAtStake(),
    currency: gate.invoice?.currency ?? null,
  });
}

/** A release above the limit: the first approval is recorded; the invoice stays paused for a second reviewer. */
export async function awaitSecondApproval(gate: GateRun, first: Approval): Promise<void> {
  gate.state.approvals = [first];
  gate.moveTo('awaiting_second_approval');
  await slack.updateAlert(gate.key, gate.requireInvoice(), gate.state);
  await audit.recordGateState(gate.key, gate.state, Date.now());
}

/**
 * Released by a reviewer (and approved by a second one above the limit): who and why go to the invoice's
 * metadata with auto-advance back on, then the gate finalizes it.
 */
export async function release(gate: GateRun, approvals: Approval[]): Promise<GateStatus> {
  const [first, second] = approvals;
  gate.state.approvals = approvals;
  gate.moveTo('releasing');
  const why = describeReleaseReason(first!.reason ?? 'unspecified', first!.note);
  const released = await stripe.releaseInvoice(
    gate.invoiceId,
    { releasedBy: first!.reviewer, reason: why, ...(second ? { approvedBy: second.reviewer } : {}) },
    gate.pauses,
  );
  gate.ownRequest(released.requestId);
  if (!released.applied) {
    const ended = await finish(gate, 'resolved_in_stripe', `the invoice was already ${released.status} in Stripe`);
    return ended.status;
  }
  const by = second
    ? `released by ${first!.reviewer}, approved by ${second.reviewer}`
    : `released by ${first!.reviewer}`;
  return (await finalize(gate, 'released', `${by}: ${why}`)).status;
}

/** The approval a decision records. */
export function approvalOf(decision: Decision, at: number): Approval {
  return {
    reviewer: decision.reviewer,
    action: decision.action === 'approve' ? 'approve' : 'release',
    ...(decision.reason ? { reason: decision.reason } : {}),
    ...(decision.note ? { note: decision.note } : {}),
    at,
  };
}
