// Workflow task state machine: scheduled -> started -> completed / failed / timed out, on the
// normal or the sticky queue.
//
// WorkflowTaskScheduled is written when a worker picks the task up (together with Started), not
// when the task is queued: events that arrive while a task waits in the queue then simply precede
// it, and the history the worker gets always ends with the task's Started event.
import type { Engine } from './engine';
import { recordBuildId, workerVersionOf } from './build-ids';
import { validateCommands } from './commands';
import { approximateEncodedSize, continueAsNewSuggested } from './continue-as-new-suggestion';
import { invalidArgument, notFound } from './errors';
import { type Execution, type HistoryEvent, type WorkflowTaskState } from './execution';
import type { PollContext, QueuedTask } from './matching';
import { durationToMs, msToDuration, msToTimestamp } from './proto-values';
import { encodeTaskToken } from './task-tokens';
import {
  applyRemainingMessages,
  closesOverUnsentUpdates,
  hasUnsentUpdates,
  isRejectionOnlyCompletion,
  markHistorySettled,
  outgoingMessages,
  receiveMessages,
  requeueSentUpdates,
} from './updates';

// The server's default for how long a task may wait on a sticky queue before it goes to the
// normal queue (the SDK sends its own value, usually 10 s).
const DEFAULT_STICKY_SCHEDULE_TO_START_MS = 5_000;

let seqCounter = 1;

// WorkflowTaskFailedCause UNHANDLED_COMMAND as the server names it (Go enum String()).
const UNHANDLED_COMMAND = 'UnhandledCommand';

/** The failure the server records on a WorkflowTaskFailed event it decided itself. */
function serverFailure(message: string) {
  return {
    message,
    source: '',
    stackTrace: '',
    encodedAttributes: null,
    cause: null,
    serverFailureInfo: { nonRetryable: true },
  };
}

export class WorkflowTasks {
  constructor(private readonly engine: Engine) {}

  /** Schedules a workflow task unless one is already pending or running. */
  schedule(execution: Execution, delayMs = 0): void {
    if (!execution.running || execution.wft) return;
    if (delayMs > 0) {
      // Retry backoff after repeated failures: a placeholder keeps others from scheduling meanwhile.
      const placeholder: WorkflowTaskState = this.newState(execution, false);
      execution.wft = placeholder;
      placeholder.timeoutTimer = this.engine.clock.after(delayMs, () => {
        if (execution.wft !== placeholder) return;
        execution.wft = null;
        this.schedule(execution);
      });
      return;
    }
    const sticky =
      execution.sticky !== null &&
      this.engine.matching.hasLivePoller(this.engine.workflowQueueKey(execution, execution.sticky.queueName), 60_000);
    if (!sticky) execution.sticky = null;
    const state = this.newState(execution, sticky);
    execution.wft = state;
    this.enqueue(execution, state);
  }

  /**
   * Eager workflow start: the first task is started for the given poll and returned (it goes back
   * in the StartWorkflowExecution response) instead of being queued. A worker that drops it lets
   * it time out; the retry goes through the queue.
   */
  startEagerly(execution: Execution, ctx: PollContext): unknown | null {
    const state = this.newState(execution, false);
    execution.wft = state;
    const task = this.dispatch(execution, state, ctx);
    if (task === null) {
      execution.wft = null;
      this.schedule(execution);
    }
    return task;
  }

  private newState(execution: Execution, sticky: boolean): WorkflowTaskState {
    return {
      seq: seqCounter++,
      phase: 'scheduled',
      attempt: execution.wftFailures + 1,
      sticky,
      queueName: sticky ? execution.sticky!.queueName : execution.taskQueue,
      scheduledAt: this.engine.now(),
      scheduledEventId: 0,
      startedEventId: 0,
    };
  }

