// The decision log as CSV (RFC 4180, CRLF), one row per attempt with its chain columns, so an export can
// be re-verified outside the database.
import Decimal from 'decimal.js';
import { csvRecord } from '../backfill/csv';
import type { DecisionLogEntry } from './decision-log';

export const DECISION_LOG_CSV_COLUMNS = [
  'seq',
  'at',
  'invoice_id',
  'reviewer',
  'action',
  'reason',
  'note',
  'accepted',
  'refusal',
  'channel',
  'gate_status',
  'money_at_stake',
  'currency',
  'prev_hash',
  'hash',
] as const;

export function decisionLogCsvHeader(): string {
  return csvRecord(DECISION_LOG_CSV_COLUMNS);
}

export function decisionLogCsvRow(entry: DecisionLogEntry): string {
  return csvRecord([
    entry.seq,
    entry.at.toISOString(),
    entry.invoiceId,
    entry.reviewer,
    entry.action,
    entry.reason ?? '',
    entry.note ?? '',
    String(entry.accepted),
    entry.refusal ?? '',
    entry.channel,
    entry.gateStatus ?? '',
    entry.moneyAtStake === null ? '' : new Decimal(entry.moneyAtStake).toFixed(),
    entry.currency ?? '',
    entry.prevHash,
    entry.hash,
  ]);
}
