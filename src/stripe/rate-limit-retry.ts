// A 429 is Stripe asking the client to slow down, not a failed request. The client waits (full jitter,
// or Retry-After when Stripe sends one) and sends the very same request again, idempotency key
// included, for up to a budget. Only then does the 429 surface to Temporal. That keeps the activity's
// attempt count, and so its exponential backoff, about real failures (5xx, network): a gate that had
// waited through a dozen 429s used to wait a whole minute after its first 500.
import type Stripe from 'stripe';

export interface RateLimitRetryOptions {
  /** Time the client may spend waiting out 429s for one request before reporting the last one. */
  budgetMs: number;
  /** First wait; each further 429 doubles it, up to `maxDelayMs`. */
  baseDelayMs?: number;
  maxDelayMs?: number;
  random?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

/** 20 s: well inside the Stripe activities' one-minute start-to-close timeout, with room for the request. */
export const RATE_LIMIT_RETRY_BUDGET_MS = 20_000;

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** The wait before the next try after `tries` 429s in a row (full jitter), or Retry-After when given. */
export function rateLimitDelayMs(
  tries: number,
  retryAfterHeader: unknown,
  options: Pick<RateLimitRetryOptions, 'baseDelayMs' | 'maxDelayMs' | 'random'> = {},
): number {
  const seconds = Number(retryAfterHeader);
  if (typeof retryAfterHeader === 'string' && Number.isFinite(seconds) && seconds > 0) return seconds * 1000;
  const ceiling = Math.min(options.maxDelayMs ?? 2_000, (options.baseDelayMs ?? 250) * 2 ** tries);
  return Math.round((options.random ?? Math.random)() * ceiling);
}

/** `base`, answering 429s by waiting and resending within the budget. */
export function retryingRateLimits(base: Stripe.HttpClient, options: RateLimitRetryOptions): Stripe.HttpClient {
  const sleep = options.sleep ?? defaultSleep;
  const client: Stripe.HttpClient = Object.create(base);
  client.makeRequest = async (...args: Parameters<Stripe.HttpClient['makeRequest']>) => {
    const started = performance.now();
    for (let tries = 0; ; tries++) {
      const response = await base.makeRequest(...args);
      if (response.getStatusCode() !== 429) return response;
      const delay = rateLimitDelayMs(tries, response.getHeaders()['retry-after'], options);
      if (performance.now() - started + delay > options.budgetMs) return response;
      // Read the refused answer to its end so its connection goes back to the pool.
      await response.toJSON().catch(() => undefined);
      await sleep(delay);
    }
  };
  return client;
}