  private enqueue(execution: Execution, state: WorkflowTaskState): void {
    if (state.sticky) {
      // A sticky worker that went away without ShutdownWorker: fall back to the normal queue.
      const timeout = execution.sticky?.scheduleToStartMs || DEFAULT_STICKY_SCHEDULE_TO_START_MS;
      state.stickyTimer = this.engine.clock.after(timeout, () => this.stickyTimedOut(execution, state));
    }
    const task: QueuedTask = {
      kind: 'workflow',
      dispatch: (ctx) => this.dispatch(execution, state, ctx),
    };
    this.engine.matching.add(this.engine.workflowQueueKey(execution, state.queueName), task);
  }

  private stickyTimedOut(execution: Execution, state: WorkflowTaskState): void {
    if (execution.wft !== state || state.phase !== 'scheduled') return;
    this.moveToNormalQueue(execution);
  }

  /** Sends a pending sticky task to the normal queue with full history (ShutdownWorker, timeouts). */
  moveToNormalQueue(execution: Execution): void {
    const state = execution.wft;
    execution.sticky = null;
    if (!state || state.phase !== 'scheduled' || !state.sticky) return;
    this.engine.clock.cancel(state.stickyTimer);
    const moved = this.newState(execution, false);
    execution.wft = moved;
    this.enqueue(execution, moved);
  }

  private dispatch(execution: Execution, state: WorkflowTaskState, ctx: PollContext): unknown | null {
    if (!execution.running || execution.wft !== state || state.phase !== 'scheduled') return null;
    const engine = this.engine;
    engine.clock.cancel(state.stickyTimer);
    const now = engine.now();
    const taskQueue = state.sticky
      ? { name: state.queueName, kind: 'TASK_QUEUE_KIND_STICKY', normalName: execution.taskQueue }
      : { name: execution.taskQueue, kind: 'TASK_QUEUE_KIND_NORMAL', normalName: '' };
    const scheduled = execution.addEvent(
      'WorkflowTaskScheduled',
      { taskQueue, startToCloseTimeout: msToDuration(execution.config.workflowTaskTimeoutMs), attempt: state.attempt },
      now,
    );
    const requestId = `${state.seq}`;
    // As the server does, the suggestion counts the Started event about to be written.
    const suggestContinueAsNew = continueAsNewSuggested(
      { length: execution.history.length + 1, sizeBytes: execution.historySizeBytes },
      engine.continueAsNewThresholds,
    );
    const started = execution.addEvent(
      'WorkflowTaskStarted',
      {
        scheduledEventId: scheduled.eventId,
        identity: ctx.identity,
        requestId,
        suggestContinueAsNew,
        historySizeBytes: execution.historySizeBytes,
        workerVersion: null,
        buildIdRedirectCounter: 0,
      },
      now,
    );
    state.phase = 'started';
    state.scheduledEventId = scheduled.eventId;
    state.startedEventId = started.eventId;
    state.timeoutTimer = engine.clock.after(execution.config.workflowTaskTimeoutMs, () =>
      this.timedOut(execution, state),
    );
    // Sticky workers already hold everything up to the previous task; others replay from event 1.
    const events = state.sticky ? execution.history.slice(execution.previousStartedEventId) : execution.history.slice();
    return {
      taskToken: encodeTaskToken({ t: 'wft', ns: execution.namespace, run: execution.runId, seq: state.seq }),
      workflowExecution: { workflowId: execution.workflowId, runId: execution.runId },
      workflowType: { name: execution.workflowType },
      previousStartedEventId: execution.previousStartedEventId,
      startedEventId: started.eventId,
      attempt: state.attempt,
      backlogCountHint: 0,
      history: { events },
      nextPageToken: null,
      query: null,
      workflowExecutionTaskQueue: { name: execution.taskQueue, kind: 'TASK_QUEUE_KIND_NORMAL', normalName: '' },
      scheduledTime: msToTimestamp(state.scheduledAt),
      startedTime: msToTimestamp(now),
      queries: {},
      messages: outgoingMessages(execution, state.seq, started.eventId),
    };
  }

