// The backfill report's public Temporal surface: workflow type and task queue. The workflow id is derived
// from the arguments (src/backfill/arguments.ts: backfillWorkflowId), so the same arguments find the same run.
export const BACKFILL_WORKFLOW_TYPE = 'invoiceBackfill';

/**
 * Backfills run on their own task queue, served by the `npm run backfill` process that asked for them:
 * the gate's workers never pick up a backfill, and a backfill never competes with live gates for slots.
 */
export function backfillTaskQueue(gateTaskQueue: string): string {
  return `${gateTaskQueue}-backfill`;
}
