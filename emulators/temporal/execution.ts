// One workflow run: its history (the source of truth the SDK replays) and the mutable state the
// engine keeps beside it (pending workflow task, activities, timers, held-back events).
import type { ClockTimer } from './clock';
import { approximateEncodedSize } from './continue-as-new-suggestion';
import type { Payload } from './proto-values';
import { msToTimestamp } from './proto-values';
import type { SearchAttributePayloads } from './search-attributes';
import type { VisibilityRecord } from './visibility-query';

export type ExecutionStatus = VisibilityRecord['executionStatus'];

export const STATUS_ENUM: Record<ExecutionStatus, string> = {
  Running: 'WORKFLOW_EXECUTION_STATUS_RUNNING',
  Completed: 'WORKFLOW_EXECUTION_STATUS_COMPLETED',
  Failed: 'WORKFLOW_EXECUTION_STATUS_FAILED',
  Canceled: 'WORKFLOW_EXECUTION_STATUS_CANCELED',
  Terminated: 'WORKFLOW_EXECUTION_STATUS_TERMINATED',
  ContinuedAsNew: 'WORKFLOW_EXECUTION_STATUS_CONTINUED_AS_NEW',
  TimedOut: 'WORKFLOW_EXECUTION_STATUS_TIMED_OUT',
};

/** A history event as sent on the wire (proto-loader object shape). */
export interface HistoryEvent {
  eventId: number;
  eventTime: { seconds: number; nanos: number };
  eventType: string;
  version: number;
  taskId: number;
  workerMayIgnore: boolean;
  userMetadata: unknown;
  links: unknown[];
  [attributes: string]: unknown;
}

export interface WorkflowTaskState {
  /** Bumped on every (re)schedule so queued copies and old task tokens become stale. */
  seq: number;
  phase: 'scheduled' | 'started';
  attempt: number;
  sticky: boolean;
  queueName: string;
  scheduledAt: number;
  scheduledEventId: number;
  startedEventId: number;
  timeoutTimer?: ClockTimer;
  stickyTimer?: ClockTimer;
}

export interface RetryPolicy {
  initialIntervalMs: number;
  backoffCoefficient: number;
  maximumIntervalMs: number;
  maximumAttempts: number;
  nonRetryableErrorTypes: string[];
}

export interface ActivityState {
  scheduledEventId: number;
  activityId: string;
  activityType: string;
  taskQueue: string;
  input: unknown;
  header: unknown;
  priority: unknown;
  scheduleToCloseMs: number;
  scheduleToStartMs: number;
  startToCloseMs: number;
  heartbeatMs: number;
  retry: RetryPolicy;
  attempt: number;
  /** Bumped per attempt dispatch; task tokens carry it so a late answer from an old attempt is refused. */
  seq: number;
  phase: 'scheduled' | 'started' | 'backoff';
  firstScheduledAt: number;
  attemptScheduledAt: number;
  startedAt: number;
  startedIdentity: string;
  startedRequestId: string;
  heartbeatDetails: unknown;
  lastHeartbeatAt: number;
  lastFailure: unknown;
  /** PauseActivity: no new attempt is dispatched until UnpauseActivity or ResetActivity. */
  paused: boolean;
  /** ResetActivity on a running attempt: its retry starts again at attempt 1. */
  resetRequested: boolean;
  cancelRequested: boolean;
  cancelRequestedEventId: number;
  timers: {
    scheduleToClose?: ClockTimer;
    scheduleToStart?: ClockTimer;
    startToClose?: ClockTimer;
    heartbeat?: ClockTimer;
    retry?: ClockTimer;
  };
}

/** A child's link to the parent run that started it (kept across the child's continue-as-new). */
export interface ParentLink {
  execution: Execution;
  initiatedEventId: number;
  startedEventId: number;
}

/** A parent's record of a child it started, for the parent close policy. */
export interface ChildLink {
  workflowId: string;
  firstRunId: string;
  parentClosePolicy: string;
}

export interface TimerState {
  timerId: string;
  startedEventId: number;
  clockTimer: ClockTimer;
  /** The TimerFired write, when the timer fired during a workflow task and the event is held back. */
  heldFire?: () => void;
}

