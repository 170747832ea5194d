// The backfill report's side effects: list the account's finalized invoices of the window, page by page;
// read each invoice and count its metered lines in the ledger exactly as the gate does (the same
// read-invoice, ledger query and comparison); record the result in the backfill tables. Read only
// towards Stripe: list and retrieve, nothing else.
import { heartbeat } from '@temporalio/activity';
import type { Kysely } from 'kysely';
import type Stripe from 'stripe';
import type { BackfillInvoiceInput, BackfillStore } from '../audit/backfill-store';
import { createdWindow } from '../backfill/arguments';
import type {
  BackfillBatchResult,
  BackfillInvoicePage,
  BackfillRequest,
  BackfillRunTotals,
  ListedInvoice,
} from '../backfill/types';
import { toleranceFor, type GateConfig } from '../config/gate-config';
import { compareInvoice } from '../gate/compare';
import { FailureType, GateError } from '../gate/failures';
import { countLedgerEvents } from '../ledger/count-ledger-events';
import { ledgerFailure } from '../ledger/ledger-errors';
import { cachedMeterLookup, readInvoiceSnapshot } from '../stripe/read-invoice';
import { callStripe } from '../stripe/stripe-failure';

export interface BackfillActivityDeps {
  /** The rate-limited client (src/stripe/client.ts): the backfill shares Stripe's limit with the gate. */
  stripe: Stripe;
  ledgerDb: Kysely<any>;
  gateConfig: GateConfig;
  store: BackfillStore;
}

export interface BackfillRunInput {
  runId: string;
  request: BackfillRequest;
}

const PAGE_SIZE = 100;

/** Stripe's list filters for the request; several statuses are filtered here (Stripe takes one). */
function listParams(request: BackfillRequest, startingAfter: string | null): Stripe.InvoiceListParams {
  const window = createdWindow(request);
  return {
    limit: PAGE_SIZE,
    created: window.lt === null ? { gte: window.gte } : { gte: window.gte, lt: window.lt },
    ...(request.customer && { customer: request.customer }),
    ...(request.statuses.length === 1 && { status: request.statuses[0] }),
    ...(startingAfter && { starting_after: startingAfter }),
  };
}

function wanted(request: BackfillRequest, invoice: Stripe.Invoice): boolean {
  return (request.statuses as string[]).includes(invoice.status ?? 'draft');
}

/** Not worth retrying for this invoice, and not a reason to stop the run: recorded as not comparable. */
function invoiceLevelFailure(error: unknown): string | null {
  if (error instanceof GateError) {
    if (error.retryable || error.type === FailureType.ledgerQuery) return null;
    return error.message;
  }
  return error instanceof Error ? error.message : String(error);
}

export function createBackfillActivities({ stripe, ledgerDb, gateConfig, store }: BackfillActivityDeps) {
  const meter = cachedMeterLookup(stripe);

  async function compareOne(listed: ListedInvoice): Promise<BackfillInvoiceInput> {
    let snapshot;
    try {
      snapshot = await readInvoiceSnapshot(stripe, listed.invoiceId, meter);
    } catch (error) {
      const reason = invoiceLevelFailure(error);
      if (reason === null) throw error;
      return failed(listed, `reading the invoice: ${reason}`);
    }
    let counts;
    try {
      counts = await countLedgerEvents(ledgerDb, gateConfig.ledger, {
        customerId: snapshot.customerId,
        customerMetadata: snapshot.customerMetadata,
        lines: snapshot.meteredLines,
      });
    } catch (error) {
      const failure = ledgerFailure(error);
      const reason = invoiceLevelFailure(failure);
      if (reason === null) throw failure;
      return { ...failed(listed, `counting the ledger: ${reason}`), customerId: snapshot.customerId };
    }
    const comparison = compareInvoice(snapshot.meteredLines, counts, toleranceFor(gateConfig, snapshot.customerId));
    return {
      invoiceId: snapshot.invoiceId,
      customerId: snapshot.customerId,
      invoiceStatus: snapshot.status,
      created: listed.created,
      currency: snapshot.currency,
      otherLines: snapshot.otherLineCount,
      error: null,
      lines: comparison.lines,
    };
  }

  return {
    /** Counts the window's invoices (for progress and ETA) and marks the run running. */
    async startBackfillRun({ runId, request }: BackfillRunInput): Promise<{ invoicesTotal: number }> {
      const invoicesTotal = await callStripe('invoice list', async () => {
        let count = 0;
        for await (const invoice of stripe.invoices.list(listParams(request, null))) {
          if (wanted(request, invoice)) count += 1;
        }
        return count;
      });
      await store.startRun(runId, request, invoicesTotal);
      return { invoicesTotal };
    },

    /** One page of the window's invoices, without those this run has recorded already. */
    async listBackfillInvoices(
      input: BackfillRunInput & { startingAfter: string | null },
    ): Promise<BackfillInvoicePage> {
      const page = await callStripe('invoice list', () =>
        stripe.invoices.list(listParams(input.request, input.startingAfter)),
      );
      const matching = page.data.filter((invoice) => invoice.id && wanted(input.request, invoice));
      const recorded = await store.recordedInvoiceIds(
        input.runId,
        matching.map((invoice) => invoice.id!),
      );
      return {
        pending: matching
          .filter((invoice) => !recorded.has(invoice.id!))
          .map((invoice) => ({ invoiceId: invoice.id!, created: invoice.created })),
        listed: matching.length,
        nextCursor: page.has_more && page.data.length > 0 ? page.data[page.data.length - 1].id! : null,
      };
    },

    /** Reads, counts, compares and records a batch of invoices (each in its own transaction). */
    async compareBackfillInvoices({
      runId,
      invoices,
    }: {
      runId: string;
      invoices: ListedInvoice[];
    }): Promise<BackfillBatchResult> {
      const result: BackfillBatchResult = { invoices: 0, failedInvoices: 0, lines: 0, divergingLines: 0 };
      const recorded = await store.recordedInvoiceIds(
        runId,
        invoices.map((i) => i.invoiceId),
      );
      // A retried batch skips the invoices its earlier attempt recorded.
      for (const listed of invoices.filter((i) => !recorded.has(i.invoiceId))) {
        const invoice = await compareOne(listed);
        const recordedNow = await store.recordInvoice(runId, invoice);
        // Alive, and how far: a worker that died mid-batch is noticed at the heartbeat timeout, not the batch's.
        heartbeat(listed.invoiceId);
        if (!recordedNow) continue;
        result.invoices += 1;
        if (invoice.error !== null) result.failedInvoices += 1;
        result.lines += invoice.lines.length;
        result.divergingLines += invoice.lines.filter((l) => !l.passed).length;
      }
      return result;
    },

    async finishBackfillRun({ runId }: { runId: string }): Promise<BackfillRunTotals> {
      await store.finishRun(runId, 'completed');
      const run = await store.getRun(runId);
      if (!run) throw new Error(`backfill run ${runId} has no row`);
      return {
        invoicesTotal: run.invoicesTotal,
        invoicesDone: run.invoicesDone,
        invoicesFailed: run.invoicesFailed,
        linesDone: run.linesDone,
        linesDiverging: run.linesDiverging,
      };
    },
  };
}

function failed(listed: ListedInvoice, error: string): BackfillInvoiceInput {
  return {
    invoiceId: listed.invoiceId,
    customerId: null,
    invoiceStatus: null,
    created: listed.created,
    currency: null,
    otherLines: 0,
    error,
    lines: [],
  };
}

export type BackfillActivities = ReturnType<typeof createBackfillActivities>;
