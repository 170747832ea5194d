// Where in time Stripe and the ledger disagree: both sides grouped into the same UTC buckets (days,
// then hours for the worst days), the buckets that differ, and adjacent ones merged into windows.
// Pure: the activity fetches Stripe's meter event summaries and the ledger's groups, this decides.
import Decimal from 'decimal.js';
import type { AggregationFormula, DecimalString, UnixSeconds } from './units';

export type BucketGrain = 'day' | 'hour';

export const GRAIN_SECONDS: Record<BucketGrain, number> = { day: 86_400, hour: 3_600 };

/** Days refined to hours per line: the worst ones (and, for `last`, the ones holding the deciding event). */
export const DAYS_REFINED_PER_LINE = 3;
/** Windows shown per line in the alert; the audit keeps every differing bucket. */
export const WINDOWS_SHOWN_PER_LINE = 3;

/** One meter event summaries request: `window` null asks for one summary over the whole range. */
export interface SummaryQuery {
  start: UnixSeconds;
  end: UnixSeconds;
  window: BucketGrain | null;
}

/** One side's value in one bucket, keyed by the bucket's UTC start (the `date_trunc` of its events). */
export interface BucketValue {
  /** The UTC day or hour the bucket belongs to (its untruncated start). */
  key: UnixSeconds;
  value: DecimalString;
}

/** A bucket where Stripe and the ledger differ; bounds clipped to the line's (minute-aligned) period. */
export interface BucketDiff {
  start: UnixSeconds;
  end: UnixSeconds;
  grain: BucketGrain;
  stripe: DecimalString;
  ledger: DecimalString;
  /** stripe - ledger */
  difference: DecimalString;
}

/** Adjacent differing buckets that lean the same way, as the alert shows them. */
export type DivergenceWindow = BucketDiff;

/** For `last` meters: the bucket holding each side's deciding (latest) event. */
export interface DecidingBucket {
  start: UnixSeconds;
  end: UnixSeconds;
  value: DecimalString;
}

export interface LineExplanation {
  lineId: string;
  eventName: string;
  formula: AggregationFormula;
  /** The largest differing windows, at most WINDOWS_SHOWN_PER_LINE. */
  windows: DivergenceWindow[];
  /** How many differing buckets the audit holds for this line. */
  bucketCount: number;
  /** `last` only: where each side's deciding event is (null: that side has no event in the period). */
  deciding?: { stripe: DecidingBucket | null; ledger: DecidingBucket | null };
}

/** What the gate could say about where a held invoice diverges. */
export type DivergenceExplanation =
  { status: 'explained'; lines: LineExplanation[] } | { status: 'unavailable'; reason: string };

/**
 * Stripe's summaries need start and end aligned to the minute, and to the hour or UTC day when grouped.
 * A line period is widened to whole minutes (both sides use the same range, so buckets compare like with like).
 */
export function minuteRange(
  periodStart: UnixSeconds,
  periodEnd: UnixSeconds,
): { start: UnixSeconds; end: UnixSeconds } {
  return { start: Math.floor(periodStart / 60) * 60, end: Math.max(Math.ceil(periodEnd / 60) * 60, 60) };
}

/**
 * The requests that cover [start, end) in `grain` buckets: the aligned middle grouped by Stripe, and
 * each partial edge (a period that starts or ends mid-day or mid-hour) as one ungrouped summary.
 */
export function summaryQueries(start: UnixSeconds, end: UnixSeconds, grain: BucketGrain): SummaryQuery[] {
  if (end <= start) return [];
  const size = GRAIN_SECONDS[grain];
  const first = Math.ceil(start / size) * size;
  const last = Math.floor(end / size) * size;
  if (first >= last) {
    // No whole bucket inside: one or two partial buckets.
    if (first > start && first < end)
      return [
        { start, end: first, window: null },
        { start: first, end, window: null },
      ];
    return [{ start, end, window: null }];
  }
  return [
    ...(start < first ? [{ start, end: first, window: null }] : []),
    { start: first, end: last, window: grain },
    ...(last < end ? [{ start: last, end, window: null }] : []),
  ];
}

/** The bucket a time belongs to (UTC, like `date_trunc`). */
export function bucketKey(time: UnixSeconds, grain: BucketGrain): UnixSeconds {
  const size = GRAIN_SECONDS[grain];
  return Math.floor(time / size) * size;
}

/** A bucket's bounds within [start, end). */
export function bucketBounds(
  key: UnixSeconds,
  grain: BucketGrain,
  range: { start: UnixSeconds; end: UnixSeconds },
): { start: UnixSeconds; end: UnixSeconds } {
  return { start: Math.max(key, range.start), end: Math.min(key + GRAIN_SECONDS[grain], range.end) };
}

