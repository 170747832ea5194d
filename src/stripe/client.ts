// One place that builds the Stripe client, so production and the emulator differ by configuration only.
import Stripe from 'stripe';
import { RequestRateLimiter } from './request-rate-limiter';
import { RATE_LIMIT_RETRY_BUDGET_MS, retryingRateLimits } from './rate-limit-retry';

export interface StripeClientConfig {
  secretKey: string;
  /** e.g. https://api.stripe.com (default) or http://127.0.0.1:12111 for the emulator. */
  apiUrl?: string;
  /** Client-side cap on requests per second (all calls of this client); none when unset. */
  maxRequestsPerSecond?: number;
  /** How long one request may wait out 429s before the 429 is reported (default 20 s). */
  rateLimitRetryBudgetMs?: number;
}

/** Stripe's own limits are 100 req/s live and 25 in test mode; stay under them with some room. */
export function defaultMaxRequestsPerSecond(secretKey: string): number {
  return /^(sk|rk)_live_/.test(secretKey) ? 80 : 20;
}

/**
 * Tokens the client may spend at once on top of the rate. Stripe counts requests in (sliding) one-second
 * windows: a burst as large as the rate (80 on top of 80/s) put 108-139 requests into one second at month
 * end and drew 429s from a 100/s limit; 10 keeps every second under rate + 10.
 */
export const STRIPE_REQUEST_BURST = 10;

export function stripeRequestLimiter(ratePerSecond: number): RequestRateLimiter {
  return new RequestRateLimiter(ratePerSecond, Math.max(1, Math.min(STRIPE_REQUEST_BURST, Math.floor(ratePerSecond))));
}

function rateLimitedHttpClient(base: Stripe.HttpClient, ratePerSecond: number): Stripe.HttpClient {
  const limiter = stripeRequestLimiter(ratePerSecond);
  const limited: Stripe.HttpClient = Object.create(base);
  limited.makeRequest = async (...args: Parameters<Stripe.HttpClient['makeRequest']>) => {
    await limiter.take();
    return base.makeRequest(...args);
  };
  return limited;
}

/** Every request takes a token from the cap (resent ones too), and 429s are waited out before they surface. */
function stripeHttpClient(config: StripeClientConfig): Stripe.HttpClient {
  const node = Stripe.createNodeHttpClient();
  const capped = config.maxRequestsPerSecond ? rateLimitedHttpClient(node, config.maxRequestsPerSecond) : node;
  return retryingRateLimits(capped, { budgetMs: config.rateLimitRetryBudgetMs ?? RATE_LIMIT_RETRY_BUDGET_MS });
}

export function createStripeClient(config: StripeClientConfig): Stripe {
  const base = config.apiUrl ? new URL(config.apiUrl) : undefined;
  return new Stripe(config.secretKey, {
    // Temporal's retry policy owns retries of failures (with deterministic idempotency keys); the SDK's
    // own retries would hide 5xx from it and add random keys. 429s are waited out by the HTTP client.
    maxNetworkRetries: 0,
    timeout: 20_000,
    appInfo: { name: 'invoice-gate' },
    httpClient: stripeHttpClient(config),
    ...(base && {
      host: base.hostname,
      port: base.port || (base.protocol === 'https:' ? 443 : 80),
      protocol: base.protocol === 'https:' ? 'https' : 'http',
    }),
  });
}
