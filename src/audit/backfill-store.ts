// The backfill report's tables (schema invoice_gate): runs, the invoices each run read, and the compared
// lines. Every write is idempotent: an invoice is recorded once per run, with all its lines in the same
// transaction, so an activity retried or a run resumed after a crash never repeats a line.
import { sql, type Kysely } from 'kysely';
import type { BackfillReportLine } from '../backfill/report-line';
import type { BackfillRequest, BackfillRunTotals } from '../backfill/types';
import { DEFAULT_GATE_SCHEMA, type GateDatabase } from '../db/schema';
import type { LineComparison, UnixSeconds } from '../gate/types';

export type BackfillRunStatus = 'running' | 'completed' | 'failed';

export interface BackfillRunRecord extends BackfillRunTotals {
  id: string;
  arguments: BackfillRequest;
  status: BackfillRunStatus;
  startedAt: Date;
  finishedAt: Date | null;
  error: string | null;
}

/** One invoice as a backfill run read it. */
export interface BackfillInvoiceInput {
  invoiceId: string;
  customerId: string | null;
  invoiceStatus: string | null;
  created: UnixSeconds | null;
  currency: string | null;
  otherLines: number;
  /** Why the invoice could not be compared; its lines are then empty. */
  error: string | null;
  lines: LineComparison[];
}

const toDate = (s: UnixSeconds) => new Date(s * 1000);

export class BackfillStore {
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

  /** Creates the run, or marks an earlier one with the same id running again (its lines stay). */
  async startRun(id: string, request: BackfillRequest, invoicesTotal: number): Promise<void> {
    await this.db
      .insertInto('backfill_runs')
      .values({ id, arguments: JSON.stringify(request), status: 'running', invoices_total: invoicesTotal })
      .onConflict((oc) =>
        oc.column('id').doUpdateSet({
          status: 'running',
          invoices_total: invoicesTotal,
          finished_at: null,
          error: null,
          updated_at: sql<Date>`now()`,
        }),
      )
      .execute();
  }

  /** Which of these invoices the run has recorded already. */
  async recordedInvoiceIds(runId: string, invoiceIds: string[]): Promise<Set<string>> {
    if (invoiceIds.length === 0) return new Set();
    const rows = await this.db
      .selectFrom('backfill_invoices')
      .select('invoice_id')
      .where('run_id', '=', runId)
      .where('invoice_id', 'in', invoiceIds)
      .execute();
    return new Set(rows.map((r) => r.invoice_id));
  }

  /** Records an invoice and its lines once; false when the run had recorded it already. */
  async recordInvoice(runId: string, invoice: BackfillInvoiceInput): Promise<boolean> {
    return this.database.transaction().execute(async (trx) => {
      const tx = trx.withSchema(this.schema);
      const inserted = await tx
        .insertInto('backfill_invoices')
        .values({
          run_id: runId,
          invoice_id: invoice.invoiceId,
          customer_id: invoice.customerId,
          invoice_status: invoice.invoiceStatus,
          created: invoice.created === null ? null : toDate(invoice.created),
          currency: invoice.currency,
          metered_lines: invoice.lines.length,
          other_lines: invoice.otherLines,
          error: invoice.error,
        })
        .onConflict((oc) => oc.columns(['run_id', 'invoice_id']).doNothing())
        .returning('invoice_id')
        .executeTakeFirst();
      if (!inserted) return false;
      if (invoice.lines.length > 0) {
        await tx
          .insertInto('backfill_lines')
          .values(
            invoice.lines.map((line, position) => ({
              run_id: runId,
              invoice_id: invoice.invoiceId,
              line_id: line.lineId,
              position,
              customer_id: invoice.customerId ?? '',
              invoice_status: invoice.invoiceStatus ?? '',
              created: toDate(invoice.created ?? 0),
              event_name: line.eventName,
              period_start: toDate(line.periodStart),
              period_end: toDate(line.periodEnd),
              stripe_quantity: line.stripeQuantity,
              ledger_quantity: line.ledgerQuantity,
              difference: line.difference,
              variance_pct: line.variancePct,
              estimated_impact_minor: line.estimatedImpactMinor,
              currency: invoice.currency ?? '',
              passed: line.passed,
            })),
          )
          .onConflict((oc) => oc.columns(['run_id', 'invoice_id', 'line_id']).doNothing())
          .execute();
      }
      await tx
        .updateTable('backfill_runs')
        .set((eb) => ({
          invoices_done: eb('invoices_done', '+', 1),
          invoices_failed: eb('invoices_failed', '+', invoice.error === null ? 0 : 1),
          lines_done: eb('lines_done', '+', invoice.lines.length),
          lines_diverging: eb('lines_diverging', '+', invoice.lines.filter((l) => !l.passed).length),
          updated_at: sql<Date>`now()`,
        }))
        .where('id', '=', runId)
        .execute();
      return true;
    });
  }

