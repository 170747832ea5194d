// The heads-up posted when Stripe and the ledger agree but a line is far from the customer's previous
// invoices (GATE_HISTORY_ACTION=alert): no buttons, the invoice is not held. Pure: no I/O.
import type { KnownBlock } from '@slack/web-api';
import { flaggedLines } from '../gate/history-jump';
import {
  customerLabel,
  invoiceHeaderBlock,
  linksBlock,
  type AlertInput,
  type SlackMessageContent,
} from './alert-message';
import { historyBlocks } from './divergence-explanation';
import { escapeMrkdwn, truncate } from './format';

export function buildHistoryHeadsUp(input: AlertInput): SlackMessageContent {
  const inv = input.invoice;
  const customer = customerLabel(inv);
  const flagged = flaggedLines(input.history);
  const blocks: KnownBlock[] = [
    {
      type: 'header',
      text: { type: 'plain_text', text: truncate(`Usage far from history: ${customer}`, 150), emoji: true },
    },
    invoiceHeaderBlock(inv),
    ...historyBlocks(input.history),
    {
      type: 'section',
      text: {
        type: 'mrkdwn',
        text: ':information_source: Stripe and the ledger agree, so the gate lets Stripe finalize it as scheduled. If both recorded the same mistake (a retry storm, a replayed batch), pause it in Stripe.',
      },
    },
    linksBlock(input),
  ];
  return {
    text: `Invoice ${escapeMrkdwn(inv.invoiceId)} for ${escapeMrkdwn(customer)}: ${flagged.length} metered line${flagged.length === 1 ? ' is' : 's are'} far from the customer's history (Stripe and the ledger agree; not held).`,
    blocks,
  };
}
