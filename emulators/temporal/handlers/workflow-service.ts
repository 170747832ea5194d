// temporal.api.workflowservice.v1.WorkflowService handlers. Each takes the decoded request and a
// call context and returns the response object; the server bootstrap does the gRPC plumbing and
// answers UNIMPLEMENTED for every method not listed here.
import { randomUUID } from 'node:crypto';
import { pauseActivities, resetActivities, unpauseActivities } from '../activity-controls';
import type { Engine } from '../engine';
import { invalidArgument, notFound } from '../errors';
import { STATUS_ENUM } from '../execution';
import { getHistory, getHistoryReverse } from '../history-reader';
import { queueKey } from '../matching';
import { durationToMs, msToDuration } from '../proto-values';
import { INDEXED_VALUE_TYPE, SYSTEM_SEARCH_ATTRIBUTES } from '../search-attributes';
import { decodeTaskToken } from '../task-tokens';
import { count, describe, list } from '../visibility';
import type { CallContext, Handlers } from './types';
import { workflowUpdateHandlers } from './workflow-updates';

// Servers answer an empty long poll after about a minute; the SDK's poll deadline is longer.
const POLL_WAIT_MS = 60_000;
const QUERY_TIMEOUT_MS = 30_000;

function waitBudget(ctx: CallContext, cap: number): number {
  return Math.max(0, Math.min(cap, ctx.deadline - Date.now() - 1_000));
}

function identityOf(r: { identity?: string | null }): string {
  return r.identity ?? '';
}

/** What StartWorkflowExecution and SignalWithStartWorkflowExecution requests share (proto-loader objects). */
function startParams(r: any) {
  return {
    namespace: r.namespace,
    workflowId: r.workflowId,
    workflowType: r.workflowType?.name,
    taskQueue: r.taskQueue?.name,
    input: r.input,
    header: r.header,
    memo: r.memo?.fields ?? {},
    searchAttributes: r.searchAttributes?.indexedFields ?? null,
    userMetadata: r.userMetadata,
    identity: identityOf(r),
    workflowTaskTimeoutMs: durationToMs(r.workflowTaskTimeout),
    runTimeoutMs: durationToMs(r.workflowRunTimeout),
    executionTimeoutMs: durationToMs(r.workflowExecutionTimeout),
    retryPolicy: r.retryPolicy,
    priority: r.priority,
    firstTaskDelayMs: durationToMs(r.workflowStartDelay),
    reusePolicy: r.workflowIdReusePolicy,
  };
}

function namespaceResponse(engine: Engine, name: string) {
  const ns = engine.namespaces.get(name);
  return {
    namespaceInfo: {
      name: ns.name,
      state: 'NAMESPACE_STATE_REGISTERED',
      description: ns.description,
      ownerEmail: ns.ownerEmail,
      data: ns.data,
      id: ns.id,
      // Updates are served (updates.ts). The others are left false on purpose: with
      // workerPollCompleteOnShutdown the SDK waits for the server to end its polls on shutdown,
      // and the rest are features the engine lacks. eagerWorkflowStart
      // is informational: core 1.24 decides eager start from its own worker slots, not from this.
      capabilities: {
        eagerWorkflowStart: true,
        syncUpdate: true,
        asyncUpdate: true,
        workerHeartbeats: false,
        reportedProblemsSearchAttribute: false,
        workerPollCompleteOnShutdown: false,
      },
      supportsSchedules: false,
    },
    config: {
      workflowExecutionRetentionTtl: msToDuration(ns.retentionMs),
      badBinaries: { binaries: {} },
      historyArchivalState: 'ARCHIVAL_STATE_DISABLED',
      historyArchivalUri: '',
      visibilityArchivalState: 'ARCHIVAL_STATE_DISABLED',
      visibilityArchivalUri: '',
      customSearchAttributeAliases: {},
    },
    replicationConfig: {
      activeClusterName: 'active',
      clusters: [{ clusterName: 'active' }],
      state: 'REPLICATION_STATE_NORMAL',
    },
    failoverVersion: 0,
    isGlobalNamespace: false,
    failoverHistory: [],
  };
}

