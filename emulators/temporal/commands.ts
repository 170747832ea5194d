// Commands from RespondWorkflowTaskCompleted, turned into history events and engine actions in
// the order the workflow issued them. Validation runs first so a bad command fails the whole task
// before anything of it is written (as on the server).
import { startChild } from './child-workflows';
import type { Engine } from './engine';
import { RpcError, invalidArgument } from './errors';
import type { ActivityState, Execution } from './execution';
import { durationToMs } from './proto-values';
import { validateSearchAttributes } from './search-attributes';
import { applyMessageCommand } from './updates';
import { closeOrRetry } from './workflow-retry';

// The server hands out at most this many activities per workflow task completion.
const MAX_EAGER_ACTIVITIES = 3;

const CLOSE_COMMANDS = new Set([
  'COMMAND_TYPE_COMPLETE_WORKFLOW_EXECUTION',
  'COMMAND_TYPE_FAIL_WORKFLOW_EXECUTION',
  'COMMAND_TYPE_CANCEL_WORKFLOW_EXECUTION',
  'COMMAND_TYPE_CONTINUE_AS_NEW_WORKFLOW_EXECUTION',
]);

export function validateCommands(
  engine: Engine,
  execution: Execution,
  commands: any[],
): { cause: string; error: RpcError } | null {
  const ns = engine.namespaces.get(execution.namespace);
  const newTimerIds = new Set<string>();
  for (const c of commands) {
    try {
      switch (c.commandType) {
        case 'COMMAND_TYPE_SCHEDULE_ACTIVITY_TASK': {
          const a = c.scheduleActivityTaskCommandAttributes;
          if (!a?.activityId) throw badCommand('BAD_SCHEDULE_ACTIVITY_ATTRIBUTES', 'ActivityId is not set.');
          if (!a.activityType?.name) throw badCommand('BAD_SCHEDULE_ACTIVITY_ATTRIBUTES', 'ActivityType is not set.');
          if (!durationToMs(a.scheduleToCloseTimeout) && !durationToMs(a.startToCloseTimeout)) {
            throw badCommand(
              'BAD_SCHEDULE_ACTIVITY_ATTRIBUTES',
              'A valid StartToClose or ScheduleToCloseTimeout is not set on ScheduleActivityTaskCommand.',
            );
          }
          break;
        }
        case 'COMMAND_TYPE_START_TIMER': {
          const a = c.startTimerCommandAttributes;
          if (!a?.timerId) throw badCommand('BAD_START_TIMER_ATTRIBUTES', 'TimerId is not set.');
          if (execution.timers.has(a.timerId) || newTimerIds.has(a.timerId)) {
            throw badCommand('START_TIMER_DUPLICATE_ID', `Timer with ID ${a.timerId} already exists.`);
          }
          newTimerIds.add(a.timerId);
          break;
        }
        case 'COMMAND_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES':
          validateSearchAttributes(
            c.upsertWorkflowSearchAttributesCommandAttributes?.searchAttributes?.indexedFields,
            ns.searchAttributes,
          );
          break;
        case 'COMMAND_TYPE_CONTINUE_AS_NEW_WORKFLOW_EXECUTION':
          validateSearchAttributes(
            c.continueAsNewWorkflowExecutionCommandAttributes?.searchAttributes?.indexedFields,
            ns.searchAttributes,
          );
          break;
        case 'COMMAND_TYPE_START_CHILD_WORKFLOW_EXECUTION': {
          const a = c.startChildWorkflowExecutionCommandAttributes;
          if (!a?.workflowId)
            throw badCommand('BAD_START_CHILD_EXECUTION_ATTRIBUTES', 'Required field WorkflowId is not set.');
          if (!a.workflowType?.name)
            throw badCommand('BAD_START_CHILD_EXECUTION_ATTRIBUTES', 'Required field WorkflowType is not set.');
          if (a.namespace && a.namespace !== execution.namespace)
            throw badCommand(
              'BAD_START_CHILD_EXECUTION_ATTRIBUTES',
              'Child workflows in another namespace are not supported by the embedded Temporal engine.',
            );
          if (a.cronSchedule)
            throw badCommand(
              'BAD_START_CHILD_EXECUTION_ATTRIBUTES',
              'cronSchedule is not supported by the embedded Temporal engine.',
            );
          validateSearchAttributes(a.searchAttributes?.indexedFields, ns.searchAttributes);
          break;
        }
        case 'COMMAND_TYPE_SIGNAL_EXTERNAL_WORKFLOW_EXECUTION':
        case 'COMMAND_TYPE_REQUEST_CANCEL_ACTIVITY_TASK':
        case 'COMMAND_TYPE_CANCEL_TIMER':
        case 'COMMAND_TYPE_RECORD_MARKER':
        case 'COMMAND_TYPE_COMPLETE_WORKFLOW_EXECUTION':
        case 'COMMAND_TYPE_FAIL_WORKFLOW_EXECUTION':
        case 'COMMAND_TYPE_CANCEL_WORKFLOW_EXECUTION':
        case 'COMMAND_TYPE_MODIFY_WORKFLOW_PROPERTIES':
        case 'COMMAND_TYPE_PROTOCOL_MESSAGE':
        case 'COMMAND_TYPE_REQUEST_CANCEL_EXTERNAL_WORKFLOW_EXECUTION':
          break;
        default:
          throw badCommand('UNHANDLED_COMMAND', `${c.commandType} is not supported by the embedded Temporal engine.`);
      }
    } catch (err) {
      if (err instanceof BadCommand)
        return { cause: `WORKFLOW_TASK_FAILED_CAUSE_${err.failureCause}`, error: invalidArgument(err.message) };
      if (err instanceof RpcError) return { cause: 'WORKFLOW_TASK_FAILED_CAUSE_BAD_SEARCH_ATTRIBUTES', error: err };
      throw err;
    }
  }
  return null;
}

