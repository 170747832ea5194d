// Small workflows exercising one server behaviour each, for the conformance suite.
import {
  ActivityCancellationType,
  ApplicationFailure,
  CancellationScope,
  condition,
  continueAsNew,
  defineQuery,
  defineSignal,
  isCancellation,
  patched,
  proxyActivities,
  proxyLocalActivities,
  setHandler,
  sleep,
  upsertSearchAttributes,
  workflowInfo,
  upsertMemo,
  getExternalWorkflowHandle,
  executeChild,
  startChild,
} from '@temporalio/workflow';
import { defineSearchAttributeKey } from '@temporalio/common';

export interface TestActivities {
  echo(value: string): Promise<string>;
  failTimes(key: string, times: number, nonRetryable?: boolean): Promise<string>;
  alwaysFail(kind: string): Promise<string>;
  heartbeatThenFail(key: string): Promise<string>;
  sleepy(ms: number): Promise<string>;
  waitForCancel(): Promise<string>;
  attemptInfo(): Promise<{ attempt: number; scheduleToCloseMs: number; startToCloseMs: number; heartbeatMs: number }>;
}

const fast = proxyActivities<TestActivities>({
  startToCloseTimeout: '10s',
  retry: { initialInterval: 10, backoffCoefficient: 2, maximumInterval: 100 },
});

export async function greet(name: string): Promise<string> {
  return await fast.echo(`hello ${name}`);
}

export async function noop(): Promise<string> {
  return 'done';
}

export async function sleeper(ms: number): Promise<number> {
  const start = Date.now();
  await sleep(ms);
  return Date.now() - start;
}

// ------------------------------------------------------------------ activities

export async function retryUntilSuccess(key: string, times: number): Promise<string> {
  return await proxyActivities<TestActivities>({
    startToCloseTimeout: '10s',
    retry: { initialInterval: 20, backoffCoefficient: 2, maximumInterval: 200, maximumAttempts: 10 },
  }).failTimes(key, times);
}

/** Returns the failure the workflow saw, as a plain description. */
export async function activityFailure(
  kind:
    | 'maxAttempts'
    | 'nonRetryableType'
    | 'nonRetryableFlag'
    | 'heartbeat'
    | 'startToClose'
    | 'scheduleToClose'
    | 'scheduleToStart',
): Promise<Record<string, unknown>> {
  const retry = {
    initialInterval: 20,
    backoffCoefficient: 2,
    maximumInterval: 100,
    maximumAttempts: 3,
    nonRetryableErrorTypes: ['FatalError'],
  };
  try {
    switch (kind) {
      case 'maxAttempts':
        await proxyActivities<TestActivities>({ startToCloseTimeout: '10s', retry }).alwaysFail('TransientError');
        break;
      case 'nonRetryableType':
        await proxyActivities<TestActivities>({ startToCloseTimeout: '10s', retry }).alwaysFail('FatalError');
        break;
      case 'nonRetryableFlag':
        await proxyActivities<TestActivities>({ startToCloseTimeout: '10s', retry }).failTimes(
          `flag-${workflowInfo().workflowId}`,
          5,
          true,
        );
        break;
      case 'heartbeat':
        await proxyActivities<TestActivities>({
          startToCloseTimeout: '10s',
          heartbeatTimeout: 300,
          retry: { ...retry, maximumAttempts: 2 },
        }).sleepy(5_000);
        break;
      case 'startToClose':
        await proxyActivities<TestActivities>({
          startToCloseTimeout: 300,
          retry: { ...retry, maximumAttempts: 2 },
        }).sleepy(5_000);
        break;
      case 'scheduleToClose':
        await proxyActivities<TestActivities>({
          scheduleToCloseTimeout: 500,
          retry: { ...retry, maximumAttempts: 100 },
        }).alwaysFail('TransientError');
        break;
      case 'scheduleToStart':
        await proxyActivities<TestActivities>({
          startToCloseTimeout: '10s',
          scheduleToStartTimeout: 300,
          taskQueue: 'nobody-polls-this-queue',
        }).echo('x');
        break;
    }
    return { ok: true };
  } catch (err: any) {
    return {
      name: err?.name,
      causeName: err?.cause?.name,
      causeType: err?.cause?.type,
      timeoutType: err?.cause?.timeoutType,
      retryState: err?.retryState,
      message: err?.cause?.message,
    };
  }
}

export async function heartbeatDetails(key: string): Promise<string> {
  return await proxyActivities<TestActivities>({
    startToCloseTimeout: '10s',
    retry: { initialInterval: 10, maximumAttempts: 3 },
  }).heartbeatThenFail(key);
}

export async function activityTimeouts(): Promise<unknown> {
  return await proxyActivities<TestActivities>({ scheduleToCloseTimeout: '1 minute' }).attemptInfo();
}

export async function cancelActivity(): Promise<string> {
  const acts = proxyActivities<TestActivities>({
    startToCloseTimeout: '30s',
    heartbeatTimeout: 500,
    cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
  });
  try {
    await CancellationScope.cancellable(async () => {
      const p = acts.waitForCancel();
      await sleep(300);
      CancellationScope.current().cancel();
      await p;
    });
    return 'not cancelled';
  } catch (err) {
    return isCancellation(err) ? 'cancelled' : `other: ${(err as Error).message}`;
  }
}

