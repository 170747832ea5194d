// Activity operator controls (issue 25, item 10): PauseActivity keeps a pending activity from
// being dispatched until UnpauseActivity; ResetActivity starts its attempts again at 1, now.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { WorkflowHandle } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { bundleWorkflowCode } from '@temporalio/worker';
import { createTestActivities } from './activities';
import {
  eventually,
  runWorker,
  startTestEnv,
  uniqueId,
  uniqueTaskQueue,
  type RunningWorker,
  type TestEnv,
} from './helpers';
import type * as wf from './workflow-info-workflows';

const PendingActivityState = temporal.api.enums.v1.PendingActivityState;

describe('temporal conformance: activity pause, unpause and reset', () => {
  let env: TestEnv;
  let worker: RunningWorker;
  let workflowBundle: { code: string };
  before(async () => {
    env = await startTestEnv();
    workflowBundle = await bundleWorkflowCode({
      workflowsPath: require.resolve('./workflow-info-workflows'),
      logger: { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error() {} } as any,
    });
    worker = await runWorker(env, { activities: createTestActivities(), workflowBundle });
  });
  after(async () => {
    await worker?.stop();
    await env?.stop();
  });

  const pending = async (handle: WorkflowHandle) => (await handle.describe()).raw.pendingActivities ?? [];
  const activityRequest = (handle: WorkflowHandle) => ({
    namespace: env.namespace,
    execution: { workflowId: handle.workflowId },
    identity: 'operator',
    id: '1',
  });

  it('a paused activity is not dispatched until it is unpaused', async () => {
    const activityQueue = uniqueTaskQueue('paused-activities');
    const handle = await env.client.workflow.start<typeof wf.runsActivityOn>('runsActivityOn', {
      taskQueue: worker.taskQueue,
      workflowId: uniqueId('paused'),
      args: [activityQueue],
    });
    await eventually(async () => (await pending(handle)).length === 1);
    await env.connection.workflowService.pauseActivity({ ...activityRequest(handle), reason: 'checking' });
    const [paused] = await pending(handle);
    assert.equal(paused.paused, true);
    assert.equal(paused.state, PendingActivityState.PENDING_ACTIVITY_STATE_PAUSED);

    const activityWorker = await runWorker(env, { activities: createTestActivities(), taskQueue: activityQueue });
    try {
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      assert.equal((await handle.describe()).status.name, 'RUNNING', 'a worker polls, but the activity stays paused');
      await env.connection.workflowService.unpauseActivity(activityRequest(handle));
      assert.equal(await handle.result(), 'ran');
    } finally {
      await activityWorker.stop();
    }
  });

  it('a reset activity waiting for its retry runs again now, from attempt 1', async () => {
    const handle = await env.client.workflow.start<typeof wf.retriesSlowly>('retriesSlowly', {
      taskQueue: worker.taskQueue,
      workflowId: uniqueId('reset'),
      args: [uniqueId('reset-key')],
    });
    // The first attempt failed; the next would come in an hour.
    await eventually(async () => (await pending(handle))[0]?.attempt === 2);
    await env.connection.workflowService.resetActivity({ ...activityRequest(handle), resetHeartbeat: true });
    assert.equal(await handle.result(), 'succeeded on attempt 1');
  });

  it('a running activity learns it was paused from its heartbeat; its retry waits for unpause', async () => {
    const handle = await env.client.workflow.start<typeof wf.heartbeatsUntilStopped>('heartbeatsUntilStopped', {
      taskQueue: worker.taskQueue,
      workflowId: uniqueId('pause-running'),
    });
    await eventually(
      async () => (await pending(handle))[0]?.state === PendingActivityState.PENDING_ACTIVITY_STATE_STARTED,
    );
    await env.connection.workflowService.pauseActivity(activityRequest(handle));
    assert.equal((await pending(handle))[0].state, PendingActivityState.PENDING_ACTIVITY_STATE_PAUSE_REQUESTED);
    // The worker stops the attempt ("Activity paused"); the next one is held back.
    const paused = await eventually(async () => {
      const [act] = await pending(handle);
      return act?.state === PendingActivityState.PENDING_ACTIVITY_STATE_PAUSED && act.attempt === 2 ? act : undefined;
    });
    assert.equal(paused.lastFailure?.message, 'Activity paused');
    await new Promise((resolve) => setTimeout(resolve, 500));
    assert.equal((await pending(handle))[0].state, PendingActivityState.PENDING_ACTIVITY_STATE_PAUSED);
    await env.connection.workflowService.unpauseActivity(activityRequest(handle));
    await eventually(async () => {
      const [act] = await pending(handle);
      return act?.state === PendingActivityState.PENDING_ACTIVITY_STATE_STARTED && act.attempt === 2;
    });
    // Reset while running: the worker stops the attempt and it starts over at attempt 1 right away.
    await env.connection.workflowService.resetActivity(activityRequest(handle));
    await eventually(async () => {
      const [act] = await pending(handle);
      return (
        act?.state === PendingActivityState.PENDING_ACTIVITY_STATE_STARTED &&
        act.attempt === 1 &&
        act.lastFailure?.message === 'Activity reset'
      );
    });
    await handle.terminate('test done');
  });

  it('answers NOT_FOUND for an activity that is not pending', async () => {
    const handle = await env.client.workflow.start<typeof wf.reportsPriority>('reportsPriority', {
      taskQueue: worker.taskQueue,
      workflowId: uniqueId('nothing-pending'),
    });
    await handle.result();
    for (const call of [
      () => env.connection.workflowService.pauseActivity(activityRequest(handle)),
      () => env.connection.workflowService.unpauseActivity(activityRequest(handle)),
      () => env.connection.workflowService.resetActivity(activityRequest(handle)),
    ]) {
      await assert.rejects(call(), { code: 5 });
    }
  });
});
