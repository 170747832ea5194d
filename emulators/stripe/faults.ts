// Faults on demand: Stripe-like rate limiting, a share (or a count) of 500s, added latency,
// optionally limited to a path prefix and method.
import { StripeApiError } from './errors';

export interface FaultSettings {
  /** Requests per second allowed (Stripe: 25 in test mode, 100 live); excess gets 429 rate_limit. */
  rateLimitPerSecond?: number | null;
  /** 'account' (default): one window for all requests; 'endpoint': one per method + path with ids
   *  left out (Stripe also limits single endpoints, 25/s by default). */
  rateLimitScope?: 'account' | 'endpoint';
  /** Share of requests (0..1) that fail with 500 api_error. */
  errorRate?: number;
  /** The next N matching requests fail with 500 api_error. */
  failNext?: number;
  /** Added latency in milliseconds before each matching request is handled. */
  latencyMs?: number;
  /** Only requests whose path starts with this are affected. */
  pathPrefix?: string | null;
  /** Only requests with this method are affected. */
  method?: string | null;
}

export class Faults {
  settings: FaultSettings = {};
  private windows = new Map<string, number[]>();

  set(settings: FaultSettings): FaultSettings {
    this.settings = { ...settings };
    this.windows.clear();
    return this.settings;
  }

  clear(): void {
    this.set({});
  }

  private applies(method: string, path: string): boolean {
    const s = this.settings;
    if (s.pathPrefix && !path.startsWith(s.pathPrefix)) return false;
    if (s.method && s.method.toUpperCase() !== method) return false;
    return true;
  }

  latency(method: string, path: string): number {
    return this.applies(method, path) ? (this.settings.latencyMs ?? 0) : 0;
  }

  /** Throws the injected error, if any, for this request. */
  check(method: string, path: string): void {
    if (!this.applies(method, path)) return;
    const s = this.settings;
    if (s.rateLimitPerSecond) {
      const now = Date.now();
      const key = s.rateLimitScope === 'endpoint' ? `${method} ${path.replace(/\/[a-z]+_[A-Za-z0-9]+/g, '/:id')}` : '*';
      const window = (this.windows.get(key) ?? []).filter((t) => t > now - 1000);
      this.windows.set(key, window);
      if (window.length >= s.rateLimitPerSecond) {
        throw new StripeApiError(
          429,
          'invalid_request_error',
          'Request rate limit exceeded. Learn more about rate limits here https://stripe.com/docs/rate-limits.',
          'rate_limit',
        );
      }
      window.push(now);
    }
    const forced = (s.failNext ?? 0) > 0;
    if (forced) s.failNext! -= 1;
    if (forced || (s.errorRate && Math.random() < s.errorRate)) {
      throw new StripeApiError(500, 'api_error', 'An unknown error occurred. (Injected by the Stripe emulator.)');
    }
  }
}
