// The one place where the gate's errors become Temporal failures: a GateError (raised by the Stripe and
// ledger adapters) ends the activity with its type, retryability and backoff; anything else is thrown
// as it is and retried by the activity's retry policy.
import { ApplicationFailure } from '@temporalio/common';
import { GateError } from '../gate/failures';

export function toActivityFailure(error: unknown): unknown {
  if (!(error instanceof GateError)) return error;
  return ApplicationFailure.create({
    message: error.message,
    type: error.type,
    nonRetryable: !error.retryable,
    nextRetryDelay: error.retryAfterMs,
    details: error.details ? [error.details] : undefined,
    cause: error.cause instanceof Error ? error.cause : undefined,
  });
}

type ActivityFunctions = Record<string, (...args: any[]) => Promise<unknown>>;

/** The same activities, each ending with a Temporal failure the workflow and retry policy understand. */
export function withActivityFailures<T extends ActivityFunctions>(activities: T): T {
  const wrapped: ActivityFunctions = {};
  for (const [name, activity] of Object.entries(activities)) {
    wrapped[name] = async (...args) => {
      try {
        return await activity(...args);
      } catch (error) {
        throw toActivityFailure(error);
      }
    };
  }
  return wrapped as T;
}
