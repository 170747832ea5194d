// Block Kit for the daily observe-mode digest: what the gate checked and would have held in a day, and
// the money at stake per currency. Pure: no I/O.
import type { KnownBlock } from '@slack/web-api';
import type { DigestMoney, ObserveDigestSummary } from '../gate/observe-digest';
import { formatMoneyMinor, utcDateTime } from './format';
import type { SlackMessageContent } from './alert-message';

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

function moneyLine(m: DigestMoney): string {
  const parts = [
    `${formatMoneyMinor(m.overMinor, m.currency)} billed over the ledger`,
    `${formatMoneyMinor(m.underMinor, m.currency)} under`,
  ];
  if (m.linesWithoutPrice > 0) parts.push(`${plural(m.linesWithoutPrice, 'line')} without a unit price not included`);
  return `• *${m.currency.toUpperCase()}*: ${parts.join(' · ')}`;
}

/** The digest for one day (the 24 hours before it is posted). */
export function buildObserveDigest(summary: ObserveDigestSummary): SlackMessageContent {
  const from = utcDateTime(new Date(summary.period.from));
  const to = utcDateTime(new Date(summary.period.to));
  const headline = `${plural(summary.checked, 'invoice')} checked, ${summary.wouldHold} would have been held`;
  const money =
    summary.money.length === 0
      ? '*Money at stake:* none'
      : `*Money at stake* (estimated impact of the diverging lines):\n${summary.money.map(moneyLine).join('\n')}`;
  const blocks: KnownBlock[] = [
    { type: 'header', text: { type: 'plain_text', text: 'Invoice gate, observe mode: daily digest', emoji: true } },
    { type: 'section', text: { type: 'mrkdwn', text: `:eyes: *${headline}* (${from} – ${to})` } },
    { type: 'section', text: { type: 'mrkdwn', text: money } },
    {
      type: 'context',
      elements: [
        {
          type: 'mrkdwn',
          text: "Observe mode never pauses an invoice. Details per invoice: `invoice_gate.gate_runs` where `outcome = 'would_hold'`.",
        },
      ],
    },
  ];
  const moneyText = summary.money
    .map(
      (m) => `${formatMoneyMinor(m.overMinor, m.currency)} over, ${formatMoneyMinor(m.underMinor, m.currency)} under`,
    )
    .join('; ');
  return {
    text: `Invoice gate daily digest (${from} – ${to}): ${headline}.${moneyText ? ` Money at stake: ${moneyText}.` : ''}`,
    blocks,
  };
}
