// The review queue as CSV (RFC 4180, the backfill report's conventions): one row per open hold,
// oldest first. Ids and names come from Stripe, reviewers from Slack: a text cell a spreadsheet would
// read as a formula is neutralised (csvText); numbers and times are written as they are.
import type { HoldQueueEntry } from '../../audit/hold-queue';
import { csvDecimal, csvRecord, csvText, csvTime } from '../../backfill/csv';

export const HOLDS_CSV_COLUMNS = [
  'invoice_id',
  'customer_id',
  'status',
  'held_since',
  'held_seconds',
  'money_at_stake_minor',
  'unpriced_lines',
  'currency',
  'finalizes_at',
  'first_approver',
  'first_approved_at',
] as const;

export function holdsCsv(entries: HoldQueueEntry[], now: Date): string {
  return (
    csvRecord(HOLDS_CSV_COLUMNS) +
    entries
      .map((e) =>
        csvRecord([
          csvText(e.invoiceId),
          csvText(e.customerId ?? ''),
          csvText(e.status),
          csvTime(e.heldSince),
          String(Math.max(0, Math.floor((now.getTime() - e.heldSince.getTime()) / 1000))),
          csvDecimal(e.moneyAtStakeMinor),
          String(e.unpricedLines),
          csvText(e.currency ?? ''),
          e.finalizesAt ? csvTime(e.finalizesAt) : '',
          csvText(e.firstApprover?.reviewer ?? ''),
          e.firstApprover ? csvTime(e.firstApprover.at) : '',
        ]),
      )
      .join('')
  );
}