class BadCommand extends Error {
  constructor(
    readonly failureCause: string,
    message: string,
  ) {
    super(message);
  }
}
const badCommand = (cause: string, message: string) => new BadCommand(cause, message);

/** Applies validated commands; returns whether a new workflow task is needed right away. */
export function applyCommands(
  engine: Engine,
  execution: Execution,
  commands: any[],
  completedEventId: number,
  identity: string,
): { needsNewTask: boolean; eagerActivities: ActivityState[] } {
  const ns = engine.namespaces.get(execution.namespace);
  let needsNewTask = false;
  const eagerActivities: ActivityState[] = [];
  for (const c of commands) {
    if (!execution.running) break;
    const now = engine.now();
    const userMetadata = c.userMetadata ?? null;
    switch (c.commandType) {
      case 'COMMAND_TYPE_SCHEDULE_ACTIVITY_TASK': {
        const a = c.scheduleActivityTaskCommandAttributes;
        // Eager execution: the worker reserved a slot and gets the task in the completion response
        // instead of through a poll.
        const eager =
          Boolean(a.requestEagerExecution) &&
          (!a.taskQueue?.name || a.taskQueue.name === execution.taskQueue) &&
          eagerActivities.length < MAX_EAGER_ACTIVITIES;
        const act = engine.activities.schedule(execution, a, completedEventId, userMetadata, eager);
        if (eager) eagerActivities.push(act);
        break;
      }
      case 'COMMAND_TYPE_REQUEST_CANCEL_ACTIVITY_TASK':
        if (
          engine.activities.requestCancel(
            execution,
            Number(c.requestCancelActivityTaskCommandAttributes.scheduledEventId),
            completedEventId,
          )
        ) {
          needsNewTask = true;
        }
        break;
      case 'COMMAND_TYPE_START_TIMER': {
        const a = c.startTimerCommandAttributes;
        const fireInMs = durationToMs(a.startToFireTimeout);
        const started = execution.addEvent(
          'TimerStarted',
          {
            timerId: a.timerId,
            startToFireTimeout: a.startToFireTimeout,
            workflowTaskCompletedEventId: completedEventId,
          },
          now,
          userMetadata,
        );
        const clockTimer = engine.clock.after(fireInMs, () => {
          const timer = execution.timers.get(a.timerId);
          if (!timer) return;
          // Until the TimerFired event is written, a CancelTimer from the running task still wins.
          timer.heldFire = () => {
            execution.timers.delete(a.timerId);
            execution.addEvent('TimerFired', { timerId: a.timerId, startedEventId: started.eventId }, engine.now());
          };
          engine.deliver(execution, timer.heldFire);
        });
        execution.timers.set(a.timerId, { timerId: a.timerId, startedEventId: started.eventId, clockTimer });
        break;
      }
      case 'COMMAND_TYPE_CANCEL_TIMER': {
        const a = c.cancelTimerCommandAttributes;
        const timer = execution.timers.get(a.timerId);
        if (!timer) break; // already fired: the firing is in history
        // As Temporal Server does: a firing held back during the task is dropped, the timer is canceled.
        if (timer.heldFire) execution.buffered = execution.buffered.filter((write) => write !== timer.heldFire);
        else engine.clock.cancel(timer.clockTimer);
        execution.timers.delete(a.timerId);
        execution.addEvent(
          'TimerCanceled',
          {
            timerId: a.timerId,
            startedEventId: timer.startedEventId,
            workflowTaskCompletedEventId: completedEventId,
            identity,
          },
          now,
        );
        break;
      }
      case 'COMMAND_TYPE_RECORD_MARKER': {
        const a = c.recordMarkerCommandAttributes;
        execution.addEvent(
          'MarkerRecorded',
          {
            markerName: a.markerName,
            details: a.details ?? {},
            workflowTaskCompletedEventId: completedEventId,
            header: a.header,
            failure: a.failure,
          },
          now,
          userMetadata,
        );
        break;
      }
      case 'COMMAND_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES': {
        const fields = c.upsertWorkflowSearchAttributesCommandAttributes.searchAttributes?.indexedFields ?? {};
        const { set, remove } = validateSearchAttributes(fields, ns.searchAttributes);
        execution.addEvent(
          'UpsertWorkflowSearchAttributes',
          { workflowTaskCompletedEventId: completedEventId, searchAttributes: { indexedFields: fields } },
          now,
        );
        const next = { ...execution.searchAttributes, ...set };
        for (const name of remove) delete next[name];
        execution.searchAttributes = next;
        break;
      }
      case 'COMMAND_TYPE_MODIFY_WORKFLOW_PROPERTIES': {
        const memo = c.modifyWorkflowPropertiesCommandAttributes.upsertedMemo?.fields ?? {};
        execution.addEvent(
          'WorkflowPropertiesModified',
          { workflowTaskCompletedEventId: completedEventId, upsertedMemo: { fields: memo } },
          now,
        );
        const next = { ...execution.memo };
        for (const [k, v] of Object.entries<any>(memo)) {
          if (!v?.data || v.data.length === 0) delete next[k];
          else next[k] = v;
        }
        execution.memo = next;
        break;
      }
      case 'COMMAND_TYPE_SIGNAL_EXTERNAL_WORKFLOW_EXECUTION':
        signalExternal(engine, execution, c.signalExternalWorkflowExecutionCommandAttributes, completedEventId);
        break;
      case 'COMMAND_TYPE_REQUEST_CANCEL_EXTERNAL_WORKFLOW_EXECUTION':
        cancelExternal(engine, execution, c.requestCancelExternalWorkflowExecutionCommandAttributes, completedEventId);
        break;
      case 'COMMAND_TYPE_START_CHILD_WORKFLOW_EXECUTION':
        startChild(engine, execution, c.startChildWorkflowExecutionCommandAttributes, completedEventId, userMetadata);
        break;
      case 'COMMAND_TYPE_COMPLETE_WORKFLOW_EXECUTION':
        engine.close(execution, 'Completed', 'WorkflowExecutionCompleted', {
          result: c.completeWorkflowExecutionCommandAttributes.result,
          workflowTaskCompletedEventId: completedEventId,
          newExecutionRunId: '',
        });
        break;
      case 'COMMAND_TYPE_FAIL_WORKFLOW_EXECUTION': {
        const failure = c.failWorkflowExecutionCommandAttributes.failure;
        closeOrRetry(engine, execution, 'Failed', { failure, workflowTaskCompletedEventId: completedEventId }, failure);
        break;
      }
      case 'COMMAND_TYPE_CANCEL_WORKFLOW_EXECUTION':
        engine.close(execution, 'Canceled', 'WorkflowExecutionCanceled', {
          workflowTaskCompletedEventId: completedEventId,
          details: c.cancelWorkflowExecutionCommandAttributes.details,
        });
        break;
      case 'COMMAND_TYPE_CONTINUE_AS_NEW_WORKFLOW_EXECUTION':
        engine.continueAsNew(execution, c.continueAsNewWorkflowExecutionCommandAttributes, completedEventId);
        break;
      case 'COMMAND_TYPE_PROTOCOL_MESSAGE':
        // An update's acceptance or response, written here so its event keeps the command order.
        applyMessageCommand(engine, execution, c.protocolMessageCommandAttributes?.messageId);
        break;
    }
    if (CLOSE_COMMANDS.has(c.commandType)) break;
  }
  return { needsNewTask, eagerActivities };
}

