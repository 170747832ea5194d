// Activity tasks: scheduling with every timeout filled in the way the server does, dispatch to
// pollers, heartbeats, server-side retries with exponential backoff, timeouts and cancellation.
//
// Like the real server, only the outcome of the last attempt reaches history: ActivityTaskStarted
// is written late, together with the completion or final failure.
import type { Engine } from './engine';
import { notFound } from './errors';
import type { ActivityState, Execution, RetryPolicy } from './execution';
import { queueKey, type PollContext } from './matching';
import { durationToMs, msToDuration, msToTimestamp } from './proto-values';
import { encodeTaskToken } from './task-tokens';

const DEFAULT_INITIAL_INTERVAL_MS = 1_000;
const DEFAULT_BACKOFF = 2;

type TimeoutType = 'SCHEDULE_TO_START' | 'START_TO_CLOSE' | 'SCHEDULE_TO_CLOSE' | 'HEARTBEAT';

export class ActivityScheduler {
  constructor(private readonly engine: Engine) {}

  schedule(
    execution: Execution,
    a: any,
    completedEventId: number,
    userMetadata: unknown,
    eager = false,
  ): ActivityState {
    const engine = this.engine;
    const now = engine.now();
    // Timeout defaults as in the server's command validation: schedule-to-close bounds the others,
    // and without it the workflow run timeout (if any) does.
    const runTimeoutMs = execution.config.runTimeoutMs;
    let scheduleToCloseMs = durationToMs(a.scheduleToCloseTimeout);
    let scheduleToStartMs = durationToMs(a.scheduleToStartTimeout);
    let startToCloseMs = durationToMs(a.startToCloseTimeout);
    let heartbeatMs = durationToMs(a.heartbeatTimeout);
    if (scheduleToCloseMs > 0) {
      scheduleToStartMs = scheduleToStartMs > 0 ? Math.min(scheduleToStartMs, scheduleToCloseMs) : scheduleToCloseMs;
      startToCloseMs = startToCloseMs > 0 ? Math.min(startToCloseMs, scheduleToCloseMs) : scheduleToCloseMs;
    } else {
      scheduleToCloseMs = runTimeoutMs;
      if (scheduleToStartMs === 0) scheduleToStartMs = runTimeoutMs;
    }
    if (runTimeoutMs > 0) {
      scheduleToCloseMs = Math.min(scheduleToCloseMs || runTimeoutMs, runTimeoutMs);
      scheduleToStartMs = Math.min(scheduleToStartMs || runTimeoutMs, runTimeoutMs);
      startToCloseMs = Math.min(startToCloseMs, runTimeoutMs);
    }
    heartbeatMs = Math.min(heartbeatMs, startToCloseMs);
    const retry = normalizeRetryPolicy(a.retryPolicy);
    const taskQueue = a.taskQueue?.name || execution.taskQueue;
    const event = execution.addEvent(
      'ActivityTaskScheduled',
      {
        activityId: a.activityId,
        activityType: a.activityType,
        taskQueue: { name: taskQueue, kind: 'TASK_QUEUE_KIND_NORMAL', normalName: '' },
        header: a.header,
        input: a.input,
        scheduleToCloseTimeout: msToDuration(scheduleToCloseMs),
        scheduleToStartTimeout: msToDuration(scheduleToStartMs),
        startToCloseTimeout: msToDuration(startToCloseMs),
        heartbeatTimeout: msToDuration(heartbeatMs),
        workflowTaskCompletedEventId: completedEventId,
        retryPolicy: retryPolicyToProto(retry),
        useWorkflowBuildId: a.useWorkflowBuildId ?? false,
        priority: a.priority,
      },
      now,
      userMetadata,
    );
    const act: ActivityState = {
      scheduledEventId: event.eventId,
      activityId: a.activityId,
      activityType: a.activityType.name,
      taskQueue,
      input: a.input,
      header: a.header,
      priority: a.priority,
      scheduleToCloseMs,
      scheduleToStartMs,
      startToCloseMs,
      heartbeatMs,
      retry,
      attempt: 1,
      seq: 0,
      phase: 'scheduled',
      firstScheduledAt: now,
      attemptScheduledAt: now,
      startedAt: 0,
      startedIdentity: '',
      startedRequestId: '',
      heartbeatDetails: null,
      lastHeartbeatAt: 0,
      lastFailure: null,
      paused: false,
      resetRequested: false,
      cancelRequested: false,
      cancelRequestedEventId: 0,
      timers: {},
    };
    execution.activities.set(act.scheduledEventId, act);
    if (scheduleToCloseMs > 0) {
      act.timers.scheduleToClose = engine.clock.after(scheduleToCloseMs, () =>
        this.timedOut(execution, act, 'SCHEDULE_TO_CLOSE'),
      );
    }
    // An eager activity is handed to the completing worker by dispatchEager; not queued meanwhile.
    if (eager) act.seq++;
    else this.enqueueAttempt(execution, act);
    return act;
  }

