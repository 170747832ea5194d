// Visibility: DescribeWorkflowExecution and List/Count with the server's query language
// (compiled by visibility-query.ts). Records are built from live state on each call, so they are
// never stale; fine for an in-memory engine's sizes.
import { ActivityScheduler } from './activities';
import type { Engine } from './engine';
import { invalidArgument } from './errors';
import { type Execution, STATUS_ENUM, eventAttributes, rootExecution } from './execution';
import type { NamespaceState } from './namespaces';
import { jsonPayload, msToDuration, msToOptionalDuration, msToTimestamp } from './proto-values';
import { decodeSearchAttributes } from './search-attributes';
import { compileVisibilityQuery, VisibilityQueryError, type VisibilityRecord } from './visibility-query';

export function executionInfo(engine: Engine, execution: Execution): Record<string, unknown> {
  const closeTime = execution.closeTime;
  return {
    execution: { workflowId: execution.workflowId, runId: execution.runId },
    type: { name: execution.workflowType },
    startTime: msToTimestamp(execution.startTime),
    closeTime: closeTime !== null ? msToTimestamp(closeTime) : null,
    status: STATUS_ENUM[execution.status],
    historyLength: execution.history.length,
    parentNamespaceId: execution.parent ? engine.namespaces.get(execution.parent.execution.namespace).id : '',
    parentExecution: execution.parent
      ? { workflowId: execution.parent.execution.workflowId, runId: execution.parent.execution.runId }
      : null,
    executionTime: msToTimestamp(execution.executionTime),
    memo: { fields: execution.memo },
    searchAttributes: { indexedFields: execution.searchAttributes },
    autoResetPoints: null,
    taskQueue: execution.taskQueue,
    stateTransitionCount: execution.history.length,
    historySizeBytes: execution.historySizeBytes,
    mostRecentWorkerVersionStamp: null,
    executionDuration: closeTime !== null ? msToDuration(closeTime - execution.executionTime) : null,
    rootExecution: rootExecution(execution),
    firstRunId: execution.firstRunId,
    versioningInfo: null,
    workerDeploymentName: '',
    priority:
      eventAttributes<{ priority?: unknown }>(execution.history[0], 'WorkflowExecutionStarted').priority ?? null,
  };
}

function pendingChildren(engine: Engine, execution: Execution): unknown[] {
  const out: unknown[] = [];
  for (const c of execution.children) {
    const ns = engine.namespaces.get(execution.namespace);
    const chain = ns.chains.get(c.workflowId);
    const current = chain?.[chain.length - 1];
    if (!current?.running || current.firstRunId !== c.firstRunId) continue;
    out.push({
      workflowId: current.workflowId,
      runId: current.runId,
      workflowTypeName: current.workflowType,
      initiatedId: current.parent?.initiatedEventId ?? 0,
      parentClosePolicy: c.parentClosePolicy,
    });
  }
  return out;
}

export function describe(engine: Engine, execution: Execution): Record<string, unknown> {
  const wft = execution.wft;
  return {
    executionConfig: {
      taskQueue: { name: execution.taskQueue, kind: 'TASK_QUEUE_KIND_NORMAL', normalName: '' },
      workflowExecutionTimeout: msToOptionalDuration(execution.config.executionTimeoutMs),
      workflowRunTimeout: msToOptionalDuration(execution.config.runTimeoutMs),
      defaultWorkflowTaskTimeout: msToDuration(execution.config.workflowTaskTimeoutMs),
      // staticSummary / staticDetails set at start.
      userMetadata: execution.userMetadata,
    },
    workflowExecutionInfo: executionInfo(engine, execution),
    pendingActivities: [...execution.activities.values()].map((a) => ActivityScheduler.pendingInfo(a)),
    pendingChildren: pendingChildren(engine, execution),
    pendingWorkflowTask: wft
      ? {
          state:
            wft.phase === 'started' ? 'PENDING_WORKFLOW_TASK_STATE_STARTED' : 'PENDING_WORKFLOW_TASK_STATE_SCHEDULED',
          scheduledTime: msToTimestamp(wft.scheduledAt),
          originalScheduledTime: msToTimestamp(wft.scheduledAt),
          startedTime: null,
          attempt: wft.attempt,
        }
      : null,
    callbacks: [],
    pendingNexusOperations: [],
    workflowExtendedInfo: null,
  };
}