export async function cancelScheduledActivity(): Promise<string> {
  const acts = proxyActivities<TestActivities>({
    startToCloseTimeout: '30s',
    taskQueue: 'nobody-polls-this-queue-either',
  });
  try {
    await CancellationScope.cancellable(async () => {
      const p = acts.echo('never');
      await sleep(100);
      CancellationScope.current().cancel();
      await p;
    });
    return 'not cancelled';
  } catch (err) {
    return isCancellation(err) ? 'cancelled' : `other: ${(err as Error).message}`;
  }
}

// ------------------------------------------------------------------ signals and queries

export const approveSignal = defineSignal<[string]>('approve');
export const addSignal = defineSignal<[number]>('add');
export const stateQuery = defineQuery<{ approvedBy: string | null; total: number; signals: number }>('state');
export const failingQuery = defineQuery<string>('explode');

export async function waitForApproval(): Promise<{ approvedBy: string; total: number }> {
  let approvedBy: string | null = null;
  let total = 0;
  let signals = 0;
  setHandler(approveSignal, (who) => {
    approvedBy = who;
    signals++;
  });
  setHandler(addSignal, (n) => {
    total += n;
    signals++;
  });
  setHandler(stateQuery, () => ({ approvedBy, total, signals }));
  setHandler(failingQuery, () => {
    throw new Error('query handler exploded');
  });
  await condition(() => approvedBy !== null);
  return { approvedBy: approvedBy!, total };
}

/** Keeps a workflow task busy so signals arrive while it runs (they must be held back). */
export async function busySignals(expected: number): Promise<number> {
  let total = 0;
  setHandler(addSignal, (n) => {
    total += n;
  });
  setHandler(stateQuery, () => ({ approvedBy: null, total, signals: 0 }));
  await condition(() => total >= expected);
  return total;
}

// ------------------------------------------------------------------ timers and the product's shape

export const InvoiceGateStatus = defineSearchAttributeKey('InvoiceGateStatus', 'KEYWORD');
export const GateVariancePct = defineSearchAttributeKey('GateVariancePct', 'DOUBLE');

/** The product's shape: upsert status, wait for a decision with reminders at 4h then every 24h. */
export async function reminderGate(): Promise<{ reminders: number; decision: string }> {
  let decision: string | null = null;
  let reminders = 0;
  setHandler(approveSignal, (d) => {
    decision = d;
  });
  setHandler(stateQuery, () => ({ approvedBy: decision, total: reminders, signals: 0 }));
  upsertSearchAttributes([
    { key: InvoiceGateStatus, value: 'held' },
    { key: GateVariancePct, value: 12.5 },
  ]);
  let wait = 4 * 3600_000;
  while (!(await condition(() => decision !== null, wait))) {
    reminders++;
    await fast.echo(`reminder ${reminders}`);
    wait = 24 * 3600_000;
  }
  upsertSearchAttributes([{ key: InvoiceGateStatus, value: 'released' }]);
  return { reminders, decision: decision! };
}

export async function cancelTimer(): Promise<string> {
  let signalled = false;
  setHandler(approveSignal, () => {
    signalled = true;
  });
  const won = await condition(() => signalled, '1 hour');
  await sleep(10);
  return won ? 'signal' : 'timeout';
}

// ------------------------------------------------------------------ lifecycle

export async function failsWith(message: string): Promise<never> {
  throw ApplicationFailure.nonRetryable(message, 'GateError');
}

/** A plain Error fails the workflow task (not the workflow); the server retries the task. */
export async function brokenWorkflow(): Promise<string> {
  throw new Error('a bug in workflow code');
}

export async function counter(n: number, limit: number): Promise<number> {
  if (n < limit) await continueAsNew<typeof counter>(n + 1, limit);
  return n;
}

/** Continues as new `times` times, then waits for approval (a long-running singleton such as the sweeper). */
export async function continuesThenWaits(times: number): Promise<string> {
  if (times > 0) await continueAsNew<typeof continuesThenWaits>(times - 1);
  let approvedBy: string | null = null;
  setHandler(approveSignal, (who) => void (approvedBy = who));
  await condition(() => approvedBy !== null);
  return approvedBy!;
}

export async function cancellable(): Promise<string> {
  try {
    await condition(() => false);
    return 'impossible';
  } catch (err) {
    if (isCancellation(err)) {
      await CancellationScope.nonCancellable(() => fast.echo('cleanup'));
      throw err;
    }
    throw err;
  }
}

export async function patchedWorkflow(): Promise<string> {
  if (patched('my-change')) return 'new path';
  return 'old path';
}

export async function infoEcho(): Promise<unknown> {
  const info = workflowInfo();
  upsertMemo({ touched: true });
  return {
    memo: info.memo,
    attributes: info.typedSearchAttributes.get(InvoiceGateStatus) ?? null,
    attempt: info.attempt,
    continued: info.continuedFromExecutionRunId ?? null,
  };
}