  /** Looks up the running task a token refers to; stale tokens are NOT_FOUND like on the server. */
  private taskFor(namespace: string, runId: string, seq: number): { execution: Execution; state: WorkflowTaskState } {
    const ns = this.engine.namespaces.get(namespace);
    const execution = ns.runs.get(runId);
    if (!execution) throw notFound('Workflow task not found.');
    if (!execution.running) throw notFound('workflow execution already completed');
    const state = execution.wft;
    if (!state || state.seq !== seq || state.phase !== 'started') throw notFound('Workflow task not found.');
    return { execution, state };
  }

  /**
   * Returns the activity tasks handed out eagerly with this completion, and, when the task is
   * dropped from history, the event id the worker must roll back to (the response's
   * resetHistoryEventId, 0 otherwise).
   */
  complete(
    token: { ns: string; run: string; seq: number },
    request: any,
  ): { activityTasks: unknown[]; resetHistoryEventId: number } {
    const engine = this.engine;
    const { execution, state } = this.taskFor(token.ns, token.run, token.seq);
    const commands: any[] = request.commands ?? [];
    // An event that arrived during the task (held back in `buffered`) makes the server convert its
    // speculative task to a normal one: the task then stays in history like any other.
    const speculative = endsHistory(execution, state) && execution.buffered.length === 0;
    if (speculative && isRejectionOnlyCompletion(execution, state.seq, request)) {
      this.dropRejectionOnly(execution, state, request);
      // As the server does (LastCompletedWorkflowTaskStartedEventId): core then forgets the
      // dropped Scheduled/Started, so the next task may hand out the same event ids again.
      return { activityTasks: [], resetHistoryEventId: execution.previousStartedEventId };
    }
    if (closesOverBufferedEvents(execution, commands) || closesOverUnsentUpdates(execution, commands)) {
      // The workflow decided to close without seeing events that arrived meanwhile (e.g. a signal):
      // the server refuses the completion so the workflow gets to handle them first. The message is
      // the bare cause name, as the server sends it: core matches "UnhandledCommand" exactly and
      // then only evicts quietly; anything longer is logged as a WARN "Error while completing".
      this.fail(
        execution,
        state,
        'WORKFLOW_TASK_FAILED_CAUSE_UNHANDLED_COMMAND',
        serverFailure(UNHANDLED_COMMAND),
        request.identity ?? '',
      );
      throw invalidArgument(UNHANDLED_COMMAND);
    }
    const invalid = validateCommands(engine, execution, commands);
    if (invalid) {
      // A bad command (e.g. an unregistered search attribute): the server fails the task, the
      // workflow is retried, and the worker gets INVALID_ARGUMENT. Nothing of the task is written.
      const failure = {
        message: invalid.error.message,
        source: 'Server',
        stackTrace: '',
        encodedAttributes: null,
        cause: null,
        applicationFailureInfo: { type: 'BadCommand', nonRetryable: true, details: null },
      };
      this.fail(execution, state, invalid.cause, failure, request.identity ?? '');
      throw invalid.error;
    }
    engine.clock.cancel(state.timeoutTimer);
    const workerVersion = workerVersionOf(request);
    const completed = execution.addEvent(
      'WorkflowTaskCompleted',
      {
        scheduledEventId: state.scheduledEventId,
        startedEventId: state.startedEventId,
        identity: request.identity ?? '',
        binaryChecksum: request.binaryChecksum ?? '',
        workerVersion,
        // Kept so replays see the same SDK flags and type names (core depends on it).
        sdkMetadata: request.sdkMetadata ?? null,
        meteringMetadata: request.meteringMetadata ?? null,
        deployment: null,
        versioningBehavior: 'VERSIONING_BEHAVIOR_UNSPECIFIED',
        workerDeploymentVersion: '',
        workerDeploymentName: '',
      },
      engine.now(),
    );
    recordBuildId(execution, workerVersion);
    execution.previousStartedEventId = state.startedEventId;
    execution.wftFailures = 0;
    execution.wft = null;
    const stickyQueue = request.stickyAttributes?.workerTaskQueue?.name;
    execution.sticky = stickyQueue
      ? { queueName: stickyQueue, scheduleToStartMs: durationToMs(request.stickyAttributes.scheduleToStartTimeout) }
      : null;
    receiveMessages(execution, request.messages);
    const { needsNewTask, eagerActivities } = engine.applyCommands(
      execution,
      commands,
      completed.eventId,
      request.identity ?? '',
    );
    applyRemainingMessages(engine, execution);
    markHistorySettled(execution);
    if (!execution.running) return { activityTasks: [], resetHistoryEventId: 0 };
    const hadBuffered = this.flushBuffered(execution);
    if (needsNewTask || hadBuffered || request.forceCreateNewWorkflowTask || hasUnsentUpdates(execution))
      this.schedule(execution);
    // Queries wait for the task to be over, which no event may announce (a task with no commands).
    execution.notify();
    const activityTasks: unknown[] = [];
    for (const act of eagerActivities) {
      const task = engine.activities.dispatchEager(execution, act, request.identity ?? '');
      if (task) activityTasks.push(task);
    }
    return { activityTasks, resetHistoryEventId: 0 };
  }

