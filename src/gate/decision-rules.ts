// The rules a reviewer's decision must pass before it reaches the gate, the same for every way in
// (the `decide` Update's validator, the legacy `decision` signal, Slack, the CLI). Pure: it sees the
// request, what the gate waits for, and who may decide; it returns the decision or a refusal in words.

import type { Decision, ReviewAction } from './types';

export const DECISION_ACTIONS: readonly ReviewAction[] = ['release', 'recount', 'approve'];
export type DecisionAction = ReviewAction;

/** Why a release is let go (the Slack modal's list, `reason` option values). */
export const RELEASE_REASONS = ['ledger_late', 'stripe_correct', 'contract_exception', 'other'] as const;
export type ReleaseReason = (typeof RELEASE_REASONS)[number];

export const RELEASE_REASON_LABELS: Readonly<Record<ReleaseReason, string>> = {
  ledger_late: 'The ledger was late',
  stripe_correct: 'Stripe is right',
  contract_exception: 'Contract exception',
  other: 'Other',
};

/** A decision that passed parsing: the reason, when there is one, is from the list. */
export interface DecisionRequest extends Decision {
  reason?: ReleaseReason;
}

/** What the gate waits for now. */
export type DecisionStage =
  | { waitingFor: 'review' }
  | { waitingFor: 'second_approval'; firstApprover: string }
  | { waitingFor: 'nothing'; status: string };

export interface ReviewerPolicy {
  /** SLACK_REVIEWER_IDS: who may release, recount, or approve. */
  reviewers: readonly string[];
  /** SLACK_APPROVER_IDS: who may give the second approval; null = any reviewer other than the first. */
  approvers: readonly string[] | null;
}

export type RefusalCode =
  | 'invalid_request'
  | 'not_allowed'
  | 'not_waiting'
  | 'reason_required'
  | 'note_required'
  | 'same_approver'
  | 'not_an_approver';

export interface Refusal {
  code: RefusalCode;
  message: string;
}

export type DecisionCheck = { accepted: true; decision: DecisionRequest } | { accepted: false; refusal: Refusal };

/** A note longer than this is refused (it ends up in Slack, Stripe metadata and the audit). */
export const MAX_NOTE_LENGTH = 500;

const refuse = (code: RefusalCode, message: string): DecisionCheck => ({ accepted: false, refusal: { code, message } });

function parseRequest(value: unknown): DecisionRequest | Refusal {
  const invalid = (message: string): Refusal => ({ code: 'invalid_request', message });
  if (typeof value !== 'object' || value === null) return invalid('a decision is an object');
  const v = value as Record<string, unknown>;
  if (typeof v.action !== 'string' || !(DECISION_ACTIONS as readonly string[]).includes(v.action)) {
    return invalid(`action must be one of ${DECISION_ACTIONS.join(', ')}`);
  }
  if (typeof v.reviewer !== 'string' || v.reviewer.trim() === '') return invalid('reviewer is required');
  if (v.reason !== undefined && v.reason !== null) {
    if (typeof v.reason !== 'string' || !(RELEASE_REASONS as readonly string[]).includes(v.reason)) {
      return invalid(`reason must be one of ${RELEASE_REASONS.join(', ')}`);
    }
  }
  if (v.note !== undefined && v.note !== null && typeof v.note !== 'string') return invalid('note must be text');
  const note = typeof v.note === 'string' && v.note.trim() !== '' ? v.note.trim() : undefined;
  if (note !== undefined && note.length > MAX_NOTE_LENGTH) {
    return invalid(`note is longer than ${MAX_NOTE_LENGTH} characters`);
  }
  const channel = typeof v.channel === 'string' && /^[a-z_]{1,32}$/.test(v.channel) ? v.channel : undefined;
  return {
    action: v.action as DecisionAction,
    reviewer: v.reviewer.trim(),
    ...(channel ? { channel } : {}),
    ...(typeof v.reason === 'string' ? { reason: v.reason as ReleaseReason } : {}),
    ...(note !== undefined ? { note } : {}),
  };
}

/**
 * `policy` null: who may decide is not known yet (a gate started on a worker before the reviewer lists
 * reached the workflow); the reviewer is checked again once the gate has loaded them.
 */
export function checkDecision(request: unknown, stage: DecisionStage, policy: ReviewerPolicy | null): DecisionCheck {
  const parsed = parseRequest(request);
  if (!('action' in parsed)) return { accepted: false, refusal: parsed };
  const { action, reviewer } = parsed;
  if (policy && !policy.reviewers.includes(reviewer)) {
    return refuse('not_allowed', `${reviewer} is not allowed to decide on held invoices`);
  }
  if (stage.waitingFor === 'nothing') {
    return refuse('not_waiting', `the gate is ${stage.status.replaceAll('_', ' ')} and waits for no decision`);
  }
  if (action === 'recount') return { accepted: true, decision: parsed };
  if (stage.waitingFor === 'review' && action === 'approve') {
    return refuse('not_waiting', 'nothing to approve: the invoice waits for a release or a recount');
  }
  if (stage.waitingFor === 'second_approval' && action === 'release') {
    return refuse(
      'not_waiting',
      `${stage.firstApprover} released it already; it waits for a second reviewer's approval`,
    );
  }
  if (action === 'release') {
    if (parsed.reason === undefined) return refuse('reason_required', 'a release needs a reason');
    if (parsed.reason === 'other' && parsed.note === undefined) {
      return refuse('note_required', 'a release for another reason needs a note saying why');
    }
    return { accepted: true, decision: parsed };
  }
  // approve, while a second approval is awaited
  if (stage.waitingFor !== 'second_approval') return refuse('not_waiting', 'nothing to approve');
  if (reviewer === stage.firstApprover) {
    return refuse('same_approver', 'you gave the first approval; a different reviewer must approve');
  }
  if (policy && policy.approvers !== null && !policy.approvers.includes(reviewer)) {
    return refuse('not_an_approver', `${reviewer} may not give the second approval`);
  }
  return { accepted: true, decision: parsed };
}

/** "The ledger was late: the batch job ran at 03:00", for alerts, the audit and Stripe's metadata. */
export function describeReleaseReason(reason: string, note?: string | null): string {
  const label = (RELEASE_REASONS as readonly string[]).includes(reason)
    ? RELEASE_REASON_LABELS[reason as ReleaseReason]
    : reason;
  return note ? `${label}: ${note}` : label;
}
