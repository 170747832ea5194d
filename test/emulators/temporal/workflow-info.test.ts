// What the server tells a workflow about itself, as the SDK's own integration tests expect it
// (issue 25): continue-as-new suggestion, root and parent, unset timeouts, priorities, a child's
// user metadata, build ids, and search attribute names with `-`.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import type { WorkflowStartOptions } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { bundleWorkflowCode } from '@temporalio/worker';
import { createTestActivities } from './activities';
import {
  emulatorOnly,
  ensureSearchAttributes,
  eventually,
  runWorker,
  startTestEnv,
  uniqueId,
  uniqueTaskQueue,
  type RunningWorker,
  type TestEnv,
} from './helpers';
import type * as wf from './workflow-info-workflows';

const EventType = temporal.api.enums.v1.EventType;

// Lowered so the suggestion comes after a few dozen events instead of the server's 4096.
const SUGGEST_AT_EVENTS = 60;

let bundle: Promise<{ code: string }> | undefined;
function infoBundle(): Promise<{ code: string }> {
  bundle ??= bundleWorkflowCode({
    workflowsPath: require.resolve('./workflow-info-workflows'),
    logger: { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error() {} } as any,
  });
  return bundle;
}

describe('temporal conformance: what a workflow learns about itself', () => {
  let env: TestEnv;
  let worker: RunningWorker;
  before(async () => {
    env = await startTestEnv({ continueAsNewSuggestedAt: { historyLength: SUGGEST_AT_EVENTS } });
    worker = await runWorker(env, { activities: createTestActivities(), workflowBundle: await infoBundle() });
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

  it(
    'suggests continue-as-new once the history reaches the configured length',
    emulatorOnly('a lowered continue-as-new threshold'),
    async () => {
      const handle = await start<typeof wf.growsUntilContinueAsNewSuggested>('growsUntilContinueAsNewSuggested', [
        SUGGEST_AT_EVENTS * 3,
      ]);
      const suggestedAt = await handle.result();
      assert.ok(suggestedAt !== null, 'continueAsNewSuggested never turned true');
      // The first task whose Started event is at or past the threshold carries it, not earlier ones.
      assert.ok(suggestedAt >= SUGGEST_AT_EVENTS && suggestedAt < SUGGEST_AT_EVENTS + 20, `at ${suggestedAt}`);
      const started = (await handle.fetchHistory()).events!.filter(
        (e) => e.eventType === EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED,
      );
      for (const e of started) {
        assert.equal(
          Boolean(e.workflowTaskStartedEventAttributes!.suggestContinueAsNew),
          Number(e.eventId) >= SUGGEST_AT_EVENTS,
        );
      }
      // historySizeBytes grows with the history.
      const sizes = started.map((e) => Number(e.workflowTaskStartedEventAttributes!.historySizeBytes));
      assert.ok(sizes.every((size, i) => i === 0 || size > sizes[i - 1]) && sizes[0] > 100, `${sizes.join(',')}`);
    },
  );

  it('suggests nothing to a short workflow under the server defaults', emulatorOnly('engine options'), async () => {
    const defaults = await startTestEnv();
    const plain = await runWorker(defaults, { workflowBundle: await infoBundle() });
    try {
      const result = await defaults.client.workflow.execute<typeof wf.growsUntilContinueAsNewSuggested>(
        'growsUntilContinueAsNewSuggested',
        { taskQueue: plain.taskQueue, workflowId: uniqueId('no-suggestion'), args: [SUGGEST_AT_EVENTS * 3] },
      );
      assert.equal(result, null);
    } finally {
      await plain.stop();
      await defaults.stop();
    }
  });

  it('gives children their root and parent; a top-level workflow has neither', async () => {
    const handle = await start<typeof wf.lineageReport>('lineageReport', [2]);
    const [top, child, grandchild] = await handle.result();
    const self = { workflowId: handle.workflowId, runId: handle.firstExecutionRunId };
    assert.deepEqual(top, { root: null, parent: null });
    assert.deepEqual(child, { root: self, parent: self });
    const childStarted = (await handle.fetchHistory()).events!.find(
      (e) => e.eventType === EventType.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_STARTED,
    )!.childWorkflowExecutionStartedEventAttributes!.workflowExecution!;
    assert.deepEqual(grandchild, {
      root: self,
      parent: { workflowId: childStarted.workflowId, runId: childStarted.runId },
    });
    // Describe agrees with what the grandchild read.
    const described = await env.client.workflow.getHandle(childStarted.workflowId!).describe();
    assert.deepEqual(described.rootExecution, self);
  });

  it("keeps a child's static summary and details", async () => {
    const childId = uniqueId('summarized-child');
    const parent = await start<typeof wf.parentOfSummarizedChild>('parentOfSummarizedChild', [childId]);
    const child = env.client.workflow.getHandle(childId);
    const described = await eventually(() => child.describe().catch(() => undefined));
    assert.equal(await described.staticSummary(), 'child summary');
    assert.equal(await described.staticDetails(), 'child details');
    const initiated = (await parent.fetchHistory()).events!.find(
      (e) => e.eventType === EventType.EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_INITIATED,
    );
    assert.ok(initiated?.userMetadata?.summary, 'the initiated event carries the metadata');
    await child.signal('unblock');
    await parent.result();
  });

  it('leaves execution and run timeouts unset when the start sets none', async () => {
    const unset = await start<typeof wf.reportsTimeouts>('reportsTimeouts', []);
    assert.deepEqual(await unset.result(), { executionTimeoutMs: null, runTimeoutMs: null });
    const config = (await unset.describe()).raw.executionConfig!;
    assert.equal(config.workflowExecutionTimeout, null);
    assert.equal(config.workflowRunTimeout, null);
    const set = await start<typeof wf.reportsTimeouts>('reportsTimeouts', [], { workflowExecutionTimeout: '1h' });
    // The run timeout defaults to the execution timeout.
    assert.deepEqual(await set.result(), { executionTimeoutMs: 3_600_000, runTimeoutMs: 3_600_000 });
  });

  it('propagates priorities to the workflow, its children and its activities', async () => {
    const handle = await start<typeof wf.prioritized>('prioritized', [], {
      priority: { priorityKey: 1, fairnessKey: 'main', fairnessWeight: 3 },
    });
    const { own, child } = await handle.result();
    assert.deepEqual(own, { priorityKey: 1, fairnessKey: 'main', fairnessWeight: 3 });
    assert.deepEqual(child, { priorityKey: 4, fairnessKey: 'child', fairnessWeight: 2.5 });
    const events = (await handle.fetchHistory()).events!;
    const scheduled = events.find((e) => e.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED);
    assert.equal(scheduled?.activityTaskScheduledEventAttributes?.priority?.priorityKey, 5);
    assert.equal(scheduled?.activityTaskScheduledEventAttributes?.priority?.fairnessKey, 'fair-activity');
    assert.equal((await handle.describe()).raw.workflowExecutionInfo?.priority?.priorityKey, 1);
  });

  it('reads an unset priority as empty', async () => {
    const handle = await start<typeof wf.reportsPriority>('reportsPriority', []);
    assert.deepEqual(await handle.result(), {});
  });

  it('registers and uses search attribute names with a dash', async () => {
    const key = defineSearchAttributeKey('invoice-region', SearchAttributeType.KEYWORD);
    await ensureSearchAttributes(env, { 'invoice-region': 'INDEXED_VALUE_TYPE_KEYWORD' });
    const handle = await start<typeof wf.reportsTimeouts>('reportsTimeouts', [], {
      typedSearchAttributes: [{ key, value: 'eu-west' }],
    });
    await handle.result();
    const described = await handle.describe();
    assert.equal(described.typedSearchAttributes.get(key), 'eu-west');
    assert.deepEqual(described.searchAttributes['invoice-region'], ['eu-west']);
    const listed = await eventually(async () => {
      const found = [];
      for await (const e of env.client.workflow.list({ query: "`invoice-region` = 'eu-west'" }))
        found.push(e.workflowId);
      return found.length > 0 ? found : undefined;
    });
    assert.deepEqual(listed, [handle.workflowId]);
  });
});

describe('temporal conformance: build ids', () => {
  let env: TestEnv;
  before(async () => {
    env = await startTestEnv();
  });
  after(async () => {
    await env?.stop();
  });

  it('gives workflowInfo() the build id of the worker running the task, and fills BuildIds', async () => {
    const taskQueue = uniqueTaskQueue('build-ids');
    const workflowId = uniqueId('build-ids');
    const first = await runWorker(env, { taskQueue, buildId: '1.0', workflowBundle: await infoBundle() });
    const handle = await env.client.workflow.start<typeof wf.reportsBuildId>('reportsBuildId', {
      taskQueue,
      workflowId,
    });
    try {
      assert.equal(await handle.query('currentBuildId'), '1.0');
    } finally {
      await first.stop();
    }
    await env.client.workflowService.resetStickyTaskQueue({ namespace: env.namespace, execution: { workflowId } });
    const second = await runWorker(env, { taskQueue, buildId: '1.1', workflowBundle: await infoBundle() });
    try {
      // Replayed on 1.1, the first task still ran on 1.0; the next one runs on 1.1.
      assert.equal(await handle.query('currentBuildId'), '1.0');
      await handle.signal('unblock');
      assert.equal(await handle.query('currentBuildId'), '1.1');
      const { searchAttributes } = await handle.describe();
      assert.deepEqual(searchAttributes.BuildIds, ['unversioned', 'unversioned:1.0', 'unversioned:1.1']);
      const listed = await eventually(async () => {
        const found = [];
        for await (const e of env.client.workflow.list({ query: "BuildIds = 'unversioned:1.1'" }))
          found.push(e.workflowId);
        return found.length > 0 ? found : undefined;
      });
      assert.deepEqual(listed, [workflowId]);
      await handle.signal('unblock');
      await handle.result();
    } finally {
      await second.stop();
    }
  });
});
