// A deployment is either all embedded (the demo, development: nothing configured) or names every
// service. A mix is how a real deployment ends up trusting an emulator: with Stripe, Temporal and the
// database real but SLACK_BOT_TOKEN forgotten, the embedded Slack emulator would verify clicks with
// its own secret, and a forged click could release a held invoice on the real Stripe account. So a
// mix stops start-up, naming the variables to set; GATE_ALLOW_EMBEDDED=1 allows it (tests).
import type { AppConfig } from './env';
import { ConfigError, type ConfigIssue } from './config-error';
import { liveKeyOnEmbeddedIssues } from './live-key-guard';

type GuardedConfig = Pick<AppConfig, 'allowEmbedded' | 'databaseUrl' | 'ledgerDatabaseUrl'> & {
  temporal: Pick<AppConfig['temporal'], 'address'>;
  stripe: Pick<AppConfig['stripe'], 'secretKey'>;
  slack: Pick<AppConfig['slack'], 'botToken'>;
};

interface Service {
  /** The variable whose presence means the service is configured. */
  variable: string;
  configured(config: GuardedConfig): boolean;
  /** What else must be set with it, and what runs when it is unset. */
  setWith: string;
  unset: string;
}

const SERVICES: Service[] = [
  {
    variable: 'TEMPORAL_ADDRESS',
    configured: (c) => c.temporal.address !== undefined,
    setWith: '',
    unset: 'the embedded Temporal engine, which forgets every gate on restart',
  },
  {
    variable: 'STRIPE_SECRET_KEY',
    configured: (c) => c.stripe.secretKey !== undefined,
    setWith: ' (with STRIPE_WEBHOOK_SECRET)',
    unset: 'the Stripe emulator',
  },
  {
    variable: 'SLACK_BOT_TOKEN',
    configured: (c) => c.slack.botToken !== undefined,
    setWith: ' (with SLACK_SIGNING_SECRET and SLACK_CHANNEL_ID)',
    unset: "the Slack emulator: alerts reach nobody and clicks are verified with the emulator's secret",
  },
  {
    variable: 'DATABASE_URL',
    configured: (c) => c.databaseUrl !== undefined,
    setWith: '',
    unset: 'the embedded database (PGlite under .data/)',
  },
];

/** One issue per unset service when some are configured and others not (empty: all or none, or allowed). */
export function mixedServicesIssues(config: GuardedConfig): ConfigIssue[] {
  if (config.allowEmbedded) return [];
  const configured = SERVICES.filter((s) => s.configured(config)).map((s) => s.variable);
  if (configured.length === SERVICES.length) return [];
  // A real ledger next to the embedded database is a real service too.
  if (config.databaseUrl === undefined && config.ledgerDatabaseUrl !== undefined)
    configured.push('LEDGER_DATABASE_URL');
  if (configured.length === 0) return [];
  const named = configured.join(', ');
  return SERVICES.filter((s) => !s.configured(config)).map((s) => ({
    variable: s.variable,
    message: `must be set${s.setWith}: ${named} configure real services, and a deployment is either all embedded or names every service; unset, this would run ${s.unset} (GATE_ALLOW_EMBEDDED=1 allows the mix, tests only)`,
  }));
}

/**
 * Throws a ConfigError when the configuration mixes embedded and real services, or runs a live Stripe
 * key on an embedded Temporal engine or database (live-key-guard.ts): one message naming every variable.
 */
export function refuseUnsafeEmbedded(config: GuardedConfig): void {
  const live = liveKeyOnEmbeddedIssues(config);
  const mixed = mixedServicesIssues(config).filter((issue) => !live.some((l) => l.variable === issue.variable));
  const issues = [...live, ...mixed];
  if (issues.length === 0) return;
  throw new ConfigError(
    issues,
    live.length > 0 ? 'Live Stripe key on embedded services' : 'Embedded and real services mixed',
  );
}
