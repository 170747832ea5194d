// One place that builds the Stripe client, so production and the emulator differ by configuration only.
import Stripe from 'stripe';

export interface StripeClientConfig {
  secretKey: string;
  /** e.g. https://api.stripe.com (default) or http://127.0.0.1:12111 for the emulator. */
  apiUrl?: string;
}

export function createStripeClient(config: StripeClientConfig): Stripe {
  const base = config.apiUrl ? new URL(config.apiUrl) : undefined;
  return new Stripe(config.secretKey, {
    // Temporal's retry policy owns retries (with deterministic idempotency keys); the SDK's own retries
    // would hide 429/5xx from it and add random keys.
    maxNetworkRetries: 0,
    timeout: 20_000,
    appInfo: { name: 'invoice-gate' },
    ...(base && {
      host: base.hostname,
      port: base.port || (base.protocol === 'https:' ? 443 : 80),
      protocol: base.protocol === 'https:' ? 'https' : 'http',
    }),
  });
}