/**
 * The buckets that differ, oldest first. A bucket one side lacks counts as 0 (Stripe lists only
 * buckets with events; the ledger groups only rows it has).
 */
export function diffBuckets(
  grain: BucketGrain,
  range: { start: UnixSeconds; end: UnixSeconds },
  stripe: BucketValue[],
  ledger: BucketValue[],
): BucketDiff[] {
  const stripeByKey = sumByKey(stripe);
  const ledgerByKey = sumByKey(ledger);
  const keys = [...new Set([...stripeByKey.keys(), ...ledgerByKey.keys()])].sort((a, b) => a - b);
  const diffs: BucketDiff[] = [];
  for (const key of keys) {
    const s = stripeByKey.get(key) ?? new Decimal(0);
    const l = ledgerByKey.get(key) ?? new Decimal(0);
    if (s.equals(l)) continue;
    diffs.push({
      ...bucketBounds(key, grain, range),
      grain,
      stripe: s.toFixed(),
      ledger: l.toFixed(),
      difference: s.minus(l).toFixed(),
    });
  }
  return diffs;
}

/** Values of one key added up (a partial edge and a grouped page never share a key; this keeps it total). */
function sumByKey(values: BucketValue[]): Map<number, Decimal> {
  const byKey = new Map<number, Decimal>();
  for (const v of values) byKey.set(v.key, (byKey.get(v.key) ?? new Decimal(0)).plus(v.value));
  return byKey;
}

/** The keys of the days worth refining to hours: the largest differences first. */
export function worstDays(dayDiffs: BucketDiff[], limit = DAYS_REFINED_PER_LINE): UnixSeconds[] {
  return [...dayDiffs]
    .sort((a, b) => byMagnitude(a, b))
    .slice(0, limit)
    .map((d) => bucketKey(d.start, 'day'));
}

/**
 * Every differing bucket at the finest grain known: the refined days replaced by their hours.
 * For `count` and `sum` their differences add up to the line's difference.
 */
export function finestDiffs(dayDiffs: BucketDiff[], refinedDays: UnixSeconds[], hourDiffs: BucketDiff[]): BucketDiff[] {
  const refined = new Set(refinedDays);
  return [
    ...dayDiffs.filter((d) => !refined.has(bucketKey(d.start, 'day'))),
    ...hourDiffs.filter((h) => refined.has(bucketKey(h.start, 'day'))),
  ].sort((a, b) => a.start - b.start);
}

/** Adjacent differing buckets that lean the same way (Stripe more, or the ledger more) become one window. */
export function mergeWindows(diffs: BucketDiff[]): DivergenceWindow[] {
  const windows: DivergenceWindow[] = [];
  for (const d of [...diffs].sort((a, b) => a.start - b.start)) {
    const previous = windows.at(-1);
    const sameWay =
      previous && new Decimal(previous.difference).isNegative() === new Decimal(d.difference).isNegative();
    if (previous && sameWay && previous.end === d.start) {
      windows[windows.length - 1] = {
        start: previous.start,
        end: d.end,
        grain: previous.grain === d.grain ? d.grain : 'hour',
        stripe: new Decimal(previous.stripe).plus(d.stripe).toFixed(),
        ledger: new Decimal(previous.ledger).plus(d.ledger).toFixed(),
        difference: new Decimal(previous.difference).plus(d.difference).toFixed(),
      };
    } else windows.push({ ...d });
  }
  return windows;
}

/** The largest windows (by the size of the difference, then the earliest), largest first. */
export function topWindows(windows: DivergenceWindow[], limit = WINDOWS_SHOWN_PER_LINE): DivergenceWindow[] {
  return [...windows].sort(byMagnitude).slice(0, limit);
}

function byMagnitude(a: BucketDiff, b: BucketDiff): number {
  const order = new Decimal(b.difference).abs().comparedTo(new Decimal(a.difference).abs());
  return order !== 0 ? order : a.start - b.start;
}

/** For `last`: the latest bucket with an event decides the line's quantity. */
export function decidingBucket(
  values: BucketValue[],
  grain: BucketGrain,
  range: { start: UnixSeconds; end: UnixSeconds },
): DecidingBucket | null {
  const latest = values.reduce<BucketValue | null>((max, v) => (max === null || v.key > max.key ? v : max), null);
  return latest ? { ...bucketBounds(latest.key, grain, range), value: new Decimal(latest.value).toFixed() } : null;
}
