// Workflows for workflow-info.test.ts and workflow-retry.test.ts: each reports what
// workflowInfo() (or its history) says about one thing the server decides.
import {
  ApplicationFailure,
  condition,
  defineQuery,
  defineSignal,
  executeChild,
  proxyActivities,
  setHandler,
  sleep,
  startChild,
  TimeoutFailure,
  workflowInfo,
} from '@temporalio/workflow';

export const unblock = defineSignal('unblock');
export const currentBuildIdQuery = defineQuery<string>('currentBuildId');

/** Sleeps in small batches until the server suggests continue-as-new; returns the history length then. */
export async function growsUntilContinueAsNewSuggested(maxEvents: number): Promise<number | null> {
  if (workflowInfo().continueAsNewSuggested) return null;
  while (workflowInfo().historyLength < maxEvents) {
    await Promise.all(Array.from({ length: 5 }, () => sleep(1)));
    if (workflowInfo().continueAsNewSuggested) return workflowInfo().historyLength;
  }
  return null;
}

export interface Lineage {
  root: { workflowId: string; runId: string } | null;
  parent: { workflowId: string; runId: string } | null;
}

function lineage(): Lineage {
  const { root, parent } = workflowInfo();
  return {
    root: root ? { workflowId: root.workflowId, runId: root.runId } : null,
    parent: parent ? { workflowId: parent.workflowId, runId: parent.runId } : null,
  };
}

/** Returns its own lineage and, through a child and a grandchild, theirs. */
export async function lineageReport(depth: number): Promise<Lineage[]> {
  const own = lineage();
  if (depth === 0) return [own];
  const below = await executeChild(lineageReport, { args: [depth - 1] });
  return [own, ...below];
}

/** A child with a static summary and details, held open until `unblock` so the test can describe it. */
export async function parentOfSummarizedChild(childId: string): Promise<void> {
  await executeChild(waitsForUnblock, {
    workflowId: childId,
    staticSummary: 'child summary',
    staticDetails: 'child details',
  });
}

export async function waitsForUnblock(): Promise<void> {
  let unblocked = false;
  setHandler(unblock, () => void (unblocked = true));
  await condition(() => unblocked);
}

export async function reportsTimeouts(): Promise<{ executionTimeoutMs: number | null; runTimeoutMs: number | null }> {
  const { executionTimeoutMs, runTimeoutMs } = workflowInfo();
  // null, not undefined, so the difference survives the JSON result.
  return { executionTimeoutMs: executionTimeoutMs ?? null, runTimeoutMs: runTimeoutMs ?? null };
}

/** Fails its first `failures` attempts; then reports the attempt and the failure it was retried after. */
export async function failsThenReportsLastFailure(
  failures: number,
): Promise<{ attempt: number; lastFailure: string | null }> {
  const { attempt, lastFailure } = workflowInfo();
  if (attempt <= failures) throw ApplicationFailure.retryable(`attempt ${attempt} failed`, 'Flaky');
  return { attempt, lastFailure: lastFailure?.message ?? null };
}

export async function failsNonRetryably(): Promise<void> {
  throw ApplicationFailure.nonRetryable('broken for good', 'Broken');
}

/** Sleeps past its run timeout on the first attempt; the retry reports the failure it followed. */
export async function timesOutOnce(sleepMs: number): Promise<{ attempt: number; timedOut: boolean }> {
  const { attempt, lastFailure } = workflowInfo();
  if (attempt === 1) await sleep(sleepMs);
  return { attempt, timedOut: lastFailure instanceof TimeoutFailure };
}

/** A child with a retry policy: the parent sees only the attempt that finished. */
export async function parentOfFlakyChild(): Promise<{ attempt: number; lastFailure: string | null }> {
  return await executeChild(failsThenReportsLastFailure, {
    args: [1],
    retry: { initialInterval: 10, maximumAttempts: 3 },
  });
}

/** Reads its own priority and starts a child and an activity with their own. */
export async function prioritized(): Promise<{ own: unknown; child: unknown }> {
  const { echo } = proxyActivities<{ echo(v: string): Promise<string> }>({
    startToCloseTimeout: '10s',
    priority: { priorityKey: 5, fairnessKey: 'fair-activity', fairnessWeight: 4.5 },
  });
  const child = await startChild(reportsPriority, {
    priority: { priorityKey: 4, fairnessKey: 'child', fairnessWeight: 2.5 },
  });
  await echo('hi');
  return { own: workflowInfo().priority, child: await child.result() };
}

export async function reportsPriority(): Promise<unknown> {
  return workflowInfo().priority;
}

/** Answers the build id of the worker running the current workflow task, until unblocked twice. */
export async function reportsBuildId(): Promise<void> {
  let unblocks = 0;
  setHandler(currentBuildIdQuery, () => workflowInfo().currentBuildId ?? '');
  setHandler(unblock, () => void unblocks++);
  await condition(() => unblocks >= 2);
}

/** One activity on another task queue (activity-controls.test.ts pauses it before a worker polls there). */
export async function runsActivityOn(taskQueue: string): Promise<string> {
  const { echo } = proxyActivities<{ echo(v: string): Promise<string> }>({ taskQueue, startToCloseTimeout: '10s' });
  return await echo('ran');
}

/** An activity that fails once and would retry only an hour later. */
export async function retriesSlowly(key: string): Promise<string> {
  const { failTimes } = proxyActivities<{ failTimes(key: string, times: number): Promise<string> }>({
    startToCloseTimeout: '10s',
    retry: { initialInterval: '1h', maximumAttempts: 3 },
  });
  return await failTimes(key, 1);
}

/** An activity that heartbeats until it is stopped (cancelled, paused or reset). */
export async function heartbeatsUntilStopped(): Promise<void> {
  const { waitForCancel } = proxyActivities<{ waitForCancel(): Promise<string> }>({
    startToCloseTimeout: '1m',
    heartbeatTimeout: '1s',
    retry: { initialInterval: 10, maximumAttempts: 10 },
  });
  await waitForCancel();
}