/** Signals another workflow in the same namespace; the outcome comes back as a new event. */
function signalExternal(engine: Engine, execution: Execution, a: any, completedEventId: number): void {
  const now = engine.now();
  const initiated = execution.addEvent(
    'SignalExternalWorkflowExecutionInitiated',
    {
      workflowTaskCompletedEventId: completedEventId,
      namespace: a.namespace || execution.namespace,
      namespaceId: '',
      workflowExecution: a.execution,
      signalName: a.signalName,
      input: a.input,
      control: a.control ?? '',
      childWorkflowOnly: a.childWorkflowOnly ?? false,
      header: a.header,
    },
    now,
  );
  let target: Execution | undefined;
  try {
    target = engine.findRun(a.namespace || execution.namespace, a.execution);
  } catch {
    target = undefined;
  }
  if (target?.running) {
    engine.signal(target, a.signalName, a.input, a.header, `${execution.workflowId}`);
    engine.deliver(execution, () =>
      execution.addEvent(
        'ExternalWorkflowExecutionSignaled',
        {
          initiatedEventId: initiated.eventId,
          namespace: target!.namespace,
          namespaceId: '',
          workflowExecution: { workflowId: target!.workflowId, runId: target!.runId },
          control: a.control ?? '',
        },
        engine.now(),
      ),
    );
  } else {
    engine.deliver(execution, () =>
      execution.addEvent(
        'SignalExternalWorkflowExecutionFailed',
        {
          cause: 'SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_FAILED_CAUSE_EXTERNAL_WORKFLOW_EXECUTION_NOT_FOUND',
          workflowTaskCompletedEventId: completedEventId,
          namespace: a.namespace || execution.namespace,
          namespaceId: '',
          workflowExecution: a.execution,
          initiatedEventId: initiated.eventId,
          control: a.control ?? '',
        },
        engine.now(),
      ),
    );
  }
}

