// A rejected Update while the workflow waits on an activity. If the activity's result arrives while
// the task carrying the update is in flight, the server converts that speculative task to a normal
// one: its Scheduled/Started stay, the completion writes WorkflowTaskCompleted, and the result goes
// to the workflow in the next task. If the result comes after the rejection, the rejected task
// leaves no trace and the result simply follows.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CompleteAsyncError, Context } from '@temporalio/activity';
import { WorkflowUpdateFailedError, type WorkflowHandle } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { bundleWorkflowCode, type InjectedSinks } from '@temporalio/worker';
import {
  coreErrors,
  flushCoreLogs,
  runWorker,
  startTestEnv,
  uniqueId,
  type RunningWorker,
  type TestEnv,
} from './helpers';
import type { RejectionSinks, SlowStepActivities, blockedOnActivityWorkflow } from './sample-workflows';

const EventType = temporal.api.enums.v1.EventType;

const BEFORE_THE_UPDATE = [
  '1 EVENT_TYPE_WORKFLOW_EXECUTION_STARTED',
  '2 EVENT_TYPE_WORKFLOW_TASK_SCHEDULED',
  '3 EVENT_TYPE_WORKFLOW_TASK_STARTED',
  '4 EVENT_TYPE_WORKFLOW_TASK_COMPLETED',
  '5 EVENT_TYPE_ACTIVITY_TASK_SCHEDULED',
];

async function history(handle: WorkflowHandle): Promise<string[]> {
  const events = (await handle.fetchHistory()).events ?? [];
  return events.map((e) => `${String(e.eventId)} ${EventType[e.eventType!]}`);
}

describe('temporal conformance: a rejected update while the workflow waits on an activity', () => {
  let env: TestEnv;
  let worker: RunningWorker;
  let tokenReady: (token: Uint8Array) => void = () => {};
  // What the validator's sink does while the rejecting task is in flight (the worker waits for it).
  let onRejected: () => Promise<void> = async () => {};
  const activities: SlowStepActivities = {
    async slowStep() {
      tokenReady(Context.current().info.taskToken);
      throw new CompleteAsyncError();
    },
  };
  const sinks: InjectedSinks<RejectionSinks> = {
    rejections: { rejected: { fn: () => onRejected() } },
  };
  before(async () => {
    env = await startTestEnv();
    const workflowBundle = await bundleWorkflowCode({
      workflowsPath: require.resolve('./sample-workflows'),
      logger: { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error() {} } as any,
    });
    worker = await runWorker(env, { workflowBundle, activities, sinks });
  });
  after(async () => {
    await worker?.stop();
    await env?.stop();
  });

  /** Starts the workflow and returns it with the task token of the activity it waits on. */
  async function startBlocked(): Promise<{ handle: WorkflowHandle; token: Uint8Array }> {
    const token = new Promise<Uint8Array>((resolve) => (tokenReady = resolve));
    const handle = await env.client.workflow.start<typeof blockedOnActivityWorkflow>('blockedOnActivityWorkflow', {
      taskQueue: worker.taskQueue,
      workflowId: uniqueId('blocked-on-activity'),
    });
    return { handle, token: await token };
  }

  async function rejectUpdate(handle: WorkflowHandle): Promise<void> {
    await assert.rejects(handle.executeUpdate('decide', { args: ['maybe'] }), (err: unknown) => {
      assert.ok(err instanceof WorkflowUpdateFailedError);
      assert.match(String((err.cause as Error)?.message), /refused maybe/);
      return true;
    });
  }

  it('the result arriving during the rejecting task reaches the workflow; that task stays in history', async () => {
    const { handle, token } = await startBlocked();
    assert.equal(await handle.query('step'), 'waiting');
    const coreErrorsBefore = coreErrors.length;
    onRejected = () => env.client.activity.complete(token, 'step done');
    try {
      await rejectUpdate(handle);
    } finally {
      onRejected = async () => {};
    }
    assert.equal(await handle.result(), 'step done');
    assert.deepEqual(await history(handle), [
      ...BEFORE_THE_UPDATE,
      '6 EVENT_TYPE_WORKFLOW_TASK_SCHEDULED',
      '7 EVENT_TYPE_WORKFLOW_TASK_STARTED',
      '8 EVENT_TYPE_WORKFLOW_TASK_COMPLETED',
      '9 EVENT_TYPE_ACTIVITY_TASK_STARTED',
      '10 EVENT_TYPE_ACTIVITY_TASK_COMPLETED',
      '11 EVENT_TYPE_WORKFLOW_TASK_SCHEDULED',
      '12 EVENT_TYPE_WORKFLOW_TASK_STARTED',
      '13 EVENT_TYPE_WORKFLOW_TASK_COMPLETED',
      '14 EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED',
    ]);
    await flushCoreLogs();
    assert.deepEqual(coreErrors.slice(coreErrorsBefore), [], 'core logged no error');
  });

  it('the result arriving after the rejection reaches the workflow; the rejected task leaves no trace', async () => {
    const { handle, token } = await startBlocked();
    const coreErrorsBefore = coreErrors.length;
    await rejectUpdate(handle);
    assert.deepEqual(await history(handle), BEFORE_THE_UPDATE);
    await env.client.activity.complete(token, 'step done');
    assert.equal(await handle.result(), 'step done');
    assert.deepEqual(await history(handle), [
      ...BEFORE_THE_UPDATE,
      '6 EVENT_TYPE_ACTIVITY_TASK_STARTED',
      '7 EVENT_TYPE_ACTIVITY_TASK_COMPLETED',
      '8 EVENT_TYPE_WORKFLOW_TASK_SCHEDULED',
      '9 EVENT_TYPE_WORKFLOW_TASK_STARTED',
      '10 EVENT_TYPE_WORKFLOW_TASK_COMPLETED',
      '11 EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED',
    ]);
    await flushCoreLogs();
    assert.deepEqual(coreErrors.slice(coreErrorsBefore), [], 'core logged no error');
  });
});