function record(ns: NamespaceState, e: Execution): VisibilityRecord {
  return {
    workflowId: e.workflowId,
    runId: e.runId,
    workflowType: e.workflowType,
    executionStatus: e.status,
    startTime: new Date(e.startTime),
    closeTime: e.closeTime !== null ? new Date(e.closeTime) : null,
    executionTime: new Date(e.executionTime),
    taskQueue: e.taskQueue,
    searchAttributes: decodeSearchAttributes(e.searchAttributes, ns.searchAttributes),
  };
}

function compile(ns: NamespaceState, query: string) {
  const custom = Object.fromEntries(ns.searchAttributes);
  try {
    return compileVisibilityQuery(query ?? '', custom);
  } catch (err) {
    if (err instanceof VisibilityQueryError) throw invalidArgument(err.message);
    throw err;
  }
}

function matching(
  ns: NamespaceState,
  compiled: ReturnType<typeof compile>,
): Array<{ e: Execution; r: VisibilityRecord }> {
  const rows: Array<{ e: Execution; r: VisibilityRecord }> = [];
  for (const e of ns.runs.values()) {
    const r = record(ns, e);
    if (compiled.matches(r)) rows.push({ e, r });
  }
  const orderBy = compiled.orderBy.length > 0 ? compiled.orderBy : null;
  rows.sort((a, b) => {
    if (orderBy) {
      for (const { field, direction } of orderBy) {
        const c = compareValues(fieldValue(a.r, field), fieldValue(b.r, field));
        if (c !== 0) return direction === 'DESC' ? -c : c;
      }
      return 0;
    }
    // The server's default order: open runs first, then most recently closed/started.
    const ka = a.r.closeTime?.getTime() ?? Infinity;
    const kb = b.r.closeTime?.getTime() ?? Infinity;
    if (ka !== kb) return kb - ka;
    return b.r.startTime.getTime() - a.r.startTime.getTime() || (a.r.runId < b.r.runId ? -1 : 1);
  });
  return rows;
}

function fieldValue(r: VisibilityRecord, field: string): unknown {
  switch (field) {
    case 'WorkflowId':
      return r.workflowId;
    case 'RunId':
      return r.runId;
    case 'WorkflowType':
      return r.workflowType;
    case 'ExecutionStatus':
      return r.executionStatus;
    case 'StartTime':
      return r.startTime;
    case 'CloseTime':
      return r.closeTime;
    case 'ExecutionTime':
      return r.executionTime;
    case 'TaskQueue':
      return r.taskQueue;
    default:
      return r.searchAttributes[field];
  }
}

function compareValues(a: unknown, b: unknown): number {
  if (a === b) return 0;
  if (a === undefined || a === null) return 1;
  if (b === undefined || b === null) return -1;
  const na = a instanceof Date ? a.getTime() : a;
  const nb = b instanceof Date ? b.getTime() : b;
  return (na as number | string) < (nb as number | string) ? -1 : 1;
}

function decodeOffset(token: Uint8Array | null | undefined): number {
  if (!token || token.length === 0) return 0;
  const n = Number(Buffer.from(token).toString('utf8'));
  if (!Number.isInteger(n) || n < 0) throw invalidArgument('Invalid NextPageToken.');
  return n;
}

export function list(
  engine: Engine,
  ns: NamespaceState,
  query: string,
  pageSize: number,
  nextPageToken: Uint8Array | null | undefined,
) {
  const rows = matching(ns, compile(ns, query));
  const offset = decodeOffset(nextPageToken);
  const size = pageSize > 0 ? pageSize : 1000;
  const page = rows.slice(offset, offset + size);
  const next = offset + page.length;
  return {
    executions: page.map(({ e }) => executionInfo(engine, e)),
    nextPageToken: next < rows.length ? Buffer.from(String(next)) : null,
  };
}

export function count(ns: NamespaceState, query: string): { count: number; groups: unknown[] } {
  const compiled = compile(ns, query);
  const rows = matching(ns, compiled);
  if (compiled.groupBy.length === 0) return { count: rows.length, groups: [] };
  // GROUP BY ExecutionStatus (the only grouping the server supports): one group per status present,
  // in the order of the status enum, each value a Keyword payload as the server sends it.
  const groups = [];
  for (const status of Object.keys(STATUS_ENUM) as Array<keyof typeof STATUS_ENUM>) {
    const n = rows.filter(({ r }) => r.executionStatus === status).length;
    if (n > 0) groups.push({ groupValues: [jsonPayload(status, { type: 'Keyword' })], count: n });
  }
  return { count: rows.length, groups };
}