export async function upsertUnregistered(): Promise<string> {
  upsertSearchAttributes([{ key: defineSearchAttributeKey('NeverRegisteredAttr', 'KEYWORD'), value: 'x' }]);
  return 'upserted';
}

export async function signalOther(targetId: string): Promise<string> {
  await getExternalWorkflowHandle(targetId).signal(approveSignal, 'external');
  return 'sent';
}

export async function manyTimers(): Promise<number> {
  await Promise.all([sleep(1_000), sleep(2_000), sleep(3_000)]);
  return 3;
}

// ------------------------------------------------------------------ child workflows

export async function parentOfGreet(name: string): Promise<string> {
  return await executeChild(greet, { args: [name], workflowId: `${workflowInfo().workflowId}-child` });
}

export async function parentOfFailure(): Promise<string> {
  try {
    await executeChild(failsWith, { args: ['child broke'], workflowId: `${workflowInfo().workflowId}-child` });
    return 'no failure';
  } catch (err: any) {
    return `${err?.name}: ${err?.cause?.message}`;
  }
}

/** Starts a waiting child and returns: the default parent close policy terminates the child. */
export async function parentLeavesChild(): Promise<string> {
  const child = await startChild(waitForApproval, { workflowId: `${workflowInfo().workflowId}-child` });
  return child.workflowId;
}

// ------------------------------------------------------------------ server fidelity

export interface LocalTestActivities {
  /** Signals the calling workflow ('add', 1) the first time it runs for that workflow id. */
  signalSelfOnce(): Promise<void>;
}

/**
 * Closes in the same workflow task in which a signal arrived (sent by its own local activity while
 * the task is running): the server refuses the completion with UnhandledCommand, and the retried
 * task sees the signal.
 */
export async function closesWhileSignalled(): Promise<number> {
  let total = 0;
  setHandler(addSignal, (n) => {
    total += n;
  });
  await proxyLocalActivities<LocalTestActivities>({ startToCloseTimeout: '10s' }).signalSelfOnce();
  return total;
}

// ------------------------------------------------------------------ time-skipping sleeps

export interface LockRequest {
  holder: string;
  timeoutMs: number;
}
export const lockRequestSignal = defineSignal<[LockRequest]>('lockRequest');
export const lockGrantedSignal = defineSignal('lockGranted');
export const lockHolderQuery = defineQuery<string | null>('holder');
export const lockGrantedQuery = defineQuery<boolean>('granted');

/** Hands a lock to one requester at a time (the samples' mutex); nobody releases, so each lease times out. */
export async function lockService(): Promise<void> {
  const queue: LockRequest[] = [];
  let holder: string | null = null;
  setHandler(lockRequestSignal, (request) => {
    queue.push(request);
  });
  setHandler(lockHolderQuery, () => holder);
  for (;;) {
    await condition(() => queue.length > 0);
    const request = queue.shift()!;
    holder = request.holder;
    await getExternalWorkflowHandle(request.holder).signal(lockGrantedSignal);
    await sleep(request.timeoutMs);
    holder = null;
  }
}

/** Waits to be granted the lock, then keeps running. */
export async function lockRequester(): Promise<void> {
  let granted = false;
  setHandler(lockGrantedSignal, () => {
    granted = true;
  });
  setHandler(lockGrantedQuery, () => granted);
  await condition(() => false);
}

export interface BlockingActivities {
  /** Returns when the test lets it. */
  blockUntilReleased(): Promise<void>;
}

/** Which comes first: a timer, or an activity the test releases. */
export async function timerOrActivity(timerMs: number): Promise<string> {
  const { blockUntilReleased } = proxyActivities<BlockingActivities>({ startToCloseTimeout: '1 day' });
  return await Promise.race([sleep(timerMs).then(() => 'timer'), blockUntilReleased().then(() => 'activity')]);
}

/** Two reminders (timer, then an activity) at 4 h and 28 h, then waits with nothing scheduled. */
export async function twoReminders(): Promise<void> {
  let reminders = 0;
  setHandler(stateQuery, () => ({ approvedBy: null, total: reminders, signals: 0 }));
  for (const wait of [4 * 3600_000, 24 * 3600_000]) {
    await sleep(wait);
    reminders++;
    await fast.echo(`reminder ${reminders}`);
  }
  await condition(() => false);
}

// ------------------------------------------------------------------ timers cancelled after firing

/**
 * Waits for signals with a 1 ms timeout in a loop: under a burst of signals a timer often fires
 * while the task that cancels it (because a signal won) is running, the case where the server
 * drops the held-back TimerFired and writes TimerCanceled.
 */
export async function drainSignalsWithShortTimeouts(expected: number): Promise<number> {
  const pending: number[] = [];
  setHandler(addSignal, (n) => {
    pending.push(n);
  });
  let received = 0;
  while (received < expected) {
    if (await condition(() => pending.length > 0, 1)) received += pending.splice(0).length;
  }
  return received;
}