function cancelExternal(engine: Engine, execution: Execution, a: any, completedEventId: number): void {
  const initiated = execution.addEvent(
    'RequestCancelExternalWorkflowExecutionInitiated',
    {
      workflowTaskCompletedEventId: completedEventId,
      namespace: a.namespace || execution.namespace,
      namespaceId: '',
      workflowExecution: { workflowId: a.workflowId, runId: a.runId },
      control: a.control ?? '',
      childWorkflowOnly: a.childWorkflowOnly ?? false,
      reason: a.reason ?? '',
    },
    engine.now(),
  );
  let target: Execution | undefined;
  try {
    target = engine.findRun(a.namespace || execution.namespace, { workflowId: a.workflowId, runId: a.runId });
  } catch {
    target = undefined;
  }
  if (target?.running) {
    engine.requestCancel(target, a.reason ?? '', execution.workflowId);
    engine.deliver(execution, () =>
      execution.addEvent(
        'ExternalWorkflowExecutionCancelRequested',
        {
          initiatedEventId: initiated.eventId,
          namespace: target!.namespace,
          namespaceId: '',
          workflowExecution: { workflowId: target!.workflowId, runId: target!.runId },
        },
        engine.now(),
      ),
    );
  } else {
    engine.deliver(execution, () =>
      execution.addEvent(
        'RequestCancelExternalWorkflowExecutionFailed',
        {
          cause: 'CANCEL_EXTERNAL_WORKFLOW_EXECUTION_FAILED_CAUSE_EXTERNAL_WORKFLOW_EXECUTION_NOT_FOUND',
          workflowTaskCompletedEventId: completedEventId,
          namespace: a.namespace || execution.namespace,
          namespaceId: '',
          workflowExecution: { workflowId: a.workflowId, runId: a.runId },
          initiatedEventId: initiated.eventId,
          control: a.control ?? '',
        },
        engine.now(),
      ),
    );
  }
}