let taskIdSeq = 1;

export class Execution {
  readonly history: HistoryEvent[] = [];
  status: ExecutionStatus = 'Running';
  closeTime: number | null = null;
  executionTime: number;
  /** Started event id of the last completed workflow task (previousStartedEventId on the wire). */
  previousStartedEventId = 0;
  wft: WorkflowTaskState | null = null;
  /** Consecutive failed/timed-out workflow tasks; the next task's attempt is this + 1. */
  wftFailures = 0;
  sticky: { queueName: string; scheduleToStartMs: number } | null = null;
  /** Events that arrived while a workflow task was running; written after it completes. */
  buffered: Array<() => void> = [];
  readonly activities = new Map<number, ActivityState>();
  readonly timers = new Map<string, TimerState>();
  readonly requestIds = new Set<string>();
  readonly signalRequestIds = new Set<string>();
  cancelRequested = false;
  applyingCommands = false;
  parent: ParentLink | null = null;
  readonly children: ChildLink[] = [];
  newExecutionRunId: string | null = null;
  runTimeoutTimer: ClockTimer | undefined;
  firstTaskTimer: ClockTimer | undefined;
  historySizeBytes = 0;
  private readonly listeners = new Set<() => void>();

  constructor(
    readonly namespace: string,
    readonly workflowId: string,
    readonly runId: string,
    readonly firstRunId: string,
    readonly workflowType: string,
    readonly taskQueue: string,
    readonly startTime: number,
    readonly config: {
      workflowTaskTimeoutMs: number;
      runTimeoutMs: number;
      executionTimeoutMs: number;
      /** Absolute server time when the whole chain (all runs) expires; 0 = never. */
      executionExpiresAt: number;
    },
    public memo: Record<string, Payload>,
    public searchAttributes: SearchAttributePayloads,
    readonly userMetadata: unknown,
    readonly startRequestId: string,
  ) {
    this.executionTime = startTime;
  }

  get running(): boolean {
    return this.status === 'Running';
  }

  get nextEventId(): number {
    return this.history.length + 1;
  }

  lastEvent(): HistoryEvent | undefined {
    return this.history[this.history.length - 1];
  }

  /**
   * Appends an event. `name` is the event type in PascalCase (e.g. 'WorkflowTaskScheduled'); the
   * wire enum and the attribute field are derived from it exactly as the proto names them.
   */
  addEvent(name: string, attributes: Record<string, unknown>, now: number, userMetadata: unknown = null): HistoryEvent {
    const event: HistoryEvent = {
      eventId: this.history.length + 1,
      eventTime: msToTimestamp(now),
      eventType: eventTypeEnum(name),
      version: 0,
      taskId: taskIdSeq++,
      workerMayIgnore: false,
      userMetadata,
      links: [],
      [attributesField(name)]: attributes,
    };
    this.history.push(event);
    // The SDK's `historySize` and the continue-as-new size threshold read it.
    this.historySizeBytes += approximateEncodedSize(event);
    this.notify();
    return event;
  }

  /** Change listeners: long polls on history, queries waiting for the workflow task to finish. */
  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  notify(): void {
    // Called on every event; most runs have no listener most of the time.
    if (this.listeners.size === 0) return;
    for (const l of [...this.listeners]) l();
  }
}

const enumCache = new Map<string, string>();
export function eventTypeEnum(name: string): string {
  let e = enumCache.get(name);
  if (!e) {
    e = 'EVENT_TYPE_' + name.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase();
    enumCache.set(name, e);
  }
  return e;
}

export function attributesField(name: string): string {
  return name[0].toLowerCase() + name.slice(1) + 'EventAttributes';
}

/** Reads an event's attributes by PascalCase name. */
export function eventAttributes<T = Record<string, unknown>>(event: HistoryEvent, name: string): T {
  return event[attributesField(name)] as T;
}

/** The workflow at the top of a chain of parents (DescribeWorkflowExecution's rootExecution). */
export function rootExecution(execution: Execution): { workflowId: string; runId: string } {
  let e = execution;
  while (e.parent) e = e.parent.execution;
  return { workflowId: e.workflowId, runId: e.runId };
}
