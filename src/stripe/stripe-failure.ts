// Classifies Stripe SDK errors for the retry policy: rate limits, 5xx and network errors retry
// (honouring Retry-After); other 4xx are final. Raised as GateErrors: this module knows no Temporal.
import Stripe from 'stripe';
import { FailureType, GateError } from '../gate/failures';

function retryAfterMs(error: Stripe.errors.StripeError): number | undefined {
  const header = error.headers?.['retry-after'];
  const seconds = header === undefined ? NaN : Number(header);
  if (Number.isFinite(seconds) && seconds > 0) return seconds * 1000;
  // Without Retry-After, spread rate-limited retries over a few seconds: Temporal's own backoff has no
  // jitter, so every gate throttled in the same second would otherwise come back in the same second.
  if (error instanceof Stripe.errors.StripeRateLimitError || error.statusCode === 429)
    return 1000 + Math.random() * 4000;
  return undefined;
}

export function isRetryableStripeError(error: Stripe.errors.StripeError): boolean {
  if (error instanceof Stripe.errors.StripeConnectionError) return true;
  if (error instanceof Stripe.errors.StripeRateLimitError) return true;
  const status = error.statusCode;
  if (status === undefined) return true; // no HTTP answer at all: a network failure
  return status === 409 || status === 429 || status >= 500; // 409: a concurrent request with the same idempotency key
}

/** A Stripe SDK error as a GateError; anything else unchanged. */
export function toStripeFailure(error: unknown, action: string): unknown {
  if (!(error instanceof Stripe.errors.StripeError)) return error;
  const code = error.code ?? error.type;
  const retryable = isRetryableStripeError(error);
  return new GateError(`Stripe ${action} failed: ${error.message} (${code}, HTTP ${error.statusCode ?? 'none'})`, {
    type: `${retryable ? FailureType.stripeRetryable : FailureType.stripeRejected}:${code}`,
    retryable,
    retryAfterMs: retryable ? retryAfterMs(error) : undefined,
    details: { code, statusCode: error.statusCode ?? null, requestId: error.requestId ?? null },
    cause: error,
  });
}

/** Runs a Stripe call and rethrows its failure classified for the retry policy. */
export async function callStripe<T>(action: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    throw toStripeFailure(error, action);
  }
}

export function stripeErrorCode(error: unknown): string | undefined {
  return error instanceof Stripe.errors.StripeError ? error.code : undefined;
}
