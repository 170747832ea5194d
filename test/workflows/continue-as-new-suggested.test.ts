// The gate's long-running workflows continue as new when Temporal suggests it, not only after their
// own round counts: the sweeper on an engine that suggests continue-as-new after a few dozen
// history events (Temporal Server suggests it at 4096 events or 4 MiB).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { temporal as proto } from '@temporalio/proto';
import { withActivityFailures } from '../../src/activities/activity-failure';
import type { SweepActivities, SweepResult } from '../../src/activities/sweep-missed-invoices';
import type { invoiceSweeper, SweeperInput } from '../../src/workflows/invoice-sweeper';
import { INVOICE_SWEEPER_WORKFLOW_TYPE } from '../../src/workflows/sweeper-definitions';
import { startWorkflowTestEnv, type WorkflowTestEnv } from '../support/workflow-test-env';

const MINUTE = 60_000;
const SUGGEST_AT_EVENTS = 30;
const ROUNDS = 8;

let env: WorkflowTestEnv;
let calls = 0;

const activities: SweepActivities = withActivityFailures({
  async sweepMissedInvoices(): Promise<SweepResult> {
    calls += 1;
    return { found: [], listed: 0, nextSweepInMs: calls < ROUNDS ? MINUTE : null };
  },
});

before(async () => {
  env = await startWorkflowTestEnv('sweeper-can', activities, {
    continueAsNewSuggestedAt: { historyLength: SUGGEST_AT_EVENTS },
  });
});

after(async () => {
  await env?.stop();
});

async function roundsDone(n: number): Promise<void> {
  for (let i = 0; i < 200 && calls < n; i += 1) await new Promise((resolve) => setTimeout(resolve, 25));
  assert.equal(calls, n);
}

test('the sweeper continues as new when Temporal suggests it, long before its own round limit', async () => {
  const { client, taskQueue, temporal } = env;
  const input: SweeperInput = { everyMs: MINUTE, continueAsNewAfterRounds: 100 };
  const handle = await client.workflow.start<typeof invoiceSweeper>(INVOICE_SWEEPER_WORKFLOW_TYPE, {
    taskQueue,
    workflowId: `sweeper-${randomUUID().slice(0, 8)}`,
    args: [input],
  });
  for (let round = 1; round < ROUNDS; round += 1) {
    await roundsDone(round);
    await temporal.skipTime(MINUTE);
  }
  assert.deepEqual(await handle.result(), { rounds: ROUNDS });

  const first = await client.workflow.getHandle(handle.workflowId, handle.firstExecutionRunId).fetchHistory();
  const events = first.events!;
  const continued = events.at(-1)!.workflowExecutionContinuedAsNewEventAttributes;
  assert.ok(continued, 'the first run continued as new');
  const carried = JSON.parse(Buffer.from(continued.input!.payloads![0].data!).toString()) as SweeperInput;
  assert.ok(carried.roundsBefore! > 0 && carried.roundsBefore! < ROUNDS, `after ${carried.roundsBefore} rounds`);
  // It went because of the suggestion: the last workflow task of the run carried it.
  const lastStarted = events
    .filter((e) => e.eventType === proto.api.enums.v1.EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED)
    .at(-1);
  assert.equal(lastStarted?.workflowTaskStartedEventAttributes?.suggestContinueAsNew, true);
});
