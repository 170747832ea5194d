// Start: request id idempotency, workflow id reuse and conflict policies, signalWithStart,
// namespaces and system calls.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { WorkflowExecutionAlreadyStartedError, WorkflowIdConflictPolicy, WorkflowIdReusePolicy, NamespaceNotFoundError, Client } from '@temporalio/client';
import { msToTs } from '@temporalio/common/lib/time';
import { temporal } from '@temporalio/proto';
import { createTestActivities } from './activities';
import { runWorker, startTestEnv, uniqueId, type RunningWorker, type TestEnv } from './helpers';

describe('temporal conformance: start and workflow ids', () => {
  let env: TestEnv;
  let worker: RunningWorker;
  before(async () => {
    env = await startTestEnv();
    worker = await runWorker(env, { activities: createTestActivities() });
  });
  after(async () => {
    await worker?.stop();
    await env?.stop();
  });

  it('runs a workflow with an activity to completion', async () => {
    const result = await env.client.workflow.execute('greet', { taskQueue: worker.taskQueue, workflowId: uniqueId('greet'), args: ['world'] });
    assert.equal(result, 'hello world');
  });

  it('answers GetSystemInfo, DescribeNamespace and grpc health', async () => {
    const info = await env.connection.workflowService.getSystemInfo({});
    assert.ok(info.capabilities?.signalAndQueryHeader);
    const ns = await env.connection.workflowService.describeNamespace({ namespace: env.namespace });
    assert.equal(ns.namespaceInfo?.name, env.namespace);
    const health = await env.connection.healthService.check({});
    assert.equal(health.status, 1 /* SERVING */);
  });

  it('reports an unknown namespace as NamespaceNotFoundError', async () => {
    const client = new Client({ connection: env.connection, namespace: uniqueId('no-such-namespace') });
    await assert.rejects(client.workflow.start('noop', { taskQueue: worker.taskQueue, workflowId: uniqueId('ns') }), (err: Error) => {
      assert.ok(err instanceof NamespaceNotFoundError, `got ${err}`);
      return true;
    });
  });

  it('registers a namespace and rejects registering it twice', async () => {
    const name = uniqueId('ns');
    await env.connection.workflowService.registerNamespace({ namespace: name, workflowExecutionRetentionPeriod: msToTs('1 day') });
    const described = await env.connection.workflowService.describeNamespace({ namespace: name });
    assert.equal(described.namespaceInfo?.name, name);
    await assert.rejects(env.connection.workflowService.registerNamespace({ namespace: name, workflowExecutionRetentionPeriod: msToTs('1 day') }), { code: 6 });
  });

  it('rejects a second start of a running workflow id with WorkflowExecutionAlreadyStartedError', async () => {
    const workflowId = uniqueId('dup');
    const first = await env.client.workflow.start('waitForApproval', { taskQueue: worker.taskQueue, workflowId });
    await assert.rejects(env.client.workflow.start('waitForApproval', { taskQueue: worker.taskQueue, workflowId }), WorkflowExecutionAlreadyStartedError);
    await first.terminate('test over');
  });

  it('USE_EXISTING returns the running run instead of starting another', async () => {
    const workflowId = uniqueId('use-existing');
    const first = await env.client.workflow.start('waitForApproval', { taskQueue: worker.taskQueue, workflowId, workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING });
    const second = await env.client.workflow.start('waitForApproval', { taskQueue: worker.taskQueue, workflowId, workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING });
    assert.equal(second.firstExecutionRunId, first.firstExecutionRunId);
    await first.signal('approve', 'alice');
    assert.deepEqual(await first.result(), { approvedBy: 'alice', total: 0 });
  });

  it('TERMINATE_EXISTING terminates the running run and starts a new one', async () => {
    const workflowId = uniqueId('terminate-existing');
    const first = await env.client.workflow.start('waitForApproval', { taskQueue: worker.taskQueue, workflowId });
    const second = await env.client.workflow.start('waitForApproval', { taskQueue: worker.taskQueue, workflowId, workflowIdConflictPolicy: WorkflowIdConflictPolicy.TERMINATE_EXISTING });
    assert.notEqual(second.firstExecutionRunId, first.firstExecutionRunId);
    const old = await env.client.workflow.getHandle(workflowId, first.firstExecutionRunId).describe();
    assert.equal(old.status.name, 'TERMINATED');
    await second.terminate('test over');
  });

  it('a repeated request id returns the same run (idempotent start)', async () => {
    const workflowId = uniqueId('request-id');
    const request = {
      namespace: env.namespace,
      workflowId,
      workflowType: { name: 'noop' },
      taskQueue: { name: worker.taskQueue },
      requestId: uniqueId('req'),
      identity: 'test',
    };
    const a = await env.connection.workflowService.startWorkflowExecution(request);
    const b = await env.connection.workflowService.startWorkflowExecution(request);
    assert.equal(a.runId, b.runId);
  });

  it('applies workflow id reuse policies to closed workflows', async () => {
    const workflowId = uniqueId('reuse');
    await env.client.workflow.execute('noop', { taskQueue: worker.taskQueue, workflowId });
    await assert.rejects(
      env.client.workflow.start('noop', { taskQueue: worker.taskQueue, workflowId, workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE }),
      WorkflowExecutionAlreadyStartedError,
    );
    await assert.rejects(
      env.client.workflow.start('noop', { taskQueue: worker.taskQueue, workflowId, workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE_FAILED_ONLY }),
      WorkflowExecutionAlreadyStartedError,
    );
    assert.equal(await env.client.workflow.execute('noop', { taskQueue: worker.taskQueue, workflowId }), 'done');

    const failedId = uniqueId('reuse-failed');
    await assert.rejects(env.client.workflow.execute('failsWith', { taskQueue: worker.taskQueue, workflowId: failedId, args: ['boom'] }));
    const again = await env.client.workflow.start('noop', { taskQueue: worker.taskQueue, workflowId: failedId, workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE_FAILED_ONLY });
    assert.equal(await again.result(), 'done');
  });

  it('signalWithStart starts with the signal delivered first, then signals the running run', async () => {
    const workflowId = uniqueId('sws');
    const handle = await env.client.workflow.signalWithStart('waitForApproval', { taskQueue: worker.taskQueue, workflowId, signal: 'add', signalArgs: [5] });
    const again = await env.client.workflow.signalWithStart('waitForApproval', { taskQueue: worker.taskQueue, workflowId, signal: 'add', signalArgs: [7] });
    assert.equal(again.signaledRunId, handle.signaledRunId);
    await handle.signal('approve', 'bob');
    assert.deepEqual(await handle.result(), { approvedBy: 'bob', total: 12 });
    const history = await handle.fetchHistory();
    assert.equal(history.events?.[1].eventType, temporal.api.enums.v1.EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED);
  });
});
