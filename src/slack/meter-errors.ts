// Block Kit for Stripe's meter error reports that concern an alert's invoice: usage Stripe rejected on
// one of its meters in a line's period, the likely cause of an under-billing. Pure: no I/O.
import type { SectionBlock } from '@slack/web-api';
import { truncate } from './format';

export function meterErrorBlocks(mentions: readonly string[] | null | undefined): SectionBlock[] {
  if (!mentions || mentions.length === 0) return [];
  const text = `*Stripe rejected usage on this invoice's meters* (it never reached Stripe's count, the likely cause of an under-billing):\n${mentions.map((m) => `• ${m}`).join('\n')}`;
  return [{ type: 'section', text: { type: 'mrkdwn', text: truncate(text, 3000) } }];
}
