// How the gate reads the failures its activities end with (workflow-safe: Temporal types only).
import { ActivityFailure, ApplicationFailure } from '@temporalio/workflow';
import { INVOICE_NOT_FOUND } from '../stripe/invoice-not-found';

/**
 * The message of an activity failure that retrying will not fix (a wrong ledger mapping, Stripe refusing
 * a request); null for anything else.
 */
export function permanentFailure(error: unknown): string | null {
  const failure = error instanceof ActivityFailure ? error.cause : undefined;
  return failure instanceof ApplicationFailure && failure.nonRetryable ? failure.message : null;
}

/** Stripe has no such invoice: it was deleted (drafts can be) before the gate could read it. */
export function invoiceDeleted(error: unknown): boolean {
  return error instanceof ActivityFailure && error.cause instanceof ApplicationFailure && error.cause.type === INVOICE_NOT_FOUND;
}
