// Child workflows: the StartChildWorkflowExecution command, the parent's view of the child
// (started / failed to start / closed events) and the parent close policy. Children live in the
// parent's namespace.
import type { Engine } from './engine';
import { RpcError } from './errors';
import type { Execution } from './execution';
import { durationToMs } from './proto-values';
import { randomUUID } from 'node:crypto';

export function startChild(
  engine: Engine,
  parent: Execution,
  a: any,
  completedEventId: number,
  userMetadata: unknown,
): void {
  const now = engine.now();
  const initiated = parent.addEvent(
    'StartChildWorkflowExecutionInitiated',
    {
      namespace: parent.namespace,
      namespaceId: '',
      workflowId: a.workflowId,
      workflowType: a.workflowType,
      taskQueue: { name: a.taskQueue?.name || parent.taskQueue, kind: 'TASK_QUEUE_KIND_NORMAL', normalName: '' },
      input: a.input,
      workflowExecutionTimeout: a.workflowExecutionTimeout,
      workflowRunTimeout: a.workflowRunTimeout,
      workflowTaskTimeout: a.workflowTaskTimeout,
      parentClosePolicy: a.parentClosePolicy,
      control: a.control ?? '',
      workflowTaskCompletedEventId: completedEventId,
      workflowIdReusePolicy: a.workflowIdReusePolicy,
      retryPolicy: a.retryPolicy,
      cronSchedule: a.cronSchedule ?? '',
      header: a.header,
      memo: a.memo,
      searchAttributes: a.searchAttributes,
      inheritBuildId: false,
      priority: a.priority,
    },
    now,
    userMetadata,
  );
  const workflowType = a.workflowType?.name;
  let child: Execution | null = null;
  let failure: string | null = null;
  try {
    const result = engine.start({
      namespace: parent.namespace,
      workflowId: a.workflowId,
      workflowType,
      taskQueue: a.taskQueue?.name || parent.taskQueue,
      input: a.input,
      header: a.header,
      memo: a.memo?.fields ?? {},
      searchAttributes: a.searchAttributes?.indexedFields ?? null,
      // The child's static summary and details, as Describe shows them for the child.
      userMetadata,
      identity: `parent:${parent.workflowId}`,
      requestId: randomUUID(),
      workflowTaskTimeoutMs: durationToMs(a.workflowTaskTimeout),
      runTimeoutMs: durationToMs(a.workflowRunTimeout),
      executionTimeoutMs: durationToMs(a.workflowExecutionTimeout),
      retryPolicy: a.retryPolicy,
      priority: a.priority,
      firstTaskDelayMs: 0,
      reusePolicy: a.workflowIdReusePolicy,
      conflictPolicy: 'WORKFLOW_ID_CONFLICT_POLICY_FAIL',
      parent: { execution: parent, initiatedEventId: initiated.eventId },
    });
    child = result.execution;
  } catch (err) {
    if (!(err instanceof RpcError)) throw err;
    failure =
      err.code === 6
        ? 'START_CHILD_WORKFLOW_EXECUTION_FAILED_CAUSE_WORKFLOW_ALREADY_EXISTS'
        : 'START_CHILD_WORKFLOW_EXECUTION_FAILED_CAUSE_UNSPECIFIED';
  }
  if (!child) {
    engine.deliver(parent, () =>
      parent.addEvent(
        'StartChildWorkflowExecutionFailed',
        {
          namespace: parent.namespace,
          namespaceId: '',
          workflowId: a.workflowId,
          workflowType: a.workflowType,
          cause: failure,
          control: a.control ?? '',
          initiatedEventId: initiated.eventId,
          workflowTaskCompletedEventId: completedEventId,
        },
        engine.now(),
      ),
    );
    return;
  }
  const started = child;
  parent.children.push({
    workflowId: started.workflowId,
    firstRunId: started.firstRunId,
    parentClosePolicy: a.parentClosePolicy,
  });
  engine.deliver(parent, () => {
    const event = parent.addEvent(
      'ChildWorkflowExecutionStarted',
      {
        namespace: parent.namespace,
        namespaceId: '',
        initiatedEventId: initiated.eventId,
        workflowExecution: { workflowId: started.workflowId, runId: started.runId },
        workflowType: a.workflowType,
        header: a.header,
      },
      engine.now(),
    );
    if (started.parent) started.parent.startedEventId = event.eventId;
  });
}

const CLOSE_EVENTS: Record<string, { name: string; copy: string[] }> = {
  Completed: { name: 'ChildWorkflowExecutionCompleted', copy: ['result'] },
  Failed: { name: 'ChildWorkflowExecutionFailed', copy: ['failure', 'retryState'] },
  Canceled: { name: 'ChildWorkflowExecutionCanceled', copy: ['details'] },
  TimedOut: { name: 'ChildWorkflowExecutionTimedOut', copy: ['retryState'] },
  Terminated: { name: 'ChildWorkflowExecutionTerminated', copy: [] },
};

/** A child's chain ended: tell the parent (its Started event is always written first). */
export function childClosed(engine: Engine, child: Execution, closeAttributes: Record<string, unknown>): void {
  const link = child.parent;
  if (!link || !link.execution.running) return;
  // A run its retry policy retries is not the child's end: the next run reports.
  if (closeAttributes.newExecutionRunId) return;
  const spec = CLOSE_EVENTS[child.status];
  if (!spec) return;
  const parent = link.execution;
  engine.deliver(parent, () => {
    const attrs: Record<string, unknown> = {
      namespace: parent.namespace,
      namespaceId: '',
      workflowExecution: { workflowId: child.workflowId, runId: child.runId },
      workflowType: { name: child.workflowType },
      initiatedEventId: link.initiatedEventId,
      startedEventId: link.startedEventId,
    };
    for (const k of spec.copy) attrs[k] = closeAttributes[k];
    parent.addEvent(spec.name, attrs, engine.now());
  });
}

/** The parent closed: terminate (default) or cancel its running children, or leave them. */
export function applyParentClosePolicy(engine: Engine, parent: Execution): void {
  for (const c of parent.children) {
    let child: Execution;
    try {
      child = engine.findRun(parent.namespace, { workflowId: c.workflowId });
    } catch {
      continue;
    }
    if (!child.running || child.firstRunId !== c.firstRunId) continue;
    if (c.parentClosePolicy === 'PARENT_CLOSE_POLICY_ABANDON') continue;
    if (c.parentClosePolicy === 'PARENT_CLOSE_POLICY_REQUEST_CANCEL')
      engine.requestCancel(child, 'parent closed', 'server');
    else engine.terminate(child, 'by parent close policy', null, 'server');
  }
}
