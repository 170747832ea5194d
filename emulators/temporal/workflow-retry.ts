// Workflow retry policies (`retry` on start or on a child): as on the server, a run that fails or
// times out is closed with retry state IN_PROGRESS and a link to the next run, which starts after
// the backoff with attempt + 1 and the failure as `continuedFailure` (the SDK's
// `workflowInfo().lastFailure`). Without a policy nothing is retried.
import { randomUUID } from 'node:crypto';
import { normalizeRetryPolicy } from './activities';
import type { Engine } from './engine';
import { type Execution, type ExecutionStatus, eventAttributes } from './execution';
import { durationToMs, msToDuration } from './proto-values';

export type WorkflowRetryDecision = { retry: true; backoffMs: number } | { retry: false; retryState: string };

/** The server's decision (GetRetryBackoffDuration) for a run that ended with `failure`. */
export function decideWorkflowRetry(p: {
  retryPolicy: unknown;
  attempt: number;
  failure: any;
  now: number;
  /** When the whole chain expires (execution timeout); 0 = never. */
  executionExpiresAt: number;
}): WorkflowRetryDecision {
  if (!p.retryPolicy) return { retry: false, retryState: 'RETRY_STATE_RETRY_POLICY_NOT_SET' };
  const policy = normalizeRetryPolicy(p.retryPolicy);
  if (policy.maximumAttempts === 1) return { retry: false, retryState: 'RETRY_STATE_RETRY_POLICY_NOT_SET' };
  if (policy.maximumAttempts > 0 && p.attempt >= policy.maximumAttempts)
    return { retry: false, retryState: 'RETRY_STATE_MAXIMUM_ATTEMPTS_REACHED' };
  const info = p.failure?.applicationFailureInfo;
  if (info?.nonRetryable || (info?.type && policy.nonRetryableErrorTypes.includes(info.type)))
    return { retry: false, retryState: 'RETRY_STATE_NON_RETRYABLE_FAILURE' };
  const explicitDelayMs = info?.nextRetryDelay ? durationToMs(info.nextRetryDelay) : 0;
  const backoffMs =
    explicitDelayMs > 0
      ? explicitDelayMs
      : Math.min(policy.initialIntervalMs * policy.backoffCoefficient ** (p.attempt - 1), policy.maximumIntervalMs);
  if (p.executionExpiresAt > 0 && p.now + backoffMs >= p.executionExpiresAt)
    return { retry: false, retryState: 'RETRY_STATE_TIMEOUT' };
  return { retry: true, backoffMs };
}

/**
 * Closes a run that failed (`Failed`) or timed out (`TimedOut`): retried when its policy allows,
 * closed for good with the retry state otherwise. `attributes` are the close event's own.
 */
export function closeOrRetry(
  engine: Engine,
  execution: Execution,
  status: Extract<ExecutionStatus, 'Failed' | 'TimedOut'>,
  attributes: Record<string, unknown>,
  failure: unknown,
): void {
  const eventName = status === 'Failed' ? 'WorkflowExecutionFailed' : 'WorkflowExecutionTimedOut';
  const started = eventAttributes<Record<string, any>>(execution.history[0], 'WorkflowExecutionStarted');
  const decision = decideWorkflowRetry({
    retryPolicy: started.retryPolicy,
    attempt: started.attempt || 1,
    failure,
    now: engine.now(),
    executionExpiresAt: execution.config.executionExpiresAt,
  });
  if (!decision.retry) {
    // A run that hit the chain's execution timeout is not retried, whatever the policy says.
    const retryState =
      status === 'TimedOut' && decision.retryState === 'RETRY_STATE_RETRY_POLICY_NOT_SET'
        ? 'RETRY_STATE_TIMEOUT'
        : decision.retryState;
    engine.close(execution, status, eventName, { ...attributes, retryState, newExecutionRunId: '' });
    return;
  }
  const newRunId = randomUUID();
  engine.close(execution, status, eventName, {
    ...attributes,
    retryState: 'RETRY_STATE_IN_PROGRESS',
    newExecutionRunId: newRunId,
  });
  execution.newExecutionRunId = newRunId;
  engine.createRun(engine.namespaces.get(execution.namespace), {
    workflowId: execution.workflowId,
    runId: newRunId,
    firstRunId: execution.firstRunId,
    workflowType: execution.workflowType,
    taskQueue: execution.taskQueue,
    memo: execution.memo,
    searchAttributes: execution.searchAttributes,
    userMetadata: execution.userMetadata,
    requestId: randomUUID(),
    config: execution.config,
    parent: execution.parent,
    started: {
      ...started,
      continuedExecutionRunId: execution.runId,
      initiator: 'CONTINUE_AS_NEW_INITIATOR_RETRY',
      continuedFailure: failure,
      lastCompletionResult: null,
      attempt: (started.attempt || 1) + 1,
      firstWorkflowTaskBackoff: msToDuration(decision.backoffMs),
      prevAutoResetPoints: null,
    },
    firstTaskDelayMs: decision.backoffMs,
  });
}

/** The failure the server records for a run that timed out (the next attempt's lastFailure). */
export function workflowTimeoutFailure(): unknown {
  return {
    message: 'workflow timeout',
    source: 'Server',
    stackTrace: '',
    encodedAttributes: null,
    cause: null,
    timeoutFailureInfo: { timeoutType: 'TIMEOUT_TYPE_START_TO_CLOSE', lastHeartbeatDetails: null },
  };
}
