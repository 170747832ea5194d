// The engine: owns namespaces, the clock and matching, and implements the workflow lifecycle
// (start, signal, cancel request, terminate, close, continue-as-new). Workflow tasks, commands,
// activities and queries live in their own modules and call back into this class.
import { randomUUID } from 'node:crypto';
import { ActivityScheduler } from './activities';
import type { CancelSignal } from './cancel-signal';
import type { ClientConnection } from './handlers/types';
import { VirtualClock } from './clock';
import { applyParentClosePolicy, childClosed } from './child-workflows';
import { applyCommands } from './commands';
import { type ContinueAsNewThresholds, continueAsNewThresholds } from './continue-as-new-suggestion';
import { invalidArgument, notFound, workflowAlreadyStarted } from './errors';
import { Execution, type ExecutionStatus, eventAttributes, rootExecution } from './execution';
import { Matching, queueKey, type PollContext } from './matching';
import { Namespaces, type NamespaceState, currentRun, findRun } from './namespaces';
import { type Payload, durationToMs, msToDuration, msToOptionalDuration } from './proto-values';
import { Queries } from './queries';
import { validateSearchAttributes } from './search-attributes';
import { abortUpdates } from './updates';
import { WorkflowTasks } from './workflow-tasks';
import { closeOrRetry, workflowTimeoutFailure } from './workflow-retry';

export interface EngineOptions {
  namespace: string;
  timeSkipping: boolean;
  log: (msg: string) => void;
  /** Lower than the server's defaults so tests reach them quickly (continue-as-new-suggestion.ts). */
  continueAsNewSuggestedAt?: Partial<ContinueAsNewThresholds>;
}

export interface StartParams {
  namespace: string;
  workflowId: string;
  workflowType: string;
  taskQueue: string;
  input: unknown;
  header: unknown;
  memo: Record<string, Payload>;
  searchAttributes: Record<string, Payload> | null;
  userMetadata: unknown;
  identity: string;
  requestId: string;
  workflowTaskTimeoutMs: number;
  runTimeoutMs: number;
  executionTimeoutMs: number;
  retryPolicy: unknown;
  /** temporal.api.common.v1.Priority from the start request or the child command. */
  priority: unknown;
  firstTaskDelayMs: number;
  reusePolicy: string;
  conflictPolicy: string;
  /** Written right after WorkflowExecutionStarted (signalWithStart). */
  signal?: { name: string; input: unknown; header: unknown; identity: string };
  /** Set when a workflow starts this one as its child. */
  parent?: { execution: Execution; initiatedEventId: number };
  /** requestEagerExecution: the poll the first workflow task is handed to, in the start response. */
  eager?: PollContext;
}

const DEFAULT_WORKFLOW_TASK_TIMEOUT_MS = 10_000;
// The server caps workflow task timeouts at 120 s.
const MAX_WORKFLOW_TASK_TIMEOUT_MS = 120_000;

export class Engine {
  readonly clock = new VirtualClock();
  readonly matching = new Matching();
  readonly namespaces = new Namespaces();
  readonly workflowTasks: WorkflowTasks;
  readonly activities: ActivityScheduler;
  readonly queries: Queries;
  readonly continueAsNewThresholds: ContinueAsNewThresholds;
  /** Running executions, for "is anything in flight" checks (time skipping). */
  readonly openRuns = new Set<Execution>();
  /**
   * Time skipping runs while this is <= 0. Like the Java test server, a server without time
   * skipping counts as locked once, so TestService.UnlockTimeSkipping (the time-skipping client's
   * result()) turns it on for the duration and LockTimeSkipping turns it back off.
   */
  private timeSkipLocks: number;
  private autoSkipInterval: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(readonly options: EngineOptions) {
    this.namespaces.register({
      name: options.namespace,
      description: 'default namespace of the embedded Temporal engine',
    });
    this.workflowTasks = new WorkflowTasks(this);
    this.activities = new ActivityScheduler(this);
    this.queries = new Queries(this);
    this.continueAsNewThresholds = continueAsNewThresholds(options.continueAsNewSuggestedAt);
    this.timeSkipLocks = options.timeSkipping ? 0 : 1;
    // Polling keeps the skip decision in one place instead of at every state change.
    this.autoSkipInterval = setInterval(() => this.autoSkip(), 10);
    this.autoSkipInterval.unref();
  }

