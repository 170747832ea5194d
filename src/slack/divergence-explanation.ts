// Block Kit for what a held invoice explains about itself: the windows in time where Stripe and the
// ledger differ, the bucket holding a `last` meter's deciding event, and lines that jump against the
// customer's history (also the button-less heads-up). Pure functions: no I/O.
import type { SectionBlock } from '@slack/web-api';
import type {
  DecidingBucket,
  DivergenceExplanation,
  DivergenceWindow,
  LineExplanation,
} from '../gate/divergence-buckets';
import { flaggedLines, type HistoryCheck, type LineHistory } from '../gate/history-jump';
import type { UnixSeconds } from '../gate/types';
import { escapeMrkdwn, formatQuantity, truncate } from './format';

const section = (text: string): SectionBlock => ({
  type: 'section',
  text: { type: 'mrkdwn', text: truncate(text, 3000) },
});

/** "2026-11-14 13:00-16:00 UTC", "2026-11-14 00:00-24:00 UTC", "2026-11-13 22:00 – 2026-11-14 02:00 UTC". */
export function formatWindow(start: UnixSeconds, end: UnixSeconds): string {
  const [startDate, startTime] = isoParts(start);
  const [endDate, endTime] = isoParts(end);
  if (endDate === startDate) return `${startDate} ${startTime}-${endTime} UTC`;
  if (endTime === '00:00' && end - start <= 86_400) return `${startDate} ${startTime}-24:00 UTC`;
  return `${startDate} ${startTime} – ${endDate} ${endTime} UTC`;
}

function isoParts(sec: UnixSeconds): [string, string] {
  const iso = new Date(sec * 1000).toISOString();
  return [iso.slice(0, 10), iso.slice(11, 16)];
}

const plus = (q: string) => (q.startsWith('-') ? formatQuantity(q) : `+${formatQuantity(q)}`);

/** "2026-11-14 13:00-16:00 UTC: Stripe +412, ledger +0" */
export function windowText(w: DivergenceWindow, formula: LineExplanation['formula']): string {
  if (formula === 'last')
    return `${formatWindow(w.start, w.end)}: latest value Stripe ${formatQuantity(w.stripe)}, ledger ${formatQuantity(w.ledger)}`;
  return `${formatWindow(w.start, w.end)}: Stripe ${plus(w.stripe)}, ledger ${plus(w.ledger)}`;
}

function decidingText(side: string, bucket: DecidingBucket | null): string {
  return bucket
    ? `${side} in ${formatWindow(bucket.start, bucket.end)} (value ${formatQuantity(bucket.value)})`
    : `${side}: none in the period`;
}

function lineText(line: LineExplanation): string {
  const title = `\`${escapeMrkdwn(line.eventName)}\``;
  const windows = line.windows.map((w) => `• ${windowText(w, line.formula)}`);
  const more =
    line.bucketCount > line.windows.length
      ? [`_${line.bucketCount} differing buckets in all, in the audit (gate_line_buckets)_`]
      : [];
  const deciding = line.deciding
    ? [
        `Deciding (latest) event: ${decidingText('Stripe', line.deciding.stripe)}; ${decidingText('ledger', line.deciding.ledger)}`,
      ]
    : [];
  const body = windows.length
    ? windows
    : ['• no bucket differs (the difference is within a bucket Stripe has not aggregated yet)'];
  return [`${title}:`, ...body, ...more, ...deciding].join('\n');
}

/** The alert's "where they differ" section; nothing before the explanation is in. */
export function explanationBlocks(explanation: DivergenceExplanation | null | undefined): SectionBlock[] {
  if (!explanation) return [];
  if (explanation.status === 'unavailable')
    return [
      section(
        `*Breakdown by time unavailable:* ${escapeMrkdwn(truncate(explanation.reason, 500))}. Both counts above stand; the invoice stays held.`,
      ),
    ];
  if (explanation.lines.length === 0) return [];
  return [
    section(`*Where Stripe and the ledger differ* (top windows, UTC):\n${explanation.lines.map(lineText).join('\n')}`),
  ];
}

function historyLineText(line: LineHistory): string {
  const previous = `${line.previous.length} previous invoice${line.previous.length === 1 ? '' : 's'}`;
  const ratio = line.ratio === null ? '' : ` (${formatQuantity(line.ratio)}x)`;
  const way = line.flag === 'jump' ? 'jumped' : 'dropped';
  return `• \`${escapeMrkdwn(line.eventName)}\` ${way}: ${formatQuantity(line.quantity)} against a median of ${formatQuantity(line.baseline ?? '0')} over ${previous}${ratio}`;
}

/** Lines far from the customer's history (beyond GATE_HISTORY_JUMP either way). */
export function historyBlocks(history: HistoryCheck | null | undefined): SectionBlock[] {
  const flagged = flaggedLines(history);
  if (!history || flagged.length === 0) return [];
  return [
    section(
      `:chart_with_upwards_trend: *Against this customer's history* (beyond ${formatQuantity(history.jump)}x either way):\n${flagged.map(historyLineText).join('\n')}`,
    ),
  ];
}
