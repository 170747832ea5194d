// The one table of gate statuses: what people read (the Slack alert, the answer to a late click, the
// Temporal Web UI's details, the run page), and what each status allows. A new status is one row here.
import type { GateStatus, ReviewAction } from './types';

/**
 * `working`: the gate is busy (reading, counting, recounting, finalizing).
 * `held`: the invoice is paused and waits for a reviewer (or for Stripe, or late usage).
 * `provisional`: the gate's verdict on a draft, which can still change while the draft lives (late usage
 * can make a passed draft diverge and be held; a would-hold can pass again).
 * `final`: the verdict stands for the rest of the gate's life.
 */
export type StatusStage = 'working' | 'held' | 'provisional' | 'final';

export interface StatusInfo {
  /** Words for people, e.g. "held for review". */
  label: string;
  /** Slack emoji shortcode shown with the status. */
  emoji: string;
  stage: StatusStage;
  /** What a reviewer can do now: the alert's buttons, and the only clicks the gate accepts. */
  actions: readonly ReviewAction[];
}

const NO_ACTIONS: readonly ReviewAction[] = [];
const RELEASE_OR_RECOUNT: readonly ReviewAction[] = ['release', 'recount'];
const APPROVE_OR_RECOUNT: readonly ReviewAction[] = ['approve', 'recount'];

const working = (label: string, emoji = ':hourglass_flowing_sand:'): StatusInfo => ({
  label,
  emoji,
  stage: 'working',
  actions: NO_ACTIONS,
});
const provisional = (label: string, emoji: string): StatusInfo => ({
  label,
  emoji,
  stage: 'provisional',
  actions: NO_ACTIONS,
});
const final = (label: string, emoji: string): StatusInfo => ({ label, emoji, stage: 'final', actions: NO_ACTIONS });

export const GATE_STATUSES: Readonly<Record<GateStatus, StatusInfo>> = {
  reading: working('reading the invoice'),
  counting: working('counting the ledger'),
  recounting: working('recounting', ':arrows_counterclockwise:'),
  releasing: working('finalizing in Stripe'),
  held: { label: 'held for review', emoji: ':double_vertical_bar:', stage: 'held', actions: RELEASE_OR_RECOUNT },
  awaiting_second_approval: {
    label: 'awaiting a second approval',
    emoji: ':busts_in_silhouette:',
    stage: 'held',
    actions: APPROVE_OR_RECOUNT,
  },
  passed: provisional('passed', ':white_check_mark:'),
  // Observe mode's verdict: nothing is paused, so nobody can decide (no buttons).
  would_hold: provisional('would have held (observe mode)', ':eyes:'),
  released: final('released', ':white_check_mark:'),
  auto_released: final('auto-released after recount', ':white_check_mark:'),
  resolved_in_stripe: final('resolved in Stripe', ':information_source:'),
  too_late: final('too late to hold', ':information_source:'),
  skipped: final('skipped', ':heavy_minus_sign:'),
  bypassed: final('finalized outside the gate', ':warning:'),
};

/** Statuses that are not an outcome of their own: the audit records them as status, keeping the outcome. */
const NOT_OUTCOMES: ReadonlySet<GateStatus> = new Set(['awaiting_second_approval']);

/** Whether the status is recorded as the gate's outcome (else only as its status). */
export function isOutcome(status: GateStatus): boolean {
  return !isWorking(status) && !NOT_OUTCOMES.has(status);
}

/** Statuses a gate passes through on its way to a verdict (recorded as status, not outcome). */
export function isWorking(status: GateStatus): boolean {
  return GATE_STATUSES[status].stage === 'working';
}

/** Whether the gate has given a verdict (provisional or final): neither busy nor waiting for a reviewer. */
export function hasVerdict(status: GateStatus): boolean {
  const { stage } = GATE_STATUSES[status];
  return stage === 'provisional' || stage === 'final';
}

/** Whether a reviewer can ask for `action` now (any action when none is named): the buttons show. */
export function acceptsDecision(status: GateStatus, action?: ReviewAction): boolean {
  const { actions } = GATE_STATUSES[status];
  return action === undefined ? actions.length > 0 : actions.includes(action);
}