  now(): number {
    return this.clock.now();
  }

  log(msg: string): void {
    this.options.log(msg);
  }

  /** History long polls (waitNewEvent) waiting for an event; see openLongPolls. */
  historyWaits = 0;

  /** Long polls parked in the engine right now: task queue polls and history waits. */
  openLongPolls(): { taskQueues: number; history: number } {
    return { taskQueues: this.matching.openPolls(), history: this.historyWaits };
  }

  stop(): void {
    const open = this.openLongPolls();
    this.log(`stopping: ending ${open.taskQueues} task queue polls and ${open.history} history long polls`);
    this.stopped = true;
    if (this.autoSkipInterval) clearInterval(this.autoSkipInterval);
    this.clock.stop();
    this.matching.close();
    this.queries.close();
    for (const run of this.openRuns) run.notify();
  }

  get isStopped(): boolean {
    return this.stopped;
  }

  // ---------------------------------------------------------------- start

  /** StartWorkflowExecution / SignalWithStart: applies id reuse and conflict policies. */
  start(params: StartParams): { runId: string; started: boolean; execution: Execution; eagerWorkflowTask: unknown } {
    const ns = this.namespaces.get(params.namespace);
    if (!params.workflowId) throw invalidArgument('WorkflowId is not set on request.');
    if (!params.workflowType) throw invalidArgument('WorkflowType is not set on request.');
    if (!params.taskQueue) throw invalidArgument('TaskQueue is not set on request.');
    if (params.workflowId.length > 1000) throw invalidArgument('WorkflowId length exceeds limit.');
    const existing = currentRun(ns, params.workflowId);
    if (existing?.requestIds.has(params.requestId)) {
      return { runId: existing.runId, started: true, execution: existing, eagerWorkflowTask: null };
    }
    if (existing?.running) {
      let conflict = params.conflictPolicy;
      if (params.reusePolicy === 'WORKFLOW_ID_REUSE_POLICY_TERMINATE_IF_RUNNING')
        conflict = 'WORKFLOW_ID_CONFLICT_POLICY_TERMINATE_EXISTING';
      switch (conflict) {
        case 'WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING':
          existing.requestIds.add(params.requestId);
          if (params.signal)
            this.signal(
              existing,
              params.signal.name,
              params.signal.input,
              params.signal.header,
              params.signal.identity,
            );
          return { runId: existing.runId, started: false, execution: existing, eagerWorkflowTask: null };
        case 'WORKFLOW_ID_CONFLICT_POLICY_TERMINATE_EXISTING':
          this.terminate(
            existing,
            'terminated by a new start with WorkflowIdConflictPolicy TERMINATE_EXISTING',
            null,
            params.identity,
          );
          break;
        default:
          throw workflowAlreadyStarted(params.workflowId, existing.startRequestId, existing.runId);
      }
    } else if (existing) {
      switch (params.reusePolicy) {
        case 'WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE':
          throw workflowAlreadyStarted(params.workflowId, existing.startRequestId, existing.runId);
        case 'WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE_FAILED_ONLY':
          if (existing.status === 'Completed' || existing.status === 'ContinuedAsNew') {
            throw workflowAlreadyStarted(params.workflowId, existing.startRequestId, existing.runId);
          }
          break;
        default:
          break;
      }
    }
    const sa = validateSearchAttributes(params.searchAttributes, ns.searchAttributes).set;
    const runId = randomUUID();
    const taskTimeout = Math.min(
      params.workflowTaskTimeoutMs || DEFAULT_WORKFLOW_TASK_TIMEOUT_MS,
      MAX_WORKFLOW_TASK_TIMEOUT_MS,
    );
    const now = this.now();
    // Eager start, as the server does it: whenever asked and not with a start delay. The SDK asks
    // only after reserving a slot in a worker of its own process, so whether that worker happens
    // to have a poll open right now does not matter; a requester that drops the task lets it time out.
    const eager = params.eager && params.firstTaskDelayMs === 0 ? params.eager : undefined;
    const execution = this.createRun(ns, {
      workflowId: params.workflowId,
      runId,
      firstRunId: runId,
      workflowType: params.workflowType,
      taskQueue: params.taskQueue,
      memo: params.memo,
      searchAttributes: sa,
      userMetadata: params.userMetadata,
      requestId: params.requestId,
      config: {
        workflowTaskTimeoutMs: taskTimeout,
        runTimeoutMs: params.runTimeoutMs || params.executionTimeoutMs,
        executionTimeoutMs: params.executionTimeoutMs,
        executionExpiresAt: params.executionTimeoutMs ? now + params.firstTaskDelayMs + params.executionTimeoutMs : 0,
      },
      started: {
        workflowType: { name: params.workflowType },
        parentWorkflowNamespace: params.parent?.execution.namespace ?? '',
        parentWorkflowNamespaceId: params.parent ? ns.id : '',
        parentWorkflowExecution: params.parent
          ? { workflowId: params.parent.execution.workflowId, runId: params.parent.execution.runId }
          : null,
        parentInitiatedEventId: params.parent?.initiatedEventId ?? 0,
        taskQueue: { name: params.taskQueue, kind: 'TASK_QUEUE_KIND_NORMAL', normalName: '' },
        input: params.input,
        workflowExecutionTimeout: msToOptionalDuration(params.executionTimeoutMs),
        workflowRunTimeout: msToOptionalDuration(params.runTimeoutMs || params.executionTimeoutMs),
        workflowTaskTimeout: msToDuration(taskTimeout),
        continuedExecutionRunId: '',
        initiator: 'CONTINUE_AS_NEW_INITIATOR_UNSPECIFIED',
        continuedFailure: null,
        lastCompletionResult: null,
        identity: params.identity,
        retryPolicy: params.retryPolicy,
        attempt: 1,
        firstWorkflowTaskBackoff: msToDuration(params.firstTaskDelayMs),
        header: params.header,
        prevAutoResetPoints: null,
        // Set for children only: a workflow started by a client is its own root and reads none.
        rootWorkflowExecution: params.parent ? rootExecution(params.parent.execution) : null,
        priority: params.priority ?? null,
      },
      firstTaskDelayMs: params.firstTaskDelayMs,
      signal: params.signal,
      parent: params.parent ? { ...params.parent, startedEventId: 0 } : null,
      holdFirstTask: eager !== undefined,
    });
    const eagerWorkflowTask = eager ? this.workflowTasks.startEagerly(execution, eager) : null;
    return { runId, started: true, execution, eagerWorkflowTask };
  }