  /** Hands a just-scheduled activity to the completing worker (eager execution), if still pending. */
  dispatchEager(execution: Execution, act: ActivityState, identity: string): unknown | null {
    const task = this.dispatch(execution, act, act.seq, { identity, request: null });
    // Not handed out (the run closed meanwhile, or it was canceled): queue it if still pending.
    if (!task && execution.activities.get(act.scheduledEventId) === act && act.phase === 'scheduled')
      this.enqueueAttempt(execution, act);
    return task;
  }

  /** Queues the next attempt; a paused activity waits (in backoff) for unpause or reset instead. */
  enqueueAttempt(execution: Execution, act: ActivityState): void {
    const engine = this.engine;
    if (act.paused) {
      act.phase = 'backoff';
      act.seq++;
      return;
    }
    act.phase = 'scheduled';
    act.seq++;
    act.attemptScheduledAt = engine.now();
    const seq = act.seq;
    if (act.scheduleToStartMs > 0) {
      engine.clock.cancel(act.timers.scheduleToStart);
      act.timers.scheduleToStart = engine.clock.after(act.scheduleToStartMs, () => {
        if (act.seq === seq && act.phase === 'scheduled') this.timedOut(execution, act, 'SCHEDULE_TO_START');
      });
    }
    engine.matching.add(queueKey(execution.namespace, 'activity', act.taskQueue), {
      kind: 'activity',
      dispatch: (ctx) => this.dispatch(execution, act, seq, ctx),
    });
  }

  private dispatch(execution: Execution, act: ActivityState, seq: number, ctx: PollContext): unknown | null {
    if (
      !execution.running ||
      execution.activities.get(act.scheduledEventId) !== act ||
      act.seq !== seq ||
      act.phase !== 'scheduled'
    )
      return null;
    const engine = this.engine;
    const now = engine.now();
    act.phase = 'started';
    act.startedAt = now;
    act.startedIdentity = ctx.identity;
    act.startedRequestId = `${act.scheduledEventId}-${act.attempt}`;
    engine.clock.cancel(act.timers.scheduleToStart);
    if (act.startToCloseMs > 0) {
      act.timers.startToClose = engine.clock.after(act.startToCloseMs, () => {
        if (act.seq === seq && act.phase === 'started') this.timedOut(execution, act, 'START_TO_CLOSE');
      });
    }
    this.armHeartbeat(execution, act);
    return {
      taskToken: encodeTaskToken({
        t: 'act',
        ns: execution.namespace,
        run: execution.runId,
        sid: act.scheduledEventId,
        seq,
      }),
      workflowNamespace: execution.namespace,
      workflowType: { name: execution.workflowType },
      workflowExecution: { workflowId: execution.workflowId, runId: execution.runId },
      activityType: { name: act.activityType },
      activityId: act.activityId,
      header: act.header,
      input: act.input,
      heartbeatDetails: act.heartbeatDetails,
      scheduledTime: msToTimestamp(act.firstScheduledAt),
      currentAttemptScheduledTime: msToTimestamp(act.attemptScheduledAt),
      startedTime: msToTimestamp(now),
      attempt: act.attempt,
      // The TS worker rejects null durations: every one is sent, 0 meaning "none".
      scheduleToCloseTimeout: msToDuration(act.scheduleToCloseMs),
      startToCloseTimeout: msToDuration(act.startToCloseMs),
      heartbeatTimeout: msToDuration(act.heartbeatMs),
      retryPolicy: retryPolicyToProto(act.retry),
      pollerScalingDecision: null,
      priority: act.priority,
    };
  }

