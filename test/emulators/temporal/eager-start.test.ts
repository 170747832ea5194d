// Eager workflow start (issue 14): with requestEagerStart and a client sharing the worker's
// NativeConnection, the first workflow task comes back in the StartWorkflowExecution response and
// the worker in this process runs it without polling for it.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Client } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { createTestActivities } from './activities';
import { runWorker, uniqueId, uniqueTaskQueue, useEnvWithWorker } from './helpers';

const EventType = temporal.api.enums.v1.EventType;
const TaskQueueKind = temporal.api.enums.v1.TaskQueueKind;

describe('temporal conformance: eager workflow start', () => {
  const suite = useEnvWithWorker(createTestActivities());
  // Eager start needs the client on the worker's connection (the SDK reserves a worker slot first).
  const sharedClient = () => new Client({ connection: suite.env.nativeConnection, namespace: suite.env.namespace });

  it('hands the first workflow task to the worker in the start response', async () => {
    const handle = await sharedClient().workflow.start('greet', {
      taskQueue: suite.worker.taskQueue,
      workflowId: uniqueId('eager'),
      args: ['eager'],
      requestEagerStart: true,
    });
    assert.equal(handle.eagerlyStarted, true);
    assert.equal(await handle.result(), 'hello eager');
    const types = (await handle.fetchHistory()).events!.map((e) => e.eventType);
    assert.deepEqual(types.slice(0, 4), [
      EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED,
      EventType.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED,
      EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED,
      EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED,
    ]);
    // The worker ran the eager task itself: no timed-out or failed first attempt retried via the queue.
    assert.ok(
      !types.includes(EventType.EVENT_TYPE_WORKFLOW_TASK_TIMED_OUT) &&
        !types.includes(EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED),
    );
  });

  it('starts normally when the request finds the workflow already running (USE_EXISTING)', async () => {
    const client = sharedClient();
    const workflowId = uniqueId('eager-existing');
    const first = await client.workflow.start('waitForApproval', { taskQueue: suite.worker.taskQueue, workflowId });
    const again = await client.workflow.start('waitForApproval', {
      taskQueue: suite.worker.taskQueue,
      workflowId,
      requestEagerStart: true,
      workflowIdConflictPolicy: 'USE_EXISTING',
    });
    assert.equal(again.eagerlyStarted, false);
    assert.equal(again.firstExecutionRunId, first.firstExecutionRunId);
    await again.signal('approve', 'erin');
    assert.deepEqual(await again.result(), { approvedBy: 'erin', total: 0 });
  });

  it('hands the task to whoever asked, even with no worker polling; a dropped task times out to the queue', async () => {
    // Asked for by hand, as the server sees any request: it does not check for pollers (the SDK
    // asks only after reserving a slot in a worker of its own).
    const taskQueue = uniqueTaskQueue('eager-raw');
    const workflowId = uniqueId('eager-raw');
    const response = await suite.env.connection.workflowService.startWorkflowExecution({
      namespace: suite.env.namespace,
      workflowId,
      workflowType: { name: 'noop' },
      taskQueue: { name: taskQueue, kind: TaskQueueKind.TASK_QUEUE_KIND_NORMAL },
      workflowTaskTimeout: { nanos: 500_000_000 },
      requestId: uniqueId('request'),
      identity: 'conformance',
      requestEagerExecution: true,
    });
    assert.ok(response.eagerWorkflowTask?.taskToken, 'the first task comes back in the response');
    // Nobody runs it: it times out and the retry waits in the queue for the first worker that polls.
    const worker = await runWorker(suite.env, { activities: createTestActivities(), taskQueue });
    try {
      const handle = suite.env.client.workflow.getHandle(workflowId);
      assert.equal(await handle.result(), 'done');
      const types = (await handle.fetchHistory()).events!.map((e) => e.eventType);
      assert.ok(types.includes(EventType.EVENT_TYPE_WORKFLOW_TASK_TIMED_OUT));
    } finally {
      await worker.stop();
    }
  });
});