  /** Creates a run, writes WorkflowExecutionStarted and schedules its first workflow task. */
  createRun(
    ns: NamespaceState,
    p: {
      workflowId: string;
      runId: string;
      firstRunId: string;
      workflowType: string;
      taskQueue: string;
      memo: Record<string, Payload>;
      searchAttributes: Record<string, Payload>;
      userMetadata: unknown;
      requestId: string;
      config: Execution['config'];
      started: Record<string, unknown>;
      firstTaskDelayMs: number;
      signal?: StartParams['signal'];
      parent?: Execution['parent'];
      /** The caller hands out the first workflow task itself (eager start). */
      holdFirstTask?: boolean;
    },
  ): Execution {
    const now = this.now();
    const execution = new Execution(
      ns.name,
      p.workflowId,
      p.runId,
      p.firstRunId,
      p.workflowType,
      p.taskQueue,
      now,
      p.config,
      p.memo,
      p.searchAttributes,
      p.userMetadata,
      p.requestId,
    );
    execution.requestIds.add(p.requestId);
    execution.executionTime = now + p.firstTaskDelayMs;
    execution.parent = p.parent ?? null;
    const chain = ns.chains.get(p.workflowId) ?? [];
    chain.push(execution);
    ns.chains.set(p.workflowId, chain);
    ns.runs.set(p.runId, execution);
    this.openRuns.add(execution);
    execution.addEvent(
      'WorkflowExecutionStarted',
      {
        ...p.started,
        originalExecutionRunId: p.runId,
        firstExecutionRunId: p.firstRunId,
        workflowId: p.workflowId,
        memo: { fields: p.memo },
        searchAttributes: { indexedFields: p.searchAttributes },
        workflowExecutionExpirationTime: p.config.executionExpiresAt
          ? {
              seconds: Math.floor(p.config.executionExpiresAt / 1000),
              nanos: (p.config.executionExpiresAt % 1000) * 1e6,
            }
          : null,
      },
      now,
      p.userMetadata,
    );
    if (p.signal) this.writeSignal(execution, p.signal.name, p.signal.input, p.signal.header, p.signal.identity);
    // Run timeout (bounded by the chain's execution timeout).
    const runDeadline = p.config.runTimeoutMs ? now + p.config.runTimeoutMs : 0;
    const deadline = [runDeadline, p.config.executionExpiresAt].filter((d) => d > 0).sort((a, b) => a - b)[0];
    if (deadline) execution.runTimeoutTimer = this.clock.at(deadline, () => this.timeOut(execution));
    if (p.firstTaskDelayMs > 0) {
      execution.firstTaskTimer = this.clock.after(p.firstTaskDelayMs, () => this.workflowTasks.schedule(execution));
    } else if (!p.holdFirstTask) {
      this.workflowTasks.schedule(execution);
    }
    this.log(`started ${p.workflowType} ${p.workflowId}/${p.runId}`);
    return execution;
  }