  private armHeartbeat(execution: Execution, act: ActivityState): void {
    if (act.heartbeatMs <= 0) return;
    this.engine.clock.cancel(act.timers.heartbeat);
    const seq = act.seq;
    act.timers.heartbeat = this.engine.clock.after(act.heartbeatMs, () => {
      if (act.seq === seq && act.phase === 'started') this.timedOut(execution, act, 'HEARTBEAT');
    });
  }

  /** Resolves an activity task token to a running attempt, or NOT_FOUND like the server. */
  private running(token: { ns: string; run: string; sid: number; seq: number }): {
    execution: Execution;
    act: ActivityState;
  } {
    const ns = this.engine.namespaces.get(token.ns);
    const execution = ns.runs.get(token.run);
    if (!execution) throw notFound('workflow execution not found');
    if (!execution.running) throw notFound('workflow execution already completed');
    const act = execution.activities.get(token.sid);
    if (!act || act.seq !== token.seq || act.phase !== 'started') throw notFound('activity task not found');
    return { execution, act };
  }

  findById(
    namespace: string,
    workflowId: string,
    runId: string | null | undefined,
    activityId: string,
  ): { ns: string; run: string; sid: number; seq: number } {
    const execution = this.engine.findRun(namespace, { workflowId, runId });
    for (const act of execution.activities.values()) {
      if (act.activityId === activityId)
        return { ns: namespace, run: execution.runId, sid: act.scheduledEventId, seq: act.seq };
    }
    throw notFound('activity task not found');
  }

  heartbeat(
    token: { ns: string; run: string; sid: number; seq: number },
    details: unknown,
  ): { cancelRequested: boolean; activityPaused: boolean; activityReset: boolean } {
    const { execution, act } = this.running(token);
    act.heartbeatDetails = details;
    act.lastHeartbeatAt = this.engine.now();
    this.armHeartbeat(execution, act);
    // A paused or reset activity learns it here, as on the server (the worker then stops the attempt).
    return { cancelRequested: act.cancelRequested, activityPaused: act.paused, activityReset: act.resetRequested };
  }

  complete(token: { ns: string; run: string; sid: number; seq: number }, result: unknown, identity: string): void {
    const { execution, act } = this.running(token);
    this.finish(execution, act);
    this.engine.deliver(execution, () => {
      const started = this.writeStarted(execution, act);
      execution.addEvent(
        'ActivityTaskCompleted',
        { result, scheduledEventId: act.scheduledEventId, startedEventId: started, identity },
        this.engine.now(),
      );
    });
  }

  fail(
    token: { ns: string; run: string; sid: number; seq: number },
    failure: any,
    lastHeartbeatDetails: unknown,
    identity: string,
  ): void {
    const { execution, act } = this.running(token);
    if (lastHeartbeatDetails) act.heartbeatDetails = lastHeartbeatDetails;
    const info = failure?.applicationFailureInfo;
    const nonRetryable =
      Boolean(info?.nonRetryable) || (info?.type && act.retry.nonRetryableErrorTypes.includes(info.type));
    const explicitDelayMs = info?.nextRetryDelay ? durationToMs(info.nextRetryDelay) : 0;
    const retryState = nonRetryable
      ? 'RETRY_STATE_NON_RETRYABLE_FAILURE'
      : this.retryOrState(execution, act, failure, explicitDelayMs);
    if (retryState === null) return;
    this.finish(execution, act);
    this.engine.deliver(execution, () => {
      const started = this.writeStarted(execution, act);
      execution.addEvent(
        'ActivityTaskFailed',
        { failure, scheduledEventId: act.scheduledEventId, startedEventId: started, identity, retryState },
        this.engine.now(),
      );
    });
  }

