// Workflow lifecycle: complete, fail, terminate, cancel request, continue-as-new, patch markers,
// sdkMetadata kept in history, and workflow task failures the server retries.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { WorkflowFailedError } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { createTestActivities } from './activities';
import { eventually, uniqueId, useEnvWithWorker } from './helpers';

const EventType = temporal.api.enums.v1.EventType;

describe('temporal conformance: workflow lifecycle', () => {
  const suite = useEnvWithWorker(createTestActivities());

  it('numbers history events from 1 with times and keeps sdkMetadata on task completion', async () => {
    const handle = await suite.env.client.workflow.start('greet', {
      taskQueue: suite.worker.taskQueue,
      workflowId: uniqueId('history'),
      args: ['h'],
    });
    await handle.result();
    const events = (await handle.fetchHistory()).events!;
    events.forEach((e, i) => {
      assert.equal(Number(e.eventId), i + 1);
      assert.ok(e.eventTime?.seconds);
    });
    const types = events.map((e) => e.eventType);
    assert.deepEqual(types.slice(0, 3), [
      EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED,
      EventType.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED,
      EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED,
    ]);
    assert.equal(types.at(-1), EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED);
    const started = events[0].workflowExecutionStartedEventAttributes!;
    assert.equal(started.attempt, 1);
    assert.equal(started.originalExecutionRunId, handle.firstExecutionRunId);
    assert.ok(started.workflowTaskTimeout?.seconds);
    const completed = events.find((e) => e.eventType === EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED)!;
    assert.ok(completed.workflowTaskCompletedEventAttributes?.sdkMetadata, 'sdkMetadata kept');
  });

  it('fails a workflow with its application failure', async () => {
    await assert.rejects(
      suite.env.client.workflow.execute('failsWith', {
        taskQueue: suite.worker.taskQueue,
        workflowId: uniqueId('fail'),
        args: ['bad invoice'],
      }),
      (err: Error) => {
        assert.ok(err instanceof WorkflowFailedError);
        assert.equal((err.cause as any)?.type, 'GateError');
        assert.equal(err.cause?.message, 'bad invoice');
        return true;
      },
    );
  });

  it('terminates a workflow', async () => {
    const handle = await suite.env.client.workflow.start('waitForApproval', {
      taskQueue: suite.worker.taskQueue,
      workflowId: uniqueId('terminate'),
    });
    await handle.terminate('operator said so');
    await assert.rejects(handle.result(), (err: Error) => {
      assert.ok(err instanceof WorkflowFailedError);
      assert.equal(err.cause?.name, 'TerminatedFailure');
      return true;
    });
    const last = (await handle.fetchHistory()).events!.at(-1)!;
    assert.equal(last.workflowExecutionTerminatedEventAttributes?.reason, 'operator said so');
  });

  it('delivers a cancel request; the workflow cleans up and ends canceled', async () => {
    const handle = await suite.env.client.workflow.start('cancellable', {
      taskQueue: suite.worker.taskQueue,
      workflowId: uniqueId('cancel'),
    });
    await eventually(async () => (await handle.describe()).historyLength > 3);
    await handle.cancel();
    await assert.rejects(handle.result(), (err: Error) => {
      assert.ok(err instanceof WorkflowFailedError);
      assert.equal(err.cause?.name, 'CancelledFailure');
      return true;
    });
    assert.equal((await handle.describe()).status.name, 'CANCELLED');
    const types = (await handle.fetchHistory()).events!.map((e) => e.eventType);
    assert.ok(types.includes(EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CANCEL_REQUESTED));
    assert.ok(types.includes(EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED), 'cleanup activity ran');
  });

  it('continues as new, and result() follows the chain', async () => {
    const handle = await suite.env.client.workflow.start('counter', {
      taskQueue: suite.worker.taskQueue,
      workflowId: uniqueId('can'),
      args: [0, 3],
    });
    assert.equal(await handle.result(), 3);
    const first = await suite.env.client.workflow.getHandle(handle.workflowId, handle.firstExecutionRunId).describe();
    assert.equal(first.status.name, 'CONTINUED_AS_NEW');
    const current = await suite.env.client.workflow.getHandle(handle.workflowId).describe();
    assert.equal(current.status.name, 'COMPLETED');
    assert.notEqual(current.runId, handle.firstExecutionRunId);
  });

  it('records patch markers', async () => {
    const handle = await suite.env.client.workflow.start('patchedWorkflow', {
      taskQueue: suite.worker.taskQueue,
      workflowId: uniqueId('patch'),
    });
    assert.equal(await handle.result(), 'new path');
    const marker = (await handle.fetchHistory()).events!.find(
      (e) => e.eventType === EventType.EVENT_TYPE_MARKER_RECORDED,
    );
    assert.equal(marker?.markerRecordedEventAttributes?.markerName, 'core_patch');
  });

  it('records a failed workflow task and retries it', async () => {
    const handle = await suite.env.client.workflow.start('brokenWorkflow', {
      taskQueue: suite.worker.taskQueue,
      workflowId: uniqueId('broken'),
    });
    const failed = await eventually(async () =>
      (await handle.fetchHistory()).events!.find((e) => e.eventType === EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED),
    );
    assert.match(failed.workflowTaskFailedEventAttributes?.failure?.message ?? '', /a bug in workflow code/);
    const d = await handle.describe();
    assert.equal(d.status.name, 'RUNNING');
    assert.ok(d.raw.pendingWorkflowTask, 'a retry is pending');
    await handle.terminate();
  });

  it('reads memo and search attributes inside the workflow and upserts memo', async () => {
    const handle = await suite.env.client.workflow.start('infoEcho', {
      taskQueue: suite.worker.taskQueue,
      workflowId: uniqueId('info'),
      memo: { a: 1 },
    });
    assert.deepEqual(await handle.result(), { memo: { a: 1 }, attributes: null, attempt: 1, continued: null });
    assert.deepEqual((await handle.describe()).memo, { a: 1, touched: true });
  });

  it('runs child workflows and reports their results and failures to the parent', async () => {
    const workflowId = uniqueId('parent');
    assert.equal(
      await suite.env.client.workflow.execute('parentOfGreet', {
        taskQueue: suite.worker.taskQueue,
        workflowId,
        args: ['kid'],
      }),
      'hello kid',
    );
    const child = await suite.env.client.workflow.getHandle(`${workflowId}-child`).describe();
    assert.equal(child.status.name, 'COMPLETED');
    assert.equal(child.parentExecution?.workflowId, workflowId);
    assert.equal(
      await suite.env.client.workflow.execute('parentOfFailure', {
        taskQueue: suite.worker.taskQueue,
        workflowId: uniqueId('parent-fail'),
      }),
      'ChildWorkflowFailure: child broke',
    );
  });

  it('terminates running children when the parent closes (default parent close policy)', async () => {
    const childId = await suite.env.client.workflow.execute('parentLeavesChild', {
      taskQueue: suite.worker.taskQueue,
      workflowId: uniqueId('parent-close'),
    });
    const child = await eventually(async () => {
      const d = await suite.env.client.workflow.getHandle(childId).describe();
      return d.status.name !== 'RUNNING' && d;
    });
    assert.equal(child.status.name, 'TERMINATED');
  });
});
