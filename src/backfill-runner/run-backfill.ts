// One `npm run backfill`: start the backfill workflow for these arguments, or attach to the one already
// running under the same id; show progress from the audit tables until it ends; then write the CSV and
// the summary from those tables (so a finished run's report can be read again at any time).
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { WorkflowFailedError, WorkflowNotFoundError } from '@temporalio/client';
import type { WorkflowBundle } from '@temporalio/worker';
import { BackfillStore } from '../audit/backfill-store';
import type { GateContext } from '../context';
import type { invoiceBackfill } from '../workflows/backfill';
import { BACKFILL_WORKFLOW_TYPE } from '../workflows/backfill-definitions';
import { backfillWorkflowId } from '../backfill/arguments';
import { startBackfillWorker } from './backfill-worker';
import { csvHeader, csvLine } from '../backfill/csv';
import { createProgressReporter, type ProgressStream } from '../backfill/progress';
import { BackfillSummaryBuilder, type BackfillSummary } from '../backfill/summary';
import type { BackfillRequest, BackfillRunTotals } from '../backfill/types';

export interface RunBackfillOptions {
  request: BackfillRequest;
  /** CSV file to write. */
  out: string;
  /** Where progress goes (stderr in the CLI). */
  progress: ProgressStream;
  /** Tests and the demo pass a pre-built bundle. */
  workflowBundle?: WorkflowBundle;
  /** How often progress is read from the audit tables (default 500 ms). */
  pollMs?: number;
  /** Batching of the workflow (defaults in src/workflows/backfill.ts). */
  batchSize?: number;
  batchesInFlight?: number;
  pagesPerRun?: number;
}

export interface BackfillReport {
  runId: string;
  /** started: a new workflow; attached: the one already running under this id. */
  started: 'started' | 'attached';
  totals: BackfillRunTotals;
  summary: BackfillSummary;
  csvPath: string;
}

export class BackfillRunError extends Error {
  override readonly name = 'BackfillRunError';
}

export async function runBackfill(context: GateContext, options: RunBackfillOptions): Promise<BackfillReport> {
  const { client, logger } = context;
  const store = new BackfillStore(context.databases.db);
  const runId = backfillWorkflowId(options.request);
  const worker = await startBackfillWorker(context, { workflowBundle: options.workflowBundle });
  try {
    const started = (await isRunning(context, runId)) ? 'attached' : 'started';
    const handle = await client.workflow.start<typeof invoiceBackfill>(BACKFILL_WORKFLOW_TYPE, {
      taskQueue: worker.taskQueue,
      workflowId: runId,
      args: [
        {
          runId,
          request: options.request,
          ...(options.batchSize && { batchSize: options.batchSize }),
          ...(options.batchesInFlight && { batchesInFlight: options.batchesInFlight }),
          ...(options.pagesPerRun && { pagesPerRun: options.pagesPerRun }),
        },
      ],
      // The same arguments join the run in flight; a finished or lost one is started again and skips
      // what backfill_invoices already holds.
      workflowIdConflictPolicy: 'USE_EXISTING',
      staticSummary: describeRequest(options.request),
    });
    logger.info({ workflowId: runId, runId: handle.firstExecutionRunId, started }, 'backfill running');

    const progress = createProgressReporter({ stream: options.progress });
    const showProgress = async () => {
      const run = await store.getRun(runId);
      if (run) progress.update({ done: run.invoicesDone, total: run.invoicesTotal });
    };
    const timer = setInterval(() => void showProgress().catch(() => undefined), options.pollMs ?? 500);
    let totals: BackfillRunTotals;
    try {
      totals = await handle.result();
    } catch (error) {
      const reason = error instanceof WorkflowFailedError ? (error.cause?.message ?? error.message) : String(error);
      await store.finishRun(runId, 'failed', reason);
      throw new BackfillRunError(`backfill ${runId} failed: ${reason}`, { cause: error });
    } finally {
      clearInterval(timer);
    }
    progress.finish({ done: totals.invoicesDone, total: totals.invoicesTotal });

    const summary = await writeReport(store, runId, options.out, totals);
    return { runId, started, totals, summary, csvPath: options.out };
  } finally {
    await worker.stop();
  }
}

/** Writes the run's CSV from backfill_lines and builds the summary on the way. */
export async function writeReport(
  store: BackfillStore,
  runId: string,
  path: string,
  totals: Pick<BackfillRunTotals, 'invoicesDone' | 'invoicesFailed'>,
): Promise<BackfillSummary> {
  const file = createWriteStream(path);
  const failed = once(file, 'error').then(([error]) => Promise.reject(error as Error));
  failed.catch(() => undefined);
  const write = async (text: string) => {
    if (!file.write(text)) await Promise.race([once(file, 'drain'), failed]);
  };
  const summary = new BackfillSummaryBuilder();
  await write(csvHeader());
  for await (const line of store.lines(runId)) {
    summary.add(line);
    await write(csvLine(line));
  }
  file.end();
  await Promise.race([once(file, 'finish'), failed]);
  return summary.build({ done: totals.invoicesDone, failed: totals.invoicesFailed });
}

async function isRunning({ client }: GateContext, workflowId: string): Promise<boolean> {
  try {
    return (await client.workflow.getHandle(workflowId).describe()).status.name === 'RUNNING';
  } catch (error) {
    if (error instanceof WorkflowNotFoundError) return false;
    throw error;
  }
}

function describeRequest(request: BackfillRequest): string {
  return [
    `Backfill report: invoices created ${request.since} to ${request.until ?? 'now'}`,
    request.customer && `customer ${request.customer}`,
    `status ${request.statuses.join(',')}`,
  ]
    .filter(Boolean)
    .join(', ');
}
