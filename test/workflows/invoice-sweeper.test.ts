// The sweeper workflow on the embedded engine with a fake sweep activity: one round per interval, the
// interval the last round asked for, the end when the sweep is off, a fresh history every N rounds, and
// rounds that fail for good do not end it. The clock moves only by skipTime, so rounds are counted, not timed.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { WorkflowIdConflictPolicy, type Client } from '@temporalio/client';
import { activityInfo } from '@temporalio/activity';
import type { TemporalEmulator } from '../../emulators/temporal';
import { withActivityFailures } from '../../src/activities/activity-failure';
import type { SweepActivities, SweepResult } from '../../src/activities/sweep-missed-invoices';
import { FailureType, GateError } from '../../src/gate/failures';
import type { invoiceSweeper, SweeperInput } from '../../src/workflows/invoice-sweeper';
import { INVOICE_SWEEPER_WORKFLOW_TYPE } from '../../src/workflows/sweeper-definitions';
import { startWorkflowTestEnv, type WorkflowTestEnv } from '../support/workflow-test-env';

const MINUTE = 60_000;

/** Per sweeper (workflow id): what each round answers, in order, and how many rounds ran. */
interface FakeSweeps {
  answers: Array<number | null | 'refused'>;
  calls: number;
}

describe('invoiceSweeper', () => {
  let env: WorkflowTestEnv;
  let temporal: TemporalEmulator;
  let client: Client;
  let taskQueue: string;
  const sweeps = new Map<string, FakeSweeps>();

  const activities: SweepActivities = withActivityFailures({
    async sweepMissedInvoices(): Promise<SweepResult> {
      const fake = sweeps.get(activityInfo().workflowExecution?.workflowId ?? '')!;
      const answer = fake.answers[Math.min(fake.calls, fake.answers.length - 1)];
      fake.calls += 1;
      if (answer === 'refused') {
        throw new GateError('Stripe invoice list failed: not allowed (permission_error, HTTP 403)', {
          type: `${FailureType.stripeRejected}:permission_error`,
          retryable: false,
        });
      }
      return { found: [], listed: 0, nextSweepInMs: answer };
    },
  });

  before(async () => {
    env = await startWorkflowTestEnv('sweeper-unit', activities);
    ({ temporal, client, taskQueue } = env);
  });

  after(async () => {
    await env?.stop();
  });

  async function startSweeper(answers: FakeSweeps['answers'], input: SweeperInput) {
    const workflowId = `sweeper-${randomUUID().slice(0, 8)}`;
    const fake: FakeSweeps = { answers, calls: 0 };
    sweeps.set(workflowId, fake);
    const handle = await client.workflow.start<typeof invoiceSweeper>(INVOICE_SWEEPER_WORKFLOW_TYPE, {
      taskQueue,
      workflowId,
      args: [input],
      workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING,
    });
    return { handle, fake };
  }

  /** Waits (bounded) for the activity to have run `calls` times: it runs right after the timer that is due. */
  async function rounds(fake: FakeSweeps, calls: number): Promise<void> {
    for (let i = 0; i < 200 && fake.calls < calls; i += 1) await new Promise((resolve) => setTimeout(resolve, 25));
    assert.equal(fake.calls, calls);
  }

  test('sweeps at start, then once per interval; a changed interval counts from the next round', async () => {
    const { handle, fake } = await startSweeper([10 * MINUTE, 10 * MINUTE, 30 * MINUTE, 30 * MINUTE], {
      everyMs: 10 * MINUTE,
    });
    await rounds(fake, 1);
    await temporal.skipTime(9 * MINUTE);
    assert.equal(fake.calls, 1, 'not before the interval');
    await temporal.skipTime(1 * MINUTE);
    await rounds(fake, 2);
    await temporal.skipTime(10 * MINUTE);
    await rounds(fake, 3);
    // The third round asked for 30 minutes.
    await temporal.skipTime(20 * MINUTE);
    assert.equal(fake.calls, 3);
    await temporal.skipTime(10 * MINUTE);
    await rounds(fake, 4);
    assert.equal((await handle.describe()).status.name, 'RUNNING');
    await handle.terminate('test done');
  });

  test('ends when the sweep says it is off', async () => {
    const { handle, fake } = await startSweeper([MINUTE, MINUTE, null], { everyMs: MINUTE });
    await rounds(fake, 1);
    await temporal.skipTime(2 * MINUTE);
    assert.deepEqual(await handle.result(), { rounds: 3 });
    assert.equal(fake.calls, 3);
    assert.equal((await handle.describe()).status.name, 'COMPLETED');
  });

  test('continues as new after N rounds, carrying the interval and the round count', async () => {
    const { handle, fake } = await startSweeper([MINUTE, MINUTE, MINUTE, 5 * MINUTE, 5 * MINUTE, null], {
      everyMs: MINUTE,
      continueAsNewAfterRounds: 2,
    });
    await rounds(fake, 1);
    await temporal.skipTime(MINUTE);
    await rounds(fake, 2);
    await temporal.skipTime(MINUTE);
    await rounds(fake, 3);
    await temporal.skipTime(MINUTE);
    await rounds(fake, 4);
    await temporal.skipTime(5 * MINUTE);
    await rounds(fake, 5);
    await temporal.skipTime(5 * MINUTE);
    assert.deepEqual(await handle.result(), { rounds: 6 });

    const runs = [];
    for await (const run of client.workflow.list({ query: `WorkflowId = "${handle.workflowId}"` })) runs.push(run);
    assert.deepEqual(runs.map((r) => r.status.name).sort(), ['COMPLETED', 'CONTINUED_AS_NEW', 'CONTINUED_AS_NEW']);
    const first = await client.workflow.getHandle(handle.workflowId, handle.firstExecutionRunId).fetchHistory();
    const continued = first.events!.at(-1)!.workflowExecutionContinuedAsNewEventAttributes;
    assert.ok(continued, 'the first run continued as new');
    const carried = JSON.parse(Buffer.from(continued.input!.payloads![0].data!).toString()) as SweeperInput;
    assert.deepEqual(carried, { everyMs: MINUTE, continueAsNewAfterRounds: 2, roundsBefore: 2 });
  });

  test('a round Stripe refuses for good does not end the sweeper: the next one comes an interval later', async () => {
    const { handle, fake } = await startSweeper([10 * MINUTE, 'refused', 10 * MINUTE], { everyMs: 10 * MINUTE });
    await rounds(fake, 1);
    await temporal.skipTime(10 * MINUTE);
    await rounds(fake, 2);
    assert.equal((await handle.describe()).status.name, 'RUNNING');
    await temporal.skipTime(10 * MINUTE);
    await rounds(fake, 3);
    assert.equal((await handle.describe()).status.name, 'RUNNING');
    await handle.terminate('test done');
  });
});