  // ---------------------------------------------------------------- external events

  /**
   * Delivers an event from outside the workflow (signal, activity result, timer, cancel request).
   * While a workflow task runs, nothing may be written between its Started and Completed events, so
   * the write is held back and replayed after the completion (then a new task is scheduled).
   */
  deliver(execution: Execution, write: () => void): void {
    if (!execution.running) return;
    if (execution.wft?.phase === 'started' || execution.applyingCommands) {
      execution.buffered.push(write);
      return;
    }
    write();
    this.workflowTasks.schedule(execution);
  }

  signal(execution: Execution, name: string, input: unknown, header: unknown, identity: string): void {
    if (!execution.running) throw notFound('workflow execution already completed');
    this.deliver(execution, () => this.writeSignal(execution, name, input, header, identity));
  }

  private writeSignal(execution: Execution, name: string, input: unknown, header: unknown, identity: string): void {
    execution.addEvent(
      'WorkflowExecutionSignaled',
      { signalName: name, input, identity, header, skipGenerateWorkflowTask: false, externalWorkflowExecution: null },
      this.now(),
    );
  }

  requestCancel(execution: Execution, reason: string, identity: string): void {
    if (!execution.running) throw notFound('workflow execution already completed');
    // Repeated cancel requests are no-ops, as on the server.
    if (execution.cancelRequested) return;
    execution.cancelRequested = true;
    this.deliver(execution, () =>
      execution.addEvent(
        'WorkflowExecutionCancelRequested',
        { cause: reason, externalInitiatedEventId: 0, externalWorkflowExecution: null, identity },
        this.now(),
      ),
    );
  }

  terminate(execution: Execution, reason: string, details: unknown, identity: string): void {
    if (!execution.running) throw notFound('workflow execution already completed');
    this.workflowTasks.failInFlightForClose(execution);
    this.close(execution, 'Terminated', 'WorkflowExecutionTerminated', { reason, details, identity });
  }

  private timeOut(execution: Execution): void {
    if (!execution.running) return;
    this.workflowTasks.failInFlightForClose(execution);
    closeOrRetry(this, execution, 'TimedOut', {}, workflowTimeoutFailure());
  }

  /** Writes the close event and releases everything the run held. */
  close(execution: Execution, status: ExecutionStatus, eventName: string, attributes: Record<string, unknown>): void {
    const now = this.now();
    execution.buffered = [];
    execution.addEvent(eventName, attributes, now);
    execution.status = status;
    execution.closeTime = now;
    this.openRuns.delete(execution);
    this.clock.cancel(execution.runTimeoutTimer);
    this.clock.cancel(execution.firstTaskTimer);
    for (const t of execution.timers.values()) this.clock.cancel(t.clockTimer);
    execution.timers.clear();
    this.activities.releaseAll(execution);
    this.workflowTasks.release(execution);
    abortUpdates(execution, status);
    execution.notify();
    this.log(`closed ${execution.workflowId}/${execution.runId}: ${status}`);
    if (status !== 'ContinuedAsNew') childClosed(this, execution, attributes);
    applyParentClosePolicy(this, execution);
  }

