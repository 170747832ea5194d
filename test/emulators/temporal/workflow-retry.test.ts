// Workflow retry policies (issue 25): a run that fails or times out is retried by the server as a
// new run (attempt + 1, the failure as workflowInfo().lastFailure) until the policy says stop.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { WorkflowFailedError, type WorkflowStartOptions } from '@temporalio/client';
import { RetryState } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import { bundleWorkflowCode } from '@temporalio/worker';
import { runWorker, startTestEnv, uniqueId, type RunningWorker, type TestEnv } from './helpers';
import type * as wf from './workflow-info-workflows';

const EventType = temporal.api.enums.v1.EventType;
const quickRetries = { initialInterval: 10, backoffCoefficient: 2, maximumAttempts: 5 };

describe('temporal conformance: workflow retry policy', () => {
  let env: TestEnv;
  let worker: RunningWorker;
  before(async () => {
    env = await startTestEnv();
    const workflowBundle = await bundleWorkflowCode({
      workflowsPath: require.resolve('./workflow-info-workflows'),
      logger: { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error() {} } as any,
    });
    worker = await runWorker(env, { workflowBundle });
  });
  after(async () => {
    await worker?.stop();
    await env?.stop();
  });
  const start = <F extends (...args: any[]) => Promise<any>>(
    fn: string,
    args: Parameters<F>,
    extra: Partial<WorkflowStartOptions<F>> = {},
  ) =>
    env.client.workflow.start<F>(fn, {
      taskQueue: worker.taskQueue,
      workflowId: uniqueId(fn),
      args,
      ...extra,
    } as WorkflowStartOptions<F>);

  it('retries a failed run as a new run that sees the last failure', async () => {
    const handle = await start<typeof wf.failsThenReportsLastFailure>('failsThenReportsLastFailure', [2], {
      retry: quickRetries,
    });
    assert.deepEqual(await handle.result(), { attempt: 3, lastFailure: 'attempt 2 failed' });
    // The first run closed as failed, pointing at its retry.
    const first = env.client.workflow.getHandle(handle.workflowId, handle.firstExecutionRunId);
    assert.equal((await first.describe()).status.name, 'FAILED');
    const events = (await first.fetchHistory()).events!;
    const failed = events.find((e) => e.eventType === EventType.EVENT_TYPE_WORKFLOW_EXECUTION_FAILED)!;
    const attrs = failed.workflowExecutionFailedEventAttributes!;
    assert.equal(attrs.retryState, temporal.api.enums.v1.RetryState.RETRY_STATE_IN_PROGRESS);
    assert.ok(attrs.newExecutionRunId);
    const second = await env.client.workflow.getHandle(handle.workflowId, attrs.newExecutionRunId!).fetchHistory();
    const started = second.events![0].workflowExecutionStartedEventAttributes!;
    assert.equal(started.attempt, 2);
    assert.equal(started.initiator, temporal.api.enums.v1.ContinueAsNewInitiator.CONTINUE_AS_NEW_INITIATOR_RETRY);
    assert.equal(started.continuedExecutionRunId, handle.firstExecutionRunId);
    assert.equal(started.firstExecutionRunId, handle.firstExecutionRunId);
    assert.ok(
      Number(started.firstWorkflowTaskBackoff?.nanos ?? 0) > 0 ||
        Number(started.firstWorkflowTaskBackoff?.seconds ?? 0) > 0,
    );
  });

  it('stops at maximumAttempts with the last failure', async () => {
    const handle = await start<typeof wf.failsThenReportsLastFailure>('failsThenReportsLastFailure', [5], {
      retry: { ...quickRetries, maximumAttempts: 2 },
    });
    const err = await handle.result().then(
      () => assert.fail('the workflow should fail'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof WorkflowFailedError);
    assert.equal(err.retryState, RetryState.MAXIMUM_ATTEMPTS_REACHED);
    assert.equal(err.cause?.message, 'attempt 2 failed');
  });

  it('does not retry a non-retryable failure', async () => {
    const handle = await start<typeof wf.failsNonRetryably>('failsNonRetryably', [], { retry: quickRetries });
    const err = await handle.result().then(
      () => assert.fail('the workflow should fail'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof WorkflowFailedError);
    assert.equal(err.retryState, RetryState.NON_RETRYABLE_FAILURE);
    assert.equal((await handle.describe()).runId, handle.firstExecutionRunId);
  });

  it('does not retry without a retry policy', async () => {
    const handle = await start<typeof wf.failsThenReportsLastFailure>('failsThenReportsLastFailure', [1]);
    const err = await handle.result().then(
      () => assert.fail('the workflow should fail'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof WorkflowFailedError);
    assert.equal(err.retryState, RetryState.RETRY_POLICY_NOT_SET);
  });

  it('retries a run that timed out', async () => {
    const handle = await start<typeof wf.timesOutOnce>('timesOutOnce', [60_000], {
      workflowRunTimeout: '1s',
      retry: quickRetries,
    });
    assert.deepEqual(await handle.result(), { attempt: 2, timedOut: true });
  });

  it('retries a child; the parent sees only the attempt that finished', async () => {
    const handle = await start<typeof wf.parentOfFlakyChild>('parentOfFlakyChild', []);
    assert.deepEqual(await handle.result(), { attempt: 2, lastFailure: 'attempt 1 failed' });
    const types = (await handle.fetchHistory()).events!.map((e) => e.eventType);
    assert.equal(types.filter((t) => t === EventType.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_COMPLETED).length, 1);
    assert.ok(!types.includes(EventType.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_FAILED));
  });
});