  canceled(token: { ns: string; run: string; sid: number; seq: number }, details: unknown, identity: string): void {
    const { execution, act } = this.running(token);
    this.finish(execution, act);
    this.engine.deliver(execution, () => {
      const started = this.writeStarted(execution, act);
      execution.addEvent(
        'ActivityTaskCanceled',
        {
          details,
          latestCancelRequestedEventId: act.cancelRequestedEventId,
          scheduledEventId: act.scheduledEventId,
          startedEventId: started,
          identity,
        },
        this.engine.now(),
      );
    });
  }

  /**
   * Retries the activity if its policy allows: returns null when a retry was scheduled, otherwise
   * the retry state to record with the final failure.
   */
  private retryOrState(
    execution: Execution,
    act: ActivityState,
    failure: unknown,
    explicitDelayMs: number,
  ): string | null {
    const p = act.retry;
    if (!act.resetRequested && p.maximumAttempts > 0 && act.attempt >= p.maximumAttempts)
      return 'RETRY_STATE_MAXIMUM_ATTEMPTS_REACHED';
    // ResetActivity on a running attempt: the attempt it stopped is retried at once.
    const backoff = act.resetRequested
      ? 0
      : explicitDelayMs > 0
        ? explicitDelayMs
        : Math.min(p.initialIntervalMs * p.backoffCoefficient ** (act.attempt - 1), p.maximumIntervalMs);
    const now = this.engine.now();
    if (act.scheduleToCloseMs > 0 && now + backoff >= act.firstScheduledAt + act.scheduleToCloseMs)
      return 'RETRY_STATE_TIMEOUT';
    const engine = this.engine;
    engine.clock.cancel(act.timers.startToClose);
    engine.clock.cancel(act.timers.heartbeat);
    act.lastFailure = failure;
    // After ResetActivity the attempts count from 1 again.
    act.attempt = act.resetRequested ? 1 : act.attempt + 1;
    act.resetRequested = false;
    act.phase = 'backoff';
    act.seq++; // a late answer from the failed attempt is stale now
    act.timers.retry = engine.clock.after(backoff, () => {
      if (execution.activities.get(act.scheduledEventId) === act && act.phase === 'backoff')
        this.enqueueAttempt(execution, act);
    });
    return null;
  }

  private timedOut(execution: Execution, act: ActivityState, type: TimeoutType): void {
    if (!execution.running || execution.activities.get(act.scheduledEventId) !== act) return;
    const failure = {
      message: `activity ${timeoutLabel(type)} timeout`,
      source: 'Server',
      stackTrace: '',
      encodedAttributes: null,
      cause: act.lastFailure ?? null,
      timeoutFailureInfo: { timeoutType: `TIMEOUT_TYPE_${type}`, lastHeartbeatDetails: act.heartbeatDetails },
    };
    let retryState = 'RETRY_STATE_TIMEOUT';
    // Start-to-close and heartbeat timeouts are retried like failures; the others end the activity.
    if (act.phase === 'started' && (type === 'START_TO_CLOSE' || type === 'HEARTBEAT')) {
      const state = this.retryOrState(execution, act, failure, 0);
      if (state === null) return;
      retryState = state;
    } else if (type === 'SCHEDULE_TO_START') {
      retryState = 'RETRY_STATE_NON_RETRYABLE_FAILURE';
    }
    const wasStarted = act.phase === 'started';
    this.finish(execution, act);
    this.engine.deliver(execution, () => {
      const started = wasStarted ? this.writeStarted(execution, act) : 0;
      execution.addEvent(
        'ActivityTaskTimedOut',
        { failure, scheduledEventId: act.scheduledEventId, startedEventId: started, retryState },
        this.engine.now(),
      );
    });
  }

  /**
   * RequestCancelActivityTask: an activity that has not started is canceled at once (returns
   * true: the workflow needs a task to see it); a running one is told through its next heartbeat.
   */
  requestCancel(execution: Execution, scheduledEventId: number, completedEventId: number): boolean {
    const act = execution.activities.get(scheduledEventId);
    if (!act) return false;
    const requested = execution.addEvent(
      'ActivityTaskCancelRequested',
      { scheduledEventId, workflowTaskCompletedEventId: completedEventId },
      this.engine.now(),
    );
    act.cancelRequested = true;
    act.cancelRequestedEventId = requested.eventId;
    if (act.phase === 'started') return false;
    this.finish(execution, act);
    execution.addEvent(
      'ActivityTaskCanceled',
      {
        details: null,
        latestCancelRequestedEventId: requested.eventId,
        scheduledEventId,
        startedEventId: 0,
        identity: '',
      },
      this.engine.now(),
    );
    return true;
  }

