// WorkflowService calls for Workflow Updates: UpdateWorkflowExecution, PollWorkflowExecutionUpdate
// and ExecuteMultiOperation (update-with-start). The update lifecycle itself is in updates.ts.
import { randomUUID } from 'node:crypto';
import { status } from '@grpc/grpc-js';
import { google, temporal } from '@temporalio/proto';
import type { Engine } from '../engine';
import { RpcError, invalidArgument, notFound } from '../errors';
import { STATUS_ENUM, type Execution } from '../execution';
import { durationToMs } from '../proto-values';
import { admitUpdate, findUpdate, requestedStage, updateResponse, waitForStage } from '../updates';
import type { CallContext, Handlers } from './types';

// The server answers an update long poll with the stage reached so far after about 20 s; the
// client asks again.
const UPDATE_WAIT_MS = 20_000;

function waitBudget(ctx: CallContext): number {
  return Math.max(0, Math.min(UPDATE_WAIT_MS, ctx.deadline - Date.now() - 1_000));
}

/**
 * Admits (or joins) the update and waits for the requested stage. An update whose run continued as
 * new before accepting it goes to the new run when the caller did not name a run, as the server's
 * internal retry does.
 */
async function updateAndWait(engine: Engine, r: any, ctx: CallContext) {
  const stage = requestedStage(r.waitPolicy?.lifecycleStage);
  for (;;) {
    const execution: Execution = engine.findRun(r.namespace, r.workflowExecution);
    if (r.firstExecutionRunId && execution.firstRunId !== r.firstExecutionRunId)
      throw notFound('workflow execution not found for the given first execution run id');
    const update = admitUpdate(engine, execution, r.request);
    await waitForStage(update, stage, waitBudget(ctx), ctx.signal);
    if (update.aborted === 'continuing' && !r.workflowExecution?.runId) continue;
    return updateResponse(execution, update);
  }
}

/** The error of a multi-operation whose start failed: the start's status, the update aborted. */
function multiOperationFailure(startError: RpcError): RpcError {
  const startStatus = {
    code: startError.code,
    message: startError.message,
    details: startError.detail
      ? [{ type_url: `type.googleapis.com/${startError.detail.typeName}`, value: startError.detail.value }]
      : [],
  };
  const aborted = {
    code: status.ABORTED,
    message: 'Operation was aborted.',
    details: [{ type_url: 'type.googleapis.com/temporal.api.failure.v1.MultiOperationExecutionAborted', value: [] }],
  };
  return new RpcError(startError.code, 'MultiOperation could not be executed.', {
    typeName: 'temporal.api.errordetails.v1.MultiOperationExecutionFailure',
    value: temporal.api.errordetails.v1.MultiOperationExecutionFailure.encode({
      statuses: [startStatus, aborted].map((s) => google.rpc.Status.fromObject(s)),
    }).finish(),
  });
}

export function workflowUpdateHandlers(engine: Engine): Handlers {
  return {
    UpdateWorkflowExecution: async (r, ctx) => updateAndWait(engine, r, ctx),

    PollWorkflowExecutionUpdate: async (r, ctx) => {
      const ref = r.updateRef;
      if (!ref?.updateId) throw invalidArgument('Update ID is not set on request.');
      const execution = engine.findRun(r.namespace, ref.workflowExecution);
      const update = findUpdate(execution, ref.updateId);
      if (!update) throw notFound(`update ${ref.updateId} not found`);
      await waitForStage(update, requestedStage(r.waitPolicy?.lifecycleStage), waitBudget(ctx), ctx.signal);
      const { outcome, stage, updateRef } = updateResponse(execution, update);
      return { outcome, stage, updateRef };
    },

    // Update-with-start: the only multi-operation the server offers (start, then update).
    ExecuteMultiOperation: async (r, ctx) => {
      const ops: any[] = r.operations ?? [];
      const start = ops[0]?.startWorkflow;
      const update = ops[1]?.updateWorkflow;
      if (ops.length !== 2 || !start || !update)
        throw invalidArgument('Operations have to be exactly [Start, Update].');
      if (start.cronSchedule) throw invalidArgument('cronSchedule is not supported by the embedded Temporal engine');
      if (update.workflowExecution?.runId) throw invalidArgument('RunId is not allowed in update-with-start.');
      if (update.workflowExecution?.workflowId && update.workflowExecution.workflowId !== start.workflowId)
        throw invalidArgument('WorkflowId is not consistent with previous operation(s).');
      let started: ReturnType<Engine['start']>;
      try {
        started = engine.start({
          namespace: r.namespace,
          workflowId: start.workflowId,
          workflowType: start.workflowType?.name,
          taskQueue: start.taskQueue?.name,
          input: start.input,
          header: start.header,
          memo: start.memo?.fields ?? {},
          searchAttributes: start.searchAttributes?.indexedFields ?? null,
          userMetadata: start.userMetadata,
          priority: start.priority,
          identity: start.identity ?? '',
          requestId: start.requestId || randomUUID(),
          workflowTaskTimeoutMs: durationToMs(start.workflowTaskTimeout),
          runTimeoutMs: durationToMs(start.workflowRunTimeout),
          executionTimeoutMs: durationToMs(start.workflowExecutionTimeout),
          retryPolicy: start.retryPolicy,
          firstTaskDelayMs: durationToMs(start.workflowStartDelay),
          reusePolicy: start.workflowIdReusePolicy,
          conflictPolicy: start.workflowIdConflictPolicy,
        });
      } catch (err) {
        if (err instanceof RpcError) throw multiOperationFailure(err);
        throw err;
      }
      const updateWorkflow = await updateAndWait(
        engine,
        {
          ...update,
          namespace: r.namespace,
          workflowExecution: { workflowId: start.workflowId, runId: started.runId },
        },
        ctx,
      );
      return {
        responses: [
          {
            startWorkflow: {
              runId: started.runId,
              started: started.started,
              status: STATUS_ENUM[started.execution.status],
              eagerWorkflowTask: null,
              link: null,
            },
          },
          { updateWorkflow },
        ],
      };
    },
  };
}