  /**
   * A task that carried only updates, all rejected, with nothing arriving meanwhile: as the server
   * does with its speculative task, nothing of it stays in history (its Scheduled and Started
   * events are taken back).
   */
  private dropRejectionOnly(execution: Execution, state: WorkflowTaskState, request: any): void {
    const engine = this.engine;
    engine.clock.cancel(state.timeoutTimer);
    receiveMessages(execution, request.messages);
    applyRemainingMessages(engine, execution);
    for (const event of execution.history.splice(-2)) execution.historySizeBytes -= approximateEncodedSize(event);
    execution.wft = null;
    const stickyQueue = request.stickyAttributes?.workerTaskQueue?.name;
    execution.sticky = stickyQueue
      ? { queueName: stickyQueue, scheduleToStartMs: durationToMs(request.stickyAttributes.scheduleToStartTimeout) }
      : null;
    if (hasUnsentUpdates(execution)) this.schedule(execution);
    execution.notify();
  }

  /** RespondWorkflowTaskFailed from the worker. */
  failFromWorker(token: { ns: string; run: string; seq: number }, request: any): void {
    const { execution, state } = this.taskFor(token.ns, token.run, token.seq);
    this.fail(
      execution,
      state,
      request.cause || 'WORKFLOW_TASK_FAILED_CAUSE_UNSPECIFIED',
      request.failure ?? null,
      request.identity ?? '',
    );
  }

  private fail(
    execution: Execution,
    state: WorkflowTaskState,
    cause: string,
    failure: unknown,
    identity: string,
  ): void {
    this.engine.clock.cancel(state.timeoutTimer);
    this.recordFailed(execution, state, cause, failure, identity);
    execution.wft = null;
    requeueSentUpdates(execution);
    // The worker evicts the run after a failure: the retry must carry the full history.
    execution.sticky = null;
    execution.wftFailures++;
    this.flushBuffered(execution);
    this.schedule(execution, this.retryDelay(execution));
    execution.notify();
  }

  private timedOut(execution: Execution, state: WorkflowTaskState): void {
    if (!execution.running || execution.wft !== state || state.phase !== 'started') return;
    execution.addEvent(
      'WorkflowTaskTimedOut',
      {
        scheduledEventId: state.scheduledEventId,
        startedEventId: state.startedEventId,
        timeoutType: 'TIMEOUT_TYPE_START_TO_CLOSE',
      },
      this.engine.now(),
    );
    execution.wft = null;
    requeueSentUpdates(execution);
    execution.sticky = null;
    execution.wftFailures++;
    this.flushBuffered(execution);
    this.schedule(execution);
  }

  /** Retries of a failing task back off (up to 10 s) so a broken workflow does not spin. */
  private retryDelay(execution: Execution): number {
    if (execution.wftFailures <= 1) return 0;
    return Math.min(10_000, 1000 * 2 ** (execution.wftFailures - 2));
  }