  private writeStarted(execution: Execution, act: ActivityState): number {
    return execution.addEvent(
      'ActivityTaskStarted',
      {
        scheduledEventId: act.scheduledEventId,
        identity: act.startedIdentity,
        requestId: act.startedRequestId,
        attempt: act.attempt,
        lastFailure: act.lastFailure,
        workerVersion: null,
        buildIdRedirectCounter: 0,
      },
      act.startedAt || this.engine.now(),
    ).eventId;
  }

  private finish(execution: Execution, act: ActivityState): void {
    for (const t of Object.values(act.timers)) this.engine.clock.cancel(t);
    act.seq++;
    execution.activities.delete(act.scheduledEventId);
  }

  releaseAll(execution: Execution): void {
    for (const act of [...execution.activities.values()]) this.finish(execution, act);
  }

  /** For DescribeWorkflowExecution. */
  static pendingInfo(act: ActivityState): unknown {
    const state = act.cancelRequested
      ? 'PENDING_ACTIVITY_STATE_CANCEL_REQUESTED'
      : act.paused
        ? act.phase === 'started'
          ? 'PENDING_ACTIVITY_STATE_PAUSE_REQUESTED'
          : 'PENDING_ACTIVITY_STATE_PAUSED'
        : act.phase === 'started'
          ? 'PENDING_ACTIVITY_STATE_STARTED'
          : 'PENDING_ACTIVITY_STATE_SCHEDULED';
    return {
      activityId: act.activityId,
      activityType: { name: act.activityType },
      state,
      heartbeatDetails: act.heartbeatDetails,
      lastHeartbeatTime: act.lastHeartbeatAt ? msToTimestamp(act.lastHeartbeatAt) : null,
      lastStartedTime: act.startedAt ? msToTimestamp(act.startedAt) : null,
      attempt: act.attempt,
      maximumAttempts: act.retry.maximumAttempts,
      scheduledTime: msToTimestamp(act.attemptScheduledAt),
      expirationTime: act.scheduleToCloseMs ? msToTimestamp(act.firstScheduledAt + act.scheduleToCloseMs) : null,
      lastFailure: act.lastFailure,
      lastWorkerIdentity: act.startedIdentity,
      currentRetryInterval: null,
      lastAttemptCompleteTime: null,
      nextAttemptScheduleTime: null,
      paused: act.paused,
      activityOptions: null,
      priority: act.priority,
    };
  }
}

function timeoutLabel(type: TimeoutType): string {
  return {
    SCHEDULE_TO_START: 'ScheduleToStart',
    START_TO_CLOSE: 'StartToClose',
    SCHEDULE_TO_CLOSE: 'ScheduleToClose',
    HEARTBEAT: 'Heartbeat',
  }[type];
}

/** The server's defaults for an activity retry policy (core sends retryPolicy: null when unset). */
export function normalizeRetryPolicy(p: any): RetryPolicy {
  const initialIntervalMs = durationToMs(p?.initialInterval) || DEFAULT_INITIAL_INTERVAL_MS;
  return {
    initialIntervalMs,
    backoffCoefficient: p?.backoffCoefficient && p.backoffCoefficient >= 1 ? p.backoffCoefficient : DEFAULT_BACKOFF,
    maximumIntervalMs: durationToMs(p?.maximumInterval) || initialIntervalMs * 100,
    maximumAttempts: p?.maximumAttempts ?? 0,
    nonRetryableErrorTypes: p?.nonRetryableErrorTypes ?? [],
  };
}

export function retryPolicyToProto(p: RetryPolicy): unknown {
  return {
    initialInterval: msToDuration(p.initialIntervalMs),
    backoffCoefficient: p.backoffCoefficient,
    maximumInterval: msToDuration(p.maximumIntervalMs),
    maximumAttempts: p.maximumAttempts,
    nonRetryableErrorTypes: p.nonRetryableErrorTypes,
  };
}
