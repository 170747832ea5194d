// Start: request id idempotency, workflow id reuse and conflict policies, signalWithStart,
// namespaces and system calls.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  WorkflowExecutionAlreadyStartedError,
  WorkflowIdConflictPolicy,
  WorkflowIdReusePolicy,
  NamespaceNotFoundError,
  Client,
} from '@temporalio/client';
import { msToTs } from '@temporalio/common/lib/time';
import { temporal } from '@temporalio/proto';
import { createTestActivities } from './activities';
import { uniqueId, useEnvWithWorker } from './helpers';

describe('temporal conformance: start and workflow ids', () => {
  const suite = useEnvWithWorker(createTestActivities());

  it('runs a workflow with an activity to completion', async () => {
    const result = await suite.env.client.workflow.execute('greet', {
      taskQueue: suite.worker.taskQueue,
      workflowId: uniqueId('greet'),
      args: ['world'],
    });
    assert.equal(result, 'hello world');
  });

  it('answers GetSystemInfo, DescribeNamespace and grpc health', async () => {
    const info = await suite.env.connection.workflowService.getSystemInfo({});
    assert.ok(info.capabilities?.signalAndQueryHeader);
    const ns = await suite.env.connection.workflowService.describeNamespace({ namespace: suite.env.namespace });
    assert.equal(ns.namespaceInfo?.name, suite.env.namespace);
    const health = await suite.env.connection.healthService.check({});
    assert.equal(health.status, 1 /* SERVING */);
  });

  it('reports an unknown namespace as NamespaceNotFoundError', async () => {
    const client = new Client({ connection: suite.env.connection, namespace: uniqueId('no-such-namespace') });
    await assert.rejects(
      client.workflow.start('noop', { taskQueue: suite.worker.taskQueue, workflowId: uniqueId('ns') }),
      (err: Error) => {
        assert.ok(err instanceof NamespaceNotFoundError, `got ${err}`);
        return true;
      },
    );
  });

  it('registers a namespace and rejects registering it twice', async () => {
    const name = uniqueId('ns');
    await suite.env.connection.workflowService.registerNamespace({
      namespace: name,
      workflowExecutionRetentionPeriod: msToTs('1 day'),
    });
    const described = await suite.env.connection.workflowService.describeNamespace({ namespace: name });
    assert.equal(described.namespaceInfo?.name, name);
    await assert.rejects(
      suite.env.connection.workflowService.registerNamespace({
        namespace: name,
        workflowExecutionRetentionPeriod: msToTs('1 day'),
      }),
      { code: 6 },
    );
  });

  it('rejects a second start of a running workflow id with WorkflowExecutionAlreadyStartedError', async () => {
    const workflowId = uniqueId('dup');
    const first = await suite.env.client.workflow.start('waitForApproval', {
      taskQueue: suite.worker.taskQueue,
      workflowId,
    });
    await assert.rejects(
      suite.env.client.workflow.start('waitForApproval', { taskQueue: suite.worker.taskQueue, workflowId }),
      WorkflowExecutionAlreadyStartedError,
    );
    await first.terminate('test over');
  });

  it('USE_EXISTING returns the running run instead of starting another', async () => {
    const workflowId = uniqueId('use-existing');
    const first = await suite.env.client.workflow.start('waitForApproval', {
      taskQueue: suite.worker.taskQueue,
      workflowId,
      workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING,
    });
    const second = await suite.env.client.workflow.start('waitForApproval', {
      taskQueue: suite.worker.taskQueue,
      workflowId,
      workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING,
    });
    assert.equal(second.firstExecutionRunId, first.firstExecutionRunId);
    await first.signal('approve', 'alice');
    assert.deepEqual(await first.result(), { approvedBy: 'alice', total: 0 });
  });

  it('TERMINATE_EXISTING terminates the running run and starts a new one', async () => {
    const workflowId = uniqueId('terminate-existing');
    const first = await suite.env.client.workflow.start('waitForApproval', {
      taskQueue: suite.worker.taskQueue,
      workflowId,
    });
    const second = await suite.env.client.workflow.start('waitForApproval', {
      taskQueue: suite.worker.taskQueue,
      workflowId,
      workflowIdConflictPolicy: WorkflowIdConflictPolicy.TERMINATE_EXISTING,
    });
    assert.notEqual(second.firstExecutionRunId, first.firstExecutionRunId);
    const old = await suite.env.client.workflow.getHandle(workflowId, first.firstExecutionRunId).describe();
    assert.equal(old.status.name, 'TERMINATED');
    await second.terminate('test over');
  });

  it('a repeated request id returns the same run (idempotent start)', async () => {
    const workflowId = uniqueId('request-id');
    const request = {
      namespace: suite.env.namespace,
      workflowId,
      workflowType: { name: 'noop' },
      taskQueue: { name: suite.worker.taskQueue },
      requestId: uniqueId('req'),
      identity: 'test',
    };
    const a = await suite.env.connection.workflowService.startWorkflowExecution(request);
    const b = await suite.env.connection.workflowService.startWorkflowExecution(request);
    assert.equal(a.runId, b.runId);
  });

  it('applies workflow id reuse policies to closed workflows', async () => {
    const workflowId = uniqueId('reuse');
    await suite.env.client.workflow.execute('noop', { taskQueue: suite.worker.taskQueue, workflowId });
    await assert.rejects(
      suite.env.client.workflow.start('noop', {
        taskQueue: suite.worker.taskQueue,
        workflowId,
        workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
      }),
      WorkflowExecutionAlreadyStartedError,
    );
    await assert.rejects(
      suite.env.client.workflow.start('noop', {
        taskQueue: suite.worker.taskQueue,
        workflowId,
        workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE_FAILED_ONLY,
      }),
      WorkflowExecutionAlreadyStartedError,
    );
    assert.equal(
      await suite.env.client.workflow.execute('noop', { taskQueue: suite.worker.taskQueue, workflowId }),
      'done',
    );

    const failedId = uniqueId('reuse-failed');
    await assert.rejects(
      suite.env.client.workflow.execute('failsWith', {
        taskQueue: suite.worker.taskQueue,
        workflowId: failedId,
        args: ['boom'],
      }),
    );
    const again = await suite.env.client.workflow.start('noop', {
      taskQueue: suite.worker.taskQueue,
      workflowId: failedId,
      workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE_FAILED_ONLY,
    });
    assert.equal(await again.result(), 'done');
  });

  it('signalWithStart starts with the signal delivered first, then signals the running run', async () => {
    const workflowId = uniqueId('sws');
    const handle = await suite.env.client.workflow.signalWithStart('waitForApproval', {
      taskQueue: suite.worker.taskQueue,
      workflowId,
      signal: 'add',
      signalArgs: [5],
    });
    const again = await suite.env.client.workflow.signalWithStart('waitForApproval', {
      taskQueue: suite.worker.taskQueue,
      workflowId,
      signal: 'add',
      signalArgs: [7],
    });
    assert.equal(again.signaledRunId, handle.signaledRunId);
    await handle.signal('approve', 'bob');
    assert.deepEqual(await handle.result(), { approvedBy: 'bob', total: 12 });
    const history = await handle.fetchHistory();
    assert.equal(history.events?.[1].eventType, temporal.api.enums.v1.EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED);
  });
});