export function workflowServiceHandlers(engine: Engine): Handlers {
  return {
    // UpdateWorkflowExecution, PollWorkflowExecutionUpdate, ExecuteMultiOperation.
    ...workflowUpdateHandlers(engine),
    // ------------------------------------------------------------ cluster and namespaces
    GetSystemInfo: async () => ({
      serverVersion: '1.27.0',
      capabilities: {
        signalAndQueryHeader: true,
        internalErrorDifferentiation: true,
        activityFailureIncludeHeartbeat: true,
        supportsSchedules: false,
        encodedFailureAttributes: true,
        buildIdBasedVersioning: false,
        upsertMemo: true,
        eagerWorkflowStart: true,
        sdkMetadata: true,
        countGroupByExecutionStatus: true,
        nexus: false,
      },
    }),
    GetClusterInfo: async () => ({
      supportedClients: {},
      serverVersion: '1.27.0',
      clusterId: 'embedded',
      versionInfo: null,
      clusterName: 'active',
      historyShardCount: 1,
      persistenceStore: 'memory',
      visibilityStore: 'memory',
    }),
    RegisterNamespace: async (r) => {
      engine.namespaces.register({
        name: r.namespace,
        description: r.description,
        ownerEmail: r.ownerEmail,
        retentionMs: durationToMs(r.workflowExecutionRetentionPeriod),
        data: r.data,
      });
      return {};
    },
    DescribeNamespace: async (r) => {
      if (!r.namespace && r.id) {
        const ns = engine.namespaces.byId(r.id);
        if (!ns) throw notFound(`Namespace ${r.id} is not found.`);
        return namespaceResponse(engine, ns.name);
      }
      return namespaceResponse(engine, r.namespace);
    },
    UpdateNamespace: async (r) => {
      const ns = engine.namespaces.get(r.namespace);
      if (r.updateInfo?.description) ns.description = r.updateInfo.description;
      if (r.updateInfo?.ownerEmail) ns.ownerEmail = r.updateInfo.ownerEmail;
      if (r.updateInfo?.data) Object.assign(ns.data, r.updateInfo.data);
      const retentionMs = durationToMs(r.config?.workflowExecutionRetentionTtl);
      if (retentionMs > 0) ns.retentionMs = retentionMs;
      return { ...namespaceResponse(engine, ns.name) };
    },
    ListNamespaces: async () => ({
      namespaces: engine.namespaces.all().map((ns) => namespaceResponse(engine, ns.name)),
      nextPageToken: null,
    }),
    GetSearchAttributes: async () => {
      const keys: Record<string, string> = {};
      for (const [name, kind] of Object.entries(SYSTEM_SEARCH_ATTRIBUTES)) keys[name] = INDEXED_VALUE_TYPE[kind];
      for (const [name, kind] of engine.namespaces.get(engine.options.namespace).searchAttributes)
        keys[name] = INDEXED_VALUE_TYPE[kind];
      return { keys };
    },

    // ------------------------------------------------------------ workflow lifecycle (client)
    StartWorkflowExecution: async (r) => {
      if (r.cronSchedule) throw invalidArgument('cronSchedule is not supported by the embedded Temporal engine');
      const result = engine.start({
        ...startParams(r),
        requestId: r.requestId || randomUUID(),
        conflictPolicy: r.workflowIdConflictPolicy,
        eager: r.requestEagerExecution ? { identity: identityOf(r), request: r } : undefined,
      });
      return {
        runId: result.runId,
        started: result.started,
        status: STATUS_ENUM[result.execution.status],
        eagerWorkflowTask: result.eagerWorkflowTask,
        link: null,
      };
    },
    SignalWithStartWorkflowExecution: async (r) => {
      if (r.cronSchedule) throw invalidArgument('cronSchedule is not supported by the embedded Temporal engine');
      if (!r.signalName) throw invalidArgument('SignalName is not set on request.');
      const conflict =
        r.workflowIdConflictPolicy === 'WORKFLOW_ID_CONFLICT_POLICY_UNSPECIFIED' || !r.workflowIdConflictPolicy
          ? 'WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING'
          : r.workflowIdConflictPolicy;
      if (conflict === 'WORKFLOW_ID_CONFLICT_POLICY_FAIL')
        throw invalidArgument('SignalWithStart does not support WorkflowIdConflictPolicy FAIL.');
      const result = engine.start({
        ...startParams(r),
        // The signal must be delivered even when the start request id repeats.
        requestId: randomUUID(),
        conflictPolicy: conflict,
        signal: { name: r.signalName, input: r.signalInput, header: r.header, identity: identityOf(r) },
      });
      return { runId: result.runId, started: result.started, signalLink: null };
    },
    SignalWorkflowExecution: async (r) => {
      if (!r.signalName) throw invalidArgument('SignalName is not set on request.');
      const execution = engine.findRun(r.namespace, r.workflowExecution);
      if (r.requestId && execution.signalRequestIds.has(r.requestId)) return { link: null };
      engine.signal(execution, r.signalName, r.input, r.header, identityOf(r));
      if (r.requestId) execution.signalRequestIds.add(r.requestId);
      return { link: null };
    },
    RequestCancelWorkflowExecution: async (r) => {
      const execution = engine.findRun(r.namespace, r.workflowExecution);
      if (r.firstExecutionRunId && execution.firstRunId !== r.firstExecutionRunId)
        throw notFound('workflow execution not found for the given first execution run id');
      engine.requestCancel(execution, r.reason ?? '', identityOf(r));
      return {};
    },
    TerminateWorkflowExecution: async (r) => {
      const execution = engine.findRun(r.namespace, r.workflowExecution);
      if (r.firstExecutionRunId && execution.firstRunId !== r.firstExecutionRunId)
        throw notFound('workflow execution not found for the given first execution run id');
      engine.terminate(execution, r.reason ?? '', r.details, identityOf(r));
      return {};
    },
    QueryWorkflow: async (r, ctx) => {
      if (!r.query?.queryType) throw invalidArgument('QueryType is not set on request.');
      const execution = engine.findRun(r.namespace, r.execution);
      const reject = r.queryRejectCondition;
      if (
        !execution.running &&
        (reject === 'QUERY_REJECT_CONDITION_NOT_OPEN' ||
          (reject === 'QUERY_REJECT_CONDITION_NOT_COMPLETED_CLEANLY' && execution.status !== 'Completed'))
      ) {
        return { queryResult: null, queryRejected: { status: STATUS_ENUM[execution.status] } };
      }
      const queryResult = await engine.queries.query(
        execution,
        { queryType: r.query.queryType, queryArgs: r.query.queryArgs, header: r.query.header },
        waitBudget(ctx, QUERY_TIMEOUT_MS),
        ctx.signal,
      );
      return { queryResult, queryRejected: null };
    },

    // ------------------------------------------------------------ visibility and history
    DescribeWorkflowExecution: async (r) => describe(engine, engine.findRun(r.namespace, r.execution)),
    GetWorkflowExecutionHistory: async (r, ctx) => getHistory(engine, r, waitBudget(ctx, POLL_WAIT_MS), ctx.signal),
    GetWorkflowExecutionHistoryReverse: async (r) => getHistoryReverse(engine, r),
    ListWorkflowExecutions: async (r) =>
      list(engine, engine.namespaces.get(r.namespace), r.query, r.pageSize, r.nextPageToken),
    ScanWorkflowExecutions: async (r) =>
      list(engine, engine.namespaces.get(r.namespace), r.query, r.pageSize, r.nextPageToken),
    CountWorkflowExecutions: async (r) => count(engine.namespaces.get(r.namespace), r.query),

    // ------------------------------------------------------------ workers: workflow tasks
    PollWorkflowTaskQueue: async (r, ctx) => {
      engine.namespaces.get(r.namespace);
      if (!r.taskQueue?.name) throw invalidArgument('TaskQueue is not set on request.');
      const response = await engine.matching.poll(
        queueKey(r.namespace, 'workflow', r.taskQueue.name),
        { identity: identityOf(r), request: r },
        waitBudget(ctx, POLL_WAIT_MS),
        ctx.signal,
      );
      return response ?? {};
    },
    RespondWorkflowTaskCompleted: async (r) => {
      const token = decodeTaskToken(r.taskToken);
      if (token.t !== 'wft') throw invalidArgument('Task token is not a workflow task token.');
      const { activityTasks, resetHistoryEventId } = engine.workflowTasks.complete(token, r);
      return { workflowTask: null, activityTasks, resetHistoryEventId, nexusTasks: [] };
    },
    RespondWorkflowTaskFailed: async (r) => {
      const token = decodeTaskToken(r.taskToken);
      if (token.t !== 'wft') throw invalidArgument('Task token is not a workflow task token.');
      engine.workflowTasks.failFromWorker(token, r);
      return {};
    },
    RespondQueryTaskCompleted: async (r) => {
      const token = decodeTaskToken(r.taskToken);
      if (token.t !== 'query') throw invalidArgument('Task token is not a query task token.');
      engine.queries.respond(token.id, r);
      return {};
    },
    ResetStickyTaskQueue: async (r) => {
      const execution = engine.findRun(r.namespace, r.execution);
      execution.sticky = null;
      return {};
    },
    ShutdownWorker: async (r) => {
      engine.namespaces.get(r.namespace);
      if (r.stickyTaskQueue) {
        engine.workflowTasks.stickyWorkerGone(r.namespace, r.stickyTaskQueue);
        engine.matching.releasePollers(queueKey(r.namespace, 'workflow', r.stickyTaskQueue));
      }
      return {};
    },

    // ------------------------------------------------------------ workers: activity tasks
    PollActivityTaskQueue: async (r, ctx) => {
      engine.namespaces.get(r.namespace);
      if (!r.taskQueue?.name) throw invalidArgument('TaskQueue is not set on request.');
      const response = await engine.matching.poll(
        queueKey(r.namespace, 'activity', r.taskQueue.name),
        { identity: identityOf(r), request: r },
        waitBudget(ctx, POLL_WAIT_MS),
        ctx.signal,
      );
      return response ?? {};
    },
    PauseActivity: async (r) => {
      pauseActivities(engine, engine.findRun(r.namespace, r.execution), r);
      return {};
    },
    UnpauseActivity: async (r) => {
      unpauseActivities(engine, engine.findRun(r.namespace, r.execution), r);
      return {};
    },
    ResetActivity: async (r) => {
      resetActivities(engine, engine.findRun(r.namespace, r.execution), r);
      return {};
    },
    RecordActivityTaskHeartbeat: async (r) => engine.activities.heartbeat(activityToken(r.taskToken), r.details),
    RecordActivityTaskHeartbeatById: async (r) =>
      engine.activities.heartbeat(
        engine.activities.findById(r.namespace, r.workflowId, r.runId, r.activityId),
        r.details,
      ),
    RespondActivityTaskCompleted: async (r) => {
      engine.activities.complete(activityToken(r.taskToken), r.result, identityOf(r));
      return {};
    },
    RespondActivityTaskCompletedById: async (r) => {
      engine.activities.complete(
        engine.activities.findById(r.namespace, r.workflowId, r.runId, r.activityId),
        r.result,
        identityOf(r),
      );
      return {};
    },
    RespondActivityTaskFailed: async (r) => {
      engine.activities.fail(activityToken(r.taskToken), r.failure, r.lastHeartbeatDetails, identityOf(r));
      return { failures: [] };
    },
    RespondActivityTaskFailedById: async (r) => {
      engine.activities.fail(
        engine.activities.findById(r.namespace, r.workflowId, r.runId, r.activityId),
        r.failure,
        r.lastHeartbeatDetails,
        identityOf(r),
      );
      return { failures: [] };
    },
    RespondActivityTaskCanceled: async (r) => {
      engine.activities.canceled(activityToken(r.taskToken), r.details, identityOf(r));
      return {};
    },
    RespondActivityTaskCanceledById: async (r) => {
      engine.activities.canceled(
        engine.activities.findById(r.namespace, r.workflowId, r.runId, r.activityId),
        r.details,
        identityOf(r),
      );
      return {};
    },
  };
}

function activityToken(raw: Uint8Array | null | undefined) {
  const token = decodeTaskToken(raw);
  if (token.t !== 'act') throw invalidArgument('Task token is not an activity task token.');
  return token;
}
