// The append-only decision log (table `decision_log`): every decision attempt, accepted or refused, in one
// hash chain per deployment. Appends are serialised with a table lock so the chain has one order; a
// retried append (same attempt id) returns the row already written.
import { sql, type Kysely, type Selectable, type Transaction } from 'kysely';
import { DEFAULT_GATE_SCHEMA, type DecisionLogTable, type GateDatabase } from '../db/schema';
import { ChainVerifier, GENESIS_HASH, chainHash, type ChainBreak, type ChainedRow } from './decision-chain';

export interface DecisionAttempt {
  /** Identifies the attempt (e.g. the Update id): appending it again adds nothing. */
  attemptId?: string | null;
  at?: Date;
  invoiceId: string;
  reviewer: string;
  action: string;
  reason?: string | null;
  note?: string | null;
  accepted: boolean;
  refusal?: string | null;
  /** How it came in: slack, slack_socket, cli, run_page, signal. */
  channel: string;
  gateStatus?: string | null;
  moneyAtStake?: string | null;
  currency?: string | null;
}

export type DecisionLogEntry = ChainedRow;

export type ChainVerification =
  { intact: true; rows: number; headHash: string } | { intact: false; rowsIntact: number; firstBreak: ChainBreak };

const VERIFY_PAGE = 1000;

function toEntry(row: Selectable<DecisionLogTable>): DecisionLogEntry {
  return {
    seq: String(row.seq),
    attemptId: row.attempt_id,
    at: row.at,
    invoiceId: row.invoice_id,
    reviewer: row.reviewer,
    action: row.action,
    reason: row.reason,
    note: row.note,
    accepted: row.accepted,
    refusal: row.refusal,
    channel: row.channel,
    gateStatus: row.gate_status,
    moneyAtStake: row.money_at_stake,
    currency: row.currency,
    prevHash: row.prev_hash,
    hash: row.hash,
  };
}

export class DecisionLog {
  readonly schema: string;

  constructor(
    private readonly database: Kysely<GateDatabase>,
    options: { schema?: string } = {},
  ) {
    this.schema = options.schema ?? DEFAULT_GATE_SCHEMA;
  }

  private get db(): Kysely<GateDatabase> {
    return this.database.withSchema(this.schema);
  }

  async append(attempt: DecisionAttempt): Promise<DecisionLogEntry> {
    return this.database.transaction().execute(async (trx) => {
      // One appender at a time: the next seq and prev_hash must come from the row written just before.
      await sql`lock table ${sql.id(this.schema, 'decision_log')} in exclusive mode`.execute(trx);
      const db = trx.withSchema(this.schema);
      if (attempt.attemptId) {
        const existing = await db
          .selectFrom('decision_log')
          .selectAll()
          .where('attempt_id', '=', attempt.attemptId)
          .executeTakeFirst();
        if (existing) return toEntry(existing);
      }
      const last = await this.lastRow(trx);
      const fields = {
        seq: last ? (BigInt(last.seq) + 1n).toString() : '1',
        attemptId: attempt.attemptId ?? null,
        // Millisecond precision, so the stored timestamp reads back exactly as it was hashed.
        at: new Date(Math.floor((attempt.at ?? new Date()).getTime())),
        invoiceId: attempt.invoiceId,
        reviewer: attempt.reviewer,
        action: attempt.action,
        reason: attempt.reason ?? null,
        note: attempt.note ?? null,
        accepted: attempt.accepted,
        refusal: attempt.refusal ?? null,
        channel: attempt.channel,
        gateStatus: attempt.gateStatus ?? null,
        moneyAtStake: attempt.moneyAtStake ?? null,
        currency: attempt.currency ?? null,
      };
      const prevHash = last?.hash ?? GENESIS_HASH;
      const hash = chainHash(fields, prevHash);
      const row = await db
        .insertInto('decision_log')
        .values({
          seq: fields.seq,
          attempt_id: fields.attemptId,
          at: fields.at,
          invoice_id: fields.invoiceId,
          reviewer: fields.reviewer,
          action: fields.action,
          reason: fields.reason,
          note: fields.note,
          accepted: fields.accepted,
          refusal: fields.refusal,
          channel: fields.channel,
          gate_status: fields.gateStatus,
          money_at_stake: fields.moneyAtStake,
          currency: fields.currency,
          prev_hash: prevHash,
          hash,
        })
        .returningAll()
        .executeTakeFirstOrThrow();
      return toEntry(row);
    });
  }

  private async lastRow(trx: Transaction<GateDatabase>): Promise<{ seq: string; hash: string } | undefined> {
    const row = await trx
      .withSchema(this.schema)
      .selectFrom('decision_log')
      .select(['seq', 'hash'])
      .orderBy('seq', 'desc')
      .limit(1)
      .executeTakeFirst();
    return row ? { seq: String(row.seq), hash: row.hash } : undefined;
  }

  /** The attempts on one invoice, oldest first (the run page shows them). */
  async forInvoice(invoiceId: string): Promise<DecisionLogEntry[]> {
    const rows = await this.db
      .selectFrom('decision_log')
      .selectAll()
      .where('invoice_id', '=', invoiceId)
      .orderBy('seq')
      .execute();
    return rows.map(toEntry);
  }

  /** Rows with since <= at < until, in seq order, a page at a time. */
  async *between(since: Date, until: Date | null): AsyncGenerator<DecisionLogEntry> {
    let after = '0';
    for (;;) {
      let query = this.db
        .selectFrom('decision_log')
        .selectAll()
        .where('seq', '>', after)
        .where('at', '>=', since)
        .orderBy('seq')
        .limit(VERIFY_PAGE);
      if (until) query = query.where('at', '<', until);
      const rows = await query.execute();
      for (const row of rows) yield toEntry(row);
      if (rows.length < VERIFY_PAGE) return;
      after = String(rows[rows.length - 1]!.seq);
    }
  }

  /** Recomputes the whole chain in seq order; names the first row that does not match. */
  async verify(): Promise<ChainVerification> {
    const verifier = new ChainVerifier();
    let after = '0';
    for (;;) {
      const rows = await this.db
        .selectFrom('decision_log')
        .selectAll()
        .where('seq', '>', after)
        .orderBy('seq')
        .limit(VERIFY_PAGE)
        .execute();
      for (const row of rows) {
        const broken = verifier.check(toEntry(row));
        if (broken) return { intact: false, rowsIntact: verifier.intact.rows, firstBreak: broken };
      }
      if (rows.length < VERIFY_PAGE) return { intact: true, ...verifier.intact };
      after = String(rows[rows.length - 1]!.seq);
    }
  }
}