  /** Applies a workflow task completion's commands (see commands.ts). */
  applyCommands(
    execution: Execution,
    commands: any[],
    completedEventId: number,
    identity: string,
  ): ReturnType<typeof applyCommands> {
    // Events caused by the commands themselves (e.g. signalling this same workflow) are held back
    // like any other event arriving during the task, so they follow the command events.
    execution.applyingCommands = true;
    try {
      return applyCommands(this, execution, commands, completedEventId, identity);
    } finally {
      execution.applyingCommands = false;
    }
  }

  continueAsNew(execution: Execution, attrs: any, completedEventId: number): void {
    const ns = this.namespaces.get(execution.namespace);
    const newRunId = randomUUID();
    const workflowType = attrs.workflowType?.name || execution.workflowType;
    const taskQueue = attrs.taskQueue?.name || execution.taskQueue;
    const runTimeoutMs = durationToMs(attrs.workflowRunTimeout) || execution.config.runTimeoutMs;
    const taskTimeoutMs = durationToMs(attrs.workflowTaskTimeout) || execution.config.workflowTaskTimeoutMs;
    const backoffMs = durationToMs(attrs.backoffStartInterval);
    const memo = attrs.memo?.fields && Object.keys(attrs.memo.fields).length > 0 ? attrs.memo.fields : execution.memo;
    let searchAttributes = execution.searchAttributes;
    if (attrs.searchAttributes?.indexedFields && Object.keys(attrs.searchAttributes.indexedFields).length > 0) {
      searchAttributes = validateSearchAttributes(attrs.searchAttributes.indexedFields, ns.searchAttributes).set;
    }
    this.close(execution, 'ContinuedAsNew', 'WorkflowExecutionContinuedAsNew', {
      newExecutionRunId: newRunId,
      workflowType: { name: workflowType },
      taskQueue: { name: taskQueue, kind: 'TASK_QUEUE_KIND_NORMAL', normalName: '' },
      header: attrs.header,
      input: attrs.input,
      workflowRunTimeout: msToOptionalDuration(runTimeoutMs),
      workflowTaskTimeout: msToDuration(taskTimeoutMs),
      workflowTaskCompletedEventId: completedEventId,
      backoffStartInterval: msToDuration(backoffMs),
      initiator: attrs.initiator || 'CONTINUE_AS_NEW_INITIATOR_WORKFLOW',
      failure: attrs.failure,
      lastCompletionResult: attrs.lastCompletionResult,
      inheritBuildId: false,
    });
    execution.newExecutionRunId = newRunId;
    this.createRun(ns, {
      workflowId: execution.workflowId,
      runId: newRunId,
      firstRunId: execution.firstRunId,
      workflowType,
      taskQueue,
      memo,
      searchAttributes,
      userMetadata: null,
      requestId: randomUUID(),
      config: { ...execution.config, workflowTaskTimeoutMs: taskTimeoutMs, runTimeoutMs },
      parent: execution.parent,
      started: {
        workflowType: { name: workflowType },
        parentWorkflowNamespace: execution.parent?.execution.namespace ?? '',
        parentWorkflowNamespaceId: execution.parent ? ns.id : '',
        parentWorkflowExecution: execution.parent
          ? { workflowId: execution.parent.execution.workflowId, runId: execution.parent.execution.runId }
          : null,
        parentInitiatedEventId: execution.parent?.initiatedEventId ?? 0,
        taskQueue: { name: taskQueue, kind: 'TASK_QUEUE_KIND_NORMAL', normalName: '' },
        input: attrs.input,
        workflowExecutionTimeout: msToOptionalDuration(execution.config.executionTimeoutMs),
        workflowRunTimeout: msToOptionalDuration(runTimeoutMs),
        workflowTaskTimeout: msToDuration(taskTimeoutMs),
        continuedExecutionRunId: execution.runId,
        initiator: attrs.initiator || 'CONTINUE_AS_NEW_INITIATOR_WORKFLOW',
        continuedFailure: attrs.failure,
        lastCompletionResult: attrs.lastCompletionResult,
        identity: '',
        retryPolicy: attrs.retryPolicy,
        attempt: 1,
        firstWorkflowTaskBackoff: msToDuration(backoffMs),
        header: attrs.header,
        prevAutoResetPoints: null,
        rootWorkflowExecution: execution.parent ? rootExecution(execution.parent.execution) : null,
        priority: eventAttributes<{ priority?: unknown }>(execution.history[0], 'WorkflowExecutionStarted').priority,
      },
      firstTaskDelayMs: backoffMs,
    });
  }

