// Live Stripe keys only on durable services. The embedded Temporal engine keeps every gate in memory
// and the embedded database lives in one directory of one machine: a restart there forgets held
// gates while their invoices stay paused in Stripe (auto_advance=false) with buttons that answer
// "no gate". So a live key with either embedded default is refused at start, naming the variables.
import type { AppConfig } from './env';
import { ConfigError, type ConfigIssue } from './config-error';

/** sk_live_ / rk_live_ keys act on live data (Stripe's key prefixes say the mode). */
export function isLiveStripeKey(secretKey: string | undefined): boolean {
  return secretKey !== undefined && /^(sk|rk)_live_/.test(secretKey);
}

type GuardedConfig = Pick<AppConfig, 'allowEmbedded' | 'databaseUrl'> & {
  temporal: Pick<AppConfig['temporal'], 'address'>;
  stripe: Pick<AppConfig['stripe'], 'secretKey'>;
};

/** What is wrong with running this configuration's Stripe key on embedded services (empty: nothing). */
export function liveKeyOnEmbeddedIssues(config: GuardedConfig): ConfigIssue[] {
  if (!isLiveStripeKey(config.stripe.secretKey) || config.allowEmbedded) return [];
  const why = 'STRIPE_SECRET_KEY is a live key';
  const override = 'GATE_ALLOW_EMBEDDED=1 overrides this (tests only)';
  const issues: ConfigIssue[] = [];
  if (config.temporal.address === undefined) {
    issues.push({
      variable: 'TEMPORAL_ADDRESS',
      message: `must be set: ${why}, and the embedded Temporal engine forgets every held gate on restart while its invoice stays paused in Stripe; point it at Temporal Server or Cloud (${override})`,
    });
  }
  if (config.databaseUrl === undefined) {
    issues.push({
      variable: 'DATABASE_URL',
      message: `must be set: ${why}, and the embedded database (PGlite under .data/) is no place for the live audit trail and ledger; point it at PostgreSQL (${override})`,
    });
  }
  return issues;
}

/** Throws a ConfigError when a live key would run on an embedded Temporal engine or database. */
export function refuseLiveKeyOnEmbedded(config: GuardedConfig): void {
  const issues = liveKeyOnEmbeddedIssues(config);
  if (issues.length > 0) throw new ConfigError(issues, 'Live Stripe key on embedded services');
}
