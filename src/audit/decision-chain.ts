// The decision log's hash chain: each row's hash is sha256 over its own fields and the previous row's
// hash, so changing, inserting or deleting a row breaks every hash after it. Canonical field forms make
// the hash independent of how PostgreSQL prints a value (numeric scale, timestamp precision).
import { createHash } from 'node:crypto';
import Decimal from 'decimal.js';

/** The first row's `prev_hash`. */
export const GENESIS_HASH = '0'.repeat(64);

export interface ChainedFields {
  seq: string;
  attemptId: string | null;
  at: Date;
  invoiceId: string;
  reviewer: string;
  action: string;
  reason: string | null;
  note: string | null;
  accepted: boolean;
  refusal: string | null;
  channel: string;
  gateStatus: string | null;
  moneyAtStake: string | null;
  currency: string | null;
}

export interface ChainedRow extends ChainedFields {
  prevHash: string;
  hash: string;
}

function canonicalDecimal(value: string | null): string | null {
  return value === null ? null : new Decimal(value).toFixed();
}

export function chainHash(fields: ChainedFields, prevHash: string): string {
  const canonical = JSON.stringify([
    'decision_log/v1',
    new Decimal(fields.seq).toFixed(),
    fields.attemptId,
    fields.at.toISOString(),
    fields.invoiceId,
    fields.reviewer,
    fields.action,
    fields.reason,
    fields.note,
    fields.accepted,
    fields.refusal,
    fields.channel,
    fields.gateStatus,
    canonicalDecimal(fields.moneyAtStake),
    fields.currency,
    prevHash,
  ]);
  return createHash('sha256').update(canonical).digest('hex');
}

export type ChainBreak =
  | { seq: string; problem: 'gap'; expectedSeq: string }
  | { seq: string; problem: 'prev_hash'; expected: string; found: string }
  | { seq: string; problem: 'hash'; expected: string; found: string };

/** Checks rows in seq order, continuing from the previous row's hash and seq; the first break, or null. */
export class ChainVerifier {
  private prevHash = GENESIS_HASH;
  private prevSeq = new Decimal(0);
  private checked = 0;

  check(row: ChainedRow): ChainBreak | null {
    const expectedSeq = this.prevSeq.plus(1);
    if (!expectedSeq.equals(row.seq)) return { seq: row.seq, problem: 'gap', expectedSeq: expectedSeq.toFixed() };
    if (row.prevHash !== this.prevHash) {
      return { seq: row.seq, problem: 'prev_hash', expected: this.prevHash, found: row.prevHash };
    }
    const expected = chainHash(row, row.prevHash);
    if (row.hash !== expected) return { seq: row.seq, problem: 'hash', expected, found: row.hash };
    this.prevHash = row.hash;
    this.prevSeq = expectedSeq;
    this.checked += 1;
    return null;
  }

  /** Rows checked and intact so far, and the hash of the last one (worth keeping outside the database). */
  get intact(): { rows: number; headHash: string } {
    return { rows: this.checked, headHash: this.prevHash };
  }
}

export function describeChainBreak(b: ChainBreak): string {
  switch (b.problem) {
    case 'gap':
      return `row ${b.seq}: expected row ${b.expectedSeq} here (a row was deleted or renumbered)`;
    case 'prev_hash':
      return `row ${b.seq}: prev_hash ${b.found} does not match the previous row's hash ${b.expected} (a row before it was changed, inserted or deleted)`;
    case 'hash':
      return `row ${b.seq}: its fields do not match its hash (the row was edited): stored ${b.found}, computed ${b.expected}`;
  }
}
