// The one table of gate statuses: what people read (the Slack alert, the answer to a late click, the
// Temporal Web UI's details) and how the gate treats each one.
import type { GateStatus } from './types';

export interface StatusInfo {
  /** Words for people, e.g. "held for review". */
  label: string;
  /** Slack emoji shortcode shown with the status. */
  emoji: string;
  /**
   * `working`: the gate is busy (reading, counting, recounting, finalizing);
   * `waiting`: held, until a reviewer or Stripe moves it on; `final`: the gate's outcome.
   */
  phase: 'working' | 'waiting' | 'final';
  /** A reviewer can decide now: the alert shows Release and Recount. */
  decidable: boolean;
}

export const GATE_STATUSES: Readonly<Record<GateStatus, StatusInfo>> = {
  reading: { label: 'reading the invoice', emoji: ':hourglass_flowing_sand:', phase: 'working', decidable: false },
  counting: { label: 'counting the ledger', emoji: ':hourglass_flowing_sand:', phase: 'working', decidable: false },
  recounting: { label: 'recounting', emoji: ':arrows_counterclockwise:', phase: 'working', decidable: false },
  releasing: { label: 'finalizing in Stripe', emoji: ':hourglass_flowing_sand:', phase: 'working', decidable: false },
  held: { label: 'held for review', emoji: ':double_vertical_bar:', phase: 'waiting', decidable: true },
  passed: { label: 'passed', emoji: ':white_check_mark:', phase: 'final', decidable: false },
  released: { label: 'released', emoji: ':white_check_mark:', phase: 'final', decidable: false },
  auto_released: {
    label: 'auto-released after recount',
    emoji: ':white_check_mark:',
    phase: 'final',
    decidable: false,
  },
  resolved_in_stripe: { label: 'resolved in Stripe', emoji: ':information_source:', phase: 'final', decidable: false },
  too_late: { label: 'too late to hold', emoji: ':information_source:', phase: 'final', decidable: false },
  skipped: { label: 'skipped', emoji: ':heavy_minus_sign:', phase: 'final', decidable: false },
  // Observe mode's verdict: nothing is paused, so nobody can decide (no buttons).
  would_hold: { label: 'would have held (observe mode)', emoji: ':eyes:', phase: 'final', decidable: false },
};

/** Statuses a gate passes through on its way to an outcome (recorded as status, not outcome). */
export function isWorking(status: GateStatus): boolean {
  return GATE_STATUSES[status].phase === 'working';
}

export function isFinal(status: GateStatus): boolean {
  return GATE_STATUSES[status].phase === 'final';
}
