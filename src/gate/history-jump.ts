// The history check: a line's quantity against the same customer's previous invoices for that meter.
// A customer at 10x (or 1/10 of) every earlier invoice deserves a look even when Stripe and the ledger
// agree (a retry storm that double-writes both). Pure: the activity finds the history.
import Decimal from 'decimal.js';
import type { DecimalString } from './units';

/** Previous invoices looked at per line. */
export const HISTORY_INVOICES = 6;

export type HistoryAction = 'alert' | 'hold';

export interface HistorySettings {
  /** GATE_HISTORY_JUMP as a factor > 1 ("5" for 5x); null: the check is off. */
  jump: DecimalString | null;
  /** GATE_HISTORY_ACTION: `alert` posts a button-less heads-up, `hold` holds like a divergence. */
  action: HistoryAction;
}

export const DEFAULT_HISTORY_SETTINGS: HistorySettings = { jump: '5', action: 'alert' };

export interface LineHistory {
  lineId: string;
  eventName: string;
  quantity: DecimalString;
  /** The previous invoices' quantities for this meter, newest first (at most HISTORY_INVOICES). */
  previous: DecimalString[];
  /** Where they came from: the gate's own audit, or Stripe's finalized invoices for a customer it has not seen. */
  source: 'audit' | 'stripe' | 'none';
  /** Median of `previous`; null without history. */
  baseline: DecimalString | null;
  /** quantity / baseline; null without a (non-zero) baseline. */
  ratio: DecimalString | null;
  /** `jump`: above baseline x factor; `drop`: below baseline / factor; null: in line with its history. */
  flag: 'jump' | 'drop' | null;
}

export interface HistoryCheck {
  jump: DecimalString;
  action: HistoryAction;
  lines: LineHistory[];
}

/** "5x", "5", "2.5X" -> "5" / "2.5"; null when it is not a factor above 1. */
export function parseJumpFactor(text: string): DecimalString | null {
  const match = /^\s*(\d+(?:\.\d+)?)\s*[xX]?\s*$/.exec(text);
  if (!match) return null;
  const factor = new Decimal(match[1]);
  return factor.greaterThan(1) ? factor.toFixed() : null;
}

/**
 * Judges one line against its history. The baseline is the median of the previous quantities (one odd
 * month does not move it); without history, or with a zero baseline, nothing is flagged.
 */
export function judgeHistory(
  line: Pick<LineHistory, 'lineId' | 'eventName' | 'quantity' | 'previous' | 'source'>,
  jump: DecimalString,
): LineHistory {
  const baseline = median(line.previous);
  if (baseline === null || baseline.isZero()) {
    return { ...line, baseline: baseline?.toFixed() ?? null, ratio: null, flag: null };
  }
  const quantity = new Decimal(line.quantity);
  const factor = new Decimal(jump);
  const ratio = quantity.div(baseline);
  const flag = ratio.greaterThan(factor) ? 'jump' : ratio.lessThan(new Decimal(1).div(factor)) ? 'drop' : null;
  return { ...line, baseline: baseline.toFixed(), ratio: ratio.toDecimalPlaces(4).toFixed(), flag };
}

export function flaggedLines(check: HistoryCheck | null | undefined): LineHistory[] {
  return check?.lines.filter((l) => l.flag !== null) ?? [];
}

function median(values: DecimalString[]): Decimal | null {
  if (values.length === 0) return null;
  const sorted = values.map((v) => new Decimal(v)).sort((a, b) => a.comparedTo(b));
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid] : sorted[mid - 1].plus(sorted[mid]).div(2);
}
