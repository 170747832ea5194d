// Turns a Stripe SDK error into the Temporal failure the retry policy should see:
// rate limits, 5xx and network errors retry (honouring Retry-After); other 4xx are final.
import Stripe from 'stripe';
import { ApplicationFailure } from '@temporalio/common';

/** Error types that Temporal must not retry carry this prefix, followed by Stripe's error code. */
export const NON_RETRYABLE_STRIPE_ERROR = 'StripeRequestRejected';

function retryAfterMs(error: Stripe.errors.StripeError): number | undefined {
  const header = error.headers?.['retry-after'];
  const seconds = header === undefined ? NaN : Number(header);
  if (Number.isFinite(seconds) && seconds > 0) return seconds * 1000;
  // Without Retry-After, spread rate-limited retries over a few seconds: Temporal's own backoff has no
  // jitter, so every gate throttled in the same second would otherwise come back in the same second.
  if (error instanceof Stripe.errors.StripeRateLimitError || error.statusCode === 429) return 1000 + Math.random() * 4000;
  return undefined;
}

export function isRetryableStripeError(error: Stripe.errors.StripeError): boolean {
  if (error instanceof Stripe.errors.StripeConnectionError) return true;
  if (error instanceof Stripe.errors.StripeRateLimitError) return true;
  const status = error.statusCode;
  if (status === undefined) return true; // no HTTP answer at all: a network failure
  return status === 409 || status === 429 || status >= 500; // 409: a concurrent request with the same idempotency key
}

export function toStripeFailure(error: unknown, action: string): unknown {
  if (!(error instanceof Stripe.errors.StripeError)) return error;
  const code = error.code ?? error.type;
  const message = `Stripe ${action} failed: ${error.message} (${code}, HTTP ${error.statusCode ?? 'none'})`;
  if (isRetryableStripeError(error)) {
    return ApplicationFailure.create({
      message,
      type: `StripeRetryable:${code}`,
      nextRetryDelay: retryAfterMs(error),
      details: [{ code, statusCode: error.statusCode ?? null, requestId: error.requestId ?? null }],
    });
  }
  return ApplicationFailure.create({
    message,
    type: `${NON_RETRYABLE_STRIPE_ERROR}:${code}`,
    nonRetryable: true,
    details: [{ code, statusCode: error.statusCode ?? null, requestId: error.requestId ?? null }],
  });
}

/** Runs a Stripe call and rethrows its failure in the form Temporal's retry policy acts on. */
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