  /** Before a force-close (terminate, timeout): a running task is failed so history stays well formed. */
  failInFlightForClose(execution: Execution): void {
    const state = execution.wft;
    if (!state) return;
    this.engine.clock.cancel(state.timeoutTimer);
    this.engine.clock.cancel(state.stickyTimer);
    if (state.phase === 'started')
      this.recordFailed(execution, state, 'WORKFLOW_TASK_FAILED_CAUSE_FORCE_CLOSE_COMMAND', null, 'server');
    execution.wft = null;
  }

  private recordFailed(
    execution: Execution,
    state: WorkflowTaskState,
    cause: string,
    failure: unknown,
    identity: string,
  ): void {
    execution.addEvent(
      'WorkflowTaskFailed',
      {
        scheduledEventId: state.scheduledEventId,
        startedEventId: state.startedEventId,
        cause,
        failure,
        identity,
        baseRunId: '',
        newRunId: '',
        forkEventVersion: 0,
        binaryChecksum: '',
        workerVersion: null,
      },
      this.engine.now(),
    );
  }

  release(execution: Execution): void {
    const state = execution.wft;
    if (state) {
      this.engine.clock.cancel(state.timeoutTimer);
      this.engine.clock.cancel(state.stickyTimer);
    }
    execution.wft = null;
  }

  /** Writes held-back events; true if there were any (a new task is then needed). */
  private flushBuffered(execution: Execution): boolean {
    if (execution.buffered.length === 0) return false;
    const writes = execution.buffered;
    execution.buffered = [];
    for (const w of writes) w();
    return true;
  }

  /** ShutdownWorker: tasks waiting for that sticky worker go to the normal queue right away. */
  stickyWorkerGone(namespace: string, stickyQueue: string): void {
    const ns = this.engine.namespaces.find(namespace);
    if (!ns) return;
    for (const run of this.engine.openRuns) {
      if (run.namespace !== namespace || run.sticky?.queueName !== stickyQueue) continue;
      if (run.wft?.phase === 'scheduled' && run.wft.sticky) this.moveToNormalQueue(run);
      else run.sticky = null;
    }
  }

  /** The history a worker would replay up to the current point (used by legacy queries). */
  static fullHistory(execution: Execution): HistoryEvent[] {
    return execution.history.slice();
  }
}

/** The task's Scheduled and Started are the last two events (nothing was written after them). */
function endsHistory(execution: Execution, state: WorkflowTaskState): boolean {
  return execution.history.length === state.startedEventId && state.scheduledEventId === state.startedEventId - 1;
}

const CLOSE_COMMANDS = new Set([
  'COMMAND_TYPE_COMPLETE_WORKFLOW_EXECUTION',
  'COMMAND_TYPE_FAIL_WORKFLOW_EXECUTION',
  'COMMAND_TYPE_CANCEL_WORKFLOW_EXECUTION',
  'COMMAND_TYPE_CONTINUE_AS_NEW_WORKFLOW_EXECUTION',
]);

/**
 * A close command while events wait to be written. As on the server, commands count in order: a
 * CancelTimer before the close drops its timer's held-back TimerFired (applyCommands does the
 * dropping), so [CancelTimer, Complete] over only that firing is accepted (core sends exactly this
 * when a condition's timeout fires during the task in which the condition came true).
 */
function closesOverBufferedEvents(execution: Execution, commands: any[]): boolean {
  if (execution.buffered.length === 0) return false;
  const dropped = new Set<() => void>();
  for (const c of commands) {
    if (c.commandType === 'COMMAND_TYPE_CANCEL_TIMER') {
      const heldFire = execution.timers.get(c.cancelTimerCommandAttributes?.timerId)?.heldFire;
      if (heldFire) dropped.add(heldFire);
    } else if (CLOSE_COMMANDS.has(c.commandType)) {
      return execution.buffered.some((write) => !dropped.has(write));
    }
  }
  return false;
}