  findRun(
    namespace: string,
    execution: { workflowId?: string | null; runId?: string | null } | null | undefined,
  ): Execution {
    return findRun(this.namespaces.get(namespace), execution);
  }

  workflowQueueKey(execution: Execution, name: string): string {
    return queueKey(execution.namespace, 'workflow', name);
  }

  // ---------------------------------------------------------------- time

  /**
   * Whether work is in flight. `strict` (automatic time skipping) counts every pending task;
   * otherwise (skipTime) only tasks some worker is actually polling for, so a skip with no worker
   * running does not wait for nothing.
   */
  busy(strict: boolean): { workflowTasks: boolean; activities: boolean; retryingWorkflowTasks: boolean } {
    let workflowTasks = false;
    let activities = false;
    let retryingWorkflowTasks = false;
    for (const run of this.openRuns) {
      const wft = run.wft;
      if (
        wft &&
        (strict || wft.phase === 'started' || this.matching.hasLivePoller(this.workflowQueueKey(run, wft.queueName)))
      ) {
        workflowTasks = true;
        if (wft.attempt > 1) retryingWorkflowTasks = true;
      }
      if (run.buffered.length > 0) workflowTasks = true;
      for (const act of run.activities.values()) {
        if (act.phase === 'started') activities = true;
        else if (
          act.phase === 'scheduled' &&
          (strict || this.matching.hasLivePoller(queueKey(run.namespace, 'activity', act.taskQueue)))
        )
          activities = true;
      }
      if (workflowTasks && activities) break;
    }
    return { workflowTasks, activities: activities || this.queries.pending() > 0, retryingWorkflowTasks };
  }

  /** Waits until the workers have reacted to what just happened (bounded, real time). */
  private async settle(): Promise<void> {
    const started = Date.now();
    // Let the poll responses and the workers' answers travel first.
    await new Promise((r) => setTimeout(r, 5));
    for (;;) {
      const { workflowTasks, activities, retryingWorkflowTasks } = this.busy(false);
      const waited = Date.now() - started;
      if (!workflowTasks && !activities) return;
      // A workflow task normally takes milliseconds, but a worker's first one (isolate start) can
      // take seconds on a loaded machine: wait for it rather than fire its timeout. A task being
      // retried (a broken workflow the worker no longer answers) is left to its timeout, and
      // activities may legitimately run long.
      const limit = workflowTasks && !retryingWorkflowTasks ? 10_000 : 2_000;
      if (waited > limit) return;
      await new Promise((r) => setTimeout(r, 5));
    }
  }

  /**
   * skipTime: moves the clock forward by ms, firing due timers and timeouts one at a time and
   * letting workers react to each before the next, so that timers the workflow starts in
   * reaction (e.g. "remind again in 24h") are honoured within the same skip.
   */
  async skipTime(ms: number): Promise<void> {
    if (!(ms >= 0)) throw invalidArgument('skipTime needs a non-negative duration');
    const target = this.now() + ms;
    await this.settle();
    while (!this.stopped && this.clock.jumpToNext(target)) {
      await this.settle();
    }
    this.clock.setTo(target);
    await this.settle();
  }

