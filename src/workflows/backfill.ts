// The backfill report as a durable process: count the window's invoices, then page through them and
// compare each page in bounded batches (a few activities of a few invoices each in flight), recording
// every invoice and its lines as it goes. A long run continues as new with its cursor; a run started
// again with the same arguments (same workflow id) skips what the audit tables already hold.
import { continueAsNew, proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { BackfillActivities } from '../activities';
import type { BackfillRequest, BackfillRunTotals, ListedInvoice } from '../backfill/types';

// Read-only calls: transient failures (Stripe 429/5xx, a lost connection) retry without limit, backing
// off to a minute; a ledger that cannot be queried at all fails the run (the activity says so).
const backfill = proxyActivities<BackfillActivities>({
  startToCloseTimeout: '10m',
  // A batch heartbeats after each invoice: one whose worker died (the backfill process was killed) is
  // retried elsewhere after this long, and skips the invoices it had recorded.
  heartbeatTimeout: '1m',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '1m' },
});

export const DEFAULT_BATCH_SIZE = 10;
export const DEFAULT_BATCHES_IN_FLIGHT = 4;
/** A page is about 100 invoices and ~25 history events: a fresh history every 20 pages keeps it short. */
export const DEFAULT_PAGES_PER_RUN = 20;

export interface BackfillInput {
  /** The run's id in backfill_runs: the workflow id. */
  runId: string;
  request: BackfillRequest;
  /** Invoices per comparison activity. */
  batchSize?: number;
  /** Comparison activities running at once. */
  batchesInFlight?: number;
  /** Continue as new after this many pages. */
  pagesPerRun?: number;
  /** Set by continue-as-new: where the previous run of this chain stopped. */
  carried?: { cursor: string };
}

export async function invoiceBackfill(input: BackfillInput): Promise<BackfillRunTotals> {
  const { runId, request } = input;
  if (!input.carried) await backfill.startBackfillRun({ runId, request });

  let cursor = input.carried?.cursor ?? null;
  for (let page = 1; ; page += 1) {
    const listed = await backfill.listBackfillInvoices({ runId, request, startingAfter: cursor });
    await compareInBatches(runId, listed.pending, input);
    if (listed.nextCursor === null) break;
    cursor = listed.nextCursor;
    if (page >= (input.pagesPerRun ?? DEFAULT_PAGES_PER_RUN) || workflowInfo().continueAsNewSuggested) {
      await continueAsNew<typeof invoiceBackfill>({ ...input, carried: { cursor } });
    }
  }
  return backfill.finishBackfillRun({ runId });
}

/** Splits the page into batches and runs them with at most `batchesInFlight` at once. */
async function compareInBatches(runId: string, invoices: ListedInvoice[], input: BackfillInput): Promise<void> {
  const size = input.batchSize ?? DEFAULT_BATCH_SIZE;
  const batches: ListedInvoice[][] = [];
  for (let i = 0; i < invoices.length; i += size) batches.push(invoices.slice(i, i + size));
  let next = 0;
  const lane = async () => {
    while (next < batches.length) {
      const batch = batches[next];
      next += 1;
      await backfill.compareBackfillInvoices({ runId, invoices: batch });
    }
  };
  const lanes = Math.min(input.batchesInFlight ?? DEFAULT_BATCHES_IN_FLIGHT, batches.length);
  await Promise.all(Array.from({ length: lanes }, lane));
}
