// Counts failed activity attempts into invoice_gate_activity_failures_total. Registered on the
// worker with `interceptors: { activity: [activityMetricsInterceptor(metrics)] }`.
import type { Context as ActivityContext } from '@temporalio/activity';
import { ApplicationFailure, CancelledFailure, CompleteAsyncError } from '@temporalio/common';
import type { ActivityInterceptors, ActivityInterceptorsFactory } from '@temporalio/worker';
import type { GateMetrics } from './metrics';

/**
 * Whether Temporal will run the activity again after this error: not when the failure is marked
 * non-retryable, its type is in the retry policy's nonRetryableErrorTypes, or this was the last
 * allowed attempt.
 */
export function isRetryableActivityError(error: unknown, info: ActivityContext['info']): boolean {
  if (error instanceof ApplicationFailure && error.nonRetryable) return false;
  const type = error instanceof ApplicationFailure ? error.type : error instanceof Error ? error.name : undefined;
  const policy = info.retryPolicy;
  if (type && policy?.nonRetryableErrorTypes?.includes(type)) return false;
  const maximumAttempts = policy?.maximumAttempts ?? 0;
  if (maximumAttempts > 0 && info.attempt >= maximumAttempts) return false;
  return true;
}

export function activityMetricsInterceptor(metrics: Pick<GateMetrics, 'activityFailed'>): ActivityInterceptorsFactory {
  return (ctx: ActivityContext): ActivityInterceptors => ({
    inbound: {
      async execute(input, next) {
        try {
          return await next(input);
        } catch (error) {
          // A cancellation is the workflow's decision and CompleteAsyncError hands completion to
          // someone else: neither is a failure of the activity.
          if (!(error instanceof CancelledFailure) && !(error instanceof CompleteAsyncError)) {
            metrics.activityFailed(ctx.info.activityType, isRetryableActivityError(error, ctx.info));
          }
          throw error;
        }
      },
    },
  });
}