  async finishRun(runId: string, status: Exclude<BackfillRunStatus, 'running'>, error?: string): Promise<void> {
    await this.db
      .updateTable('backfill_runs')
      .set({ status, error: error ?? null, finished_at: sql<Date>`now()`, updated_at: sql<Date>`now()` })
      .where('id', '=', runId)
      .execute();
  }

  async getRun(runId: string): Promise<BackfillRunRecord | null> {
    const row = await this.db.selectFrom('backfill_runs').selectAll().where('id', '=', runId).executeTakeFirst();
    if (!row) return null;
    return {
      id: row.id,
      arguments: (typeof row.arguments === 'string' ? JSON.parse(row.arguments) : row.arguments) as BackfillRequest,
      status: row.status as BackfillRunStatus,
      invoicesTotal: row.invoices_total,
      invoicesDone: row.invoices_done,
      invoicesFailed: row.invoices_failed,
      linesDone: row.lines_done,
      linesDiverging: row.lines_diverging,
      startedAt: row.started_at,
      finishedAt: row.finished_at,
      error: row.error,
    };
  }

  /** The run's invoices that could not be compared, and why. */
  async failedInvoices(runId: string): Promise<Array<{ invoiceId: string; error: string }>> {
    const rows = await this.db
      .selectFrom('backfill_invoices')
      .select(['invoice_id', 'error'])
      .where('run_id', '=', runId)
      .where('error', 'is not', null)
      .orderBy('invoice_id')
      .execute();
    return rows.map((r) => ({ invoiceId: r.invoice_id, error: r.error ?? '' }));
  }

  /**
   * The run's lines in report order (invoice created, invoice id, line position), read in pages with
   * keyset pagination so a large report never sits in memory at once.
   */
  async *lines(runId: string, pageSize = 5_000): AsyncGenerator<BackfillReportLine> {
    let after: { created: Date; invoiceId: string; position: number } | null = null;
    for (;;) {
      let query = this.db.selectFrom('backfill_lines').selectAll().where('run_id', '=', runId);
      // Invoice ids compare bytewise (collation "C"), whatever the database's collation: one order everywhere.
      if (after) {
        const a = after;
        query = query.where(
          sql<boolean>`(created, invoice_id collate "C", position) > (${a.created}, ${a.invoiceId} collate "C", ${a.position})`,
        );
      }
      const rows = await query
        .orderBy('created')
        .orderBy(sql`invoice_id collate "C"`)
        .orderBy('position')
        .limit(pageSize)
        .execute();
      for (const r of rows) {
        yield {
          invoiceId: r.invoice_id,
          customerId: r.customer_id,
          invoiceStatus: r.invoice_status,
          created: new Date(r.created),
          lineId: r.line_id,
          eventName: r.event_name,
          periodStart: new Date(r.period_start),
          periodEnd: new Date(r.period_end),
          stripeQuantity: r.stripe_quantity,
          ledgerQuantity: r.ledger_quantity,
          difference: r.difference,
          variancePct: r.variance_pct,
          estimatedImpactMinor: r.estimated_impact_minor,
          currency: r.currency,
          passed: r.passed,
        };
      }
      if (rows.length < pageSize) return;
      const last = rows[rows.length - 1];
      after = { created: new Date(last.created), invoiceId: last.invoice_id, position: last.position };
    }
  }
}
