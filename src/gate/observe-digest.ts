// The daily observe-mode digest: when it is due on the workflow clock, what it sums, and whether a day
// is worth a message. Pure: no Temporal, no I/O (the digest workflow and its activities use these).
import type { DecimalString } from './types';

export const DAY_MS = 86_400_000;

/** The day a digest sums: [from, to) in epoch ms, on the workflow clock. */
export interface DigestPeriod {
  from: number;
  to: number;
}

/** Money at stake in one currency: the would-hold gates' diverging lines, in minor units. */
export interface DigestMoney {
  currency: string;
  /** Sum of the positive estimated impacts: Stripe would bill more than the ledger counted. */
  overMinor: DecimalString;
  /** Sum of the negative estimated impacts, as a positive amount: Stripe would bill less. */
  underMinor: DecimalString;
  /** Diverging lines without a unit price (no estimated impact), not in the sums. */
  linesWithoutPrice: number;
}

/** What the audit says about a day of observe-mode gates. */
export interface ObserveDigestSummary {
  period: DigestPeriod;
  /** Observe-mode gates whose first check was recorded in the period. */
  checked: number;
  /** Observe-mode gates that first would have held their invoice in the period. */
  wouldHold: number;
  /** Per currency (sorted), from the latest pre-finalization round of each would-hold gate. */
  money: DigestMoney[];
}

/** The next post time strictly after `nowMs`, at `atMinuteUtc` minutes after 00:00 UTC. */
export function nextDigestAt(nowMs: number, atMinuteUtc: number): number {
  const today = Math.floor(nowMs / DAY_MS) * DAY_MS + atMinuteUtc * 60_000;
  return today > nowMs ? today : today + DAY_MS;
}

/** The day a digest posted at `postAt` sums: the 24 hours before it. */
export function digestPeriod(postAt: number): DigestPeriod {
  return { from: postAt - DAY_MS, to: postAt };
}

/** A day without observe-mode gates (none checked, none would have held) gets no message. */
export function digestWorthPosting(summary: ObserveDigestSummary): boolean {
  return summary.checked > 0 || summary.wouldHold > 0;
}
