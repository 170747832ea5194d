// How the gate reads the failures its activities end with. The types come from src/gate/failures.ts,
// the one list the activities raise them from.
import { ActivityFailure, ApplicationFailure } from '@temporalio/workflow';
import { FailureType } from '../gate/failures';

function applicationFailure(error: unknown): ApplicationFailure | undefined {
  const cause = error instanceof ActivityFailure ? error.cause : undefined;
  return cause instanceof ApplicationFailure ? cause : undefined;
}

/**
 * The message of an activity failure that retrying will not fix (a wrong ledger mapping, Stripe refusing
 * a request); null for anything else.
 */
export function permanentFailure(error: unknown): string | null {
  const failure = applicationFailure(error);
  return failure?.nonRetryable ? failure.message : null;
}

/** Stripe has no such invoice: it was deleted (drafts can be) before the gate could read it. */
export function invoiceDeleted(error: unknown): boolean {
  return applicationFailure(error)?.type === FailureType.invoiceNotFound;
}