  /**
   * TestService Sleep, SleepUntil and UnlockTimeSkippingWithSleep, as the Java test server does
   * them: the end is a deadline on the virtual clock like any timer, so it comes in real time while
   * skipping is locked or work is in flight, and by a jump (autoSkip) once nothing is. With `unlock`
   * one lock is lifted for the wait and taken back when the deadline fires. Returns once the
   * workflow tasks that became due by then (timer fires and what they set off) have been handled.
   */
  async sleepUntil(deadline: number, unlock: boolean, signal: CancelSignal): Promise<void> {
    await new Promise<void>((resolve) => {
      let done = false;
      const finish = () => {
        if (done) return;
        done = true;
        if (unlock) this.lockTimeSkipping();
        signal.removeEventListener('abort', onAbort);
        resolve();
      };
      const timer = this.clock.at(deadline, finish);
      const onAbort = () => {
        this.clock.cancel(timer);
        finish();
      };
      signal.addEventListener('abort', onAbort);
      if (unlock) this.unlockTimeSkipping();
      if (this.stopped || signal.aborted) onAbort();
    });
    while (!this.stopped && !signal.aborted && this.workflowTasksPending()) {
      await new Promise((r) => setTimeout(r, 5));
    }
  }

  /**
   * A workflow task some worker will take is pending or running, or events wait for one. Retried
   * tasks (a broken workflow) and tasks no worker polls for would never settle, so they do not count.
   */
  private workflowTasksPending(): boolean {
    for (const run of this.openRuns) {
      if (run.buffered.length > 0) return true;
      const wft = run.wft;
      if (!wft || wft.attempt > 1) continue;
      if (wft.phase === 'started' || this.matching.hasLivePoller(this.workflowQueueKey(run, wft.queueName)))
        return true;
    }
    return false;
  }

  /**
   * LockTimeSkipping / UnlockTimeSkipping. With the connection they came on, the net change is
   * undone when that connection closes: a client that went away mid-call (a test that ended while
   * the time-skipping client waited for a result) leaves nothing locked, or unlocked, behind.
   */
  lockTimeSkipping(connection?: ClientConnection): void {
    this.timeSkipLocks++;
    this.trackLock(connection, +1);
  }

  unlockTimeSkipping(connection?: ClientConnection): void {
    this.timeSkipLocks--;
    this.trackLock(connection, -1);
  }

  private readonly locksByConnection = new Map<ClientConnection, number>();

  private trackLock(connection: ClientConnection | undefined, delta: number): void {
    if (!connection) return;
    const held = this.locksByConnection.get(connection);
    if (held === undefined) {
      connection.onClose(() => {
        const left = this.locksByConnection.get(connection) ?? 0;
        this.locksByConnection.delete(connection);
        if (left !== 0) this.log(`a client connection closed holding ${left} time-skipping lock(s): released`);
        this.timeSkipLocks -= left;
      });
    }
    this.locksByConnection.set(connection, (held ?? 0) + delta);
  }

  /** Back to the engine's initial time-skipping state (locked once unless started with timeSkipping). */
  resetTimeSkipping(): void {
    this.locksByConnection.clear();
    this.timeSkipLocks = this.options.timeSkipping ? 0 : 1;
  }

  /**
   * Work in flight, counted as the Java test server counts it: each pending or running workflow
   * task (or events waiting for one), each scheduled or running activity and each waiting query
   * holds one time-skipping lock while it lasts.
   */
  private inFlightLocks(): number {
    let locks = this.queries.pending();
    for (const run of this.openRuns) {
      if (run.wft || run.buffered.length > 0) locks++;
      for (const act of run.activities.values()) if (act.phase === 'started' || act.phase === 'scheduled') locks++;
    }
    return locks;
  }

  /**
   * The clock jumps while the explicit locks and the work in flight add up to zero or less. An
   * UnlockTimeSkippingWithSleep from inside an activity (the samples' `env.sleep` in a mocked
   * activity) thus offsets that activity's own lock and lets the workflow's timers fire meanwhile,
   * while a test's sleep over someone else's running activity still waits for it.
   */
  private autoSkip(): void {
    // Work in flight never counts below zero: a positive explicit count alone keeps the clock.
    if (this.stopped || this.timeSkipLocks > 0) return;
    const next = this.clock.nextDeadline();
    if (next === undefined) return;
    if (next <= this.now()) return; // real time will fire it
    if (this.timeSkipLocks + this.inFlightLocks() > 0) return;
    this.clock.jumpToNext();
  }
}
