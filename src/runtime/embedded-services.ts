// Start-up wiring that picks embedded defaults: whatever the environment leaves unset runs on the
// project's emulators (Temporal, Stripe, Slack) and PGlite. The only place src/ reaches emulators/.
import { randomBytes } from 'node:crypto';
import type { AppConfig } from '../config/env';
import { startSlackEmulator, SlackEmulatorAdmin } from '../../emulators/slack';
import { startStripeEmulator } from '../../emulators/stripe';
import { startTemporalEmulator } from '../../emulators/temporal';

/** The emulators' well-known addresses and test credentials (see emulators/README.md). */
export const EMULATOR_DEFAULTS = {
  temporalAddress: '127.0.0.1:7233',
  stripeUrl: 'http://127.0.0.1:12111',
  stripeSecretKey: 'sk_test_emulator',
  slackUrl: 'http://127.0.0.1:12112',
  slackBotToken: 'xoxb-emulator-token',
  slackSigningSecret: 'emulator-signing-secret',
  slackChannelId: 'C0BILLING',
} as const;

export interface ResolvedServices {
  temporal: AppConfig['temporal'] & { address: string; embedded: boolean };
  stripe: { secretKey: string; webhookSecret: string | undefined; apiUrl: string | undefined; embedded: boolean };
  slack: {
    botToken: string;
    signingSecret: string;
    channelId: string;
    apiUrl: string | undefined;
    reviewerIds: string[];
    /** Set when Slack is the emulator: where to tell it our interactivity URL. */
    emulatorAdmin: SlackEmulatorAdmin | undefined;
  };
  /** undefined: embedded PGlite. */
  databaseUrl: string | undefined;
  ledgerDatabaseUrl: string | undefined;
  /** One line per embedded default, for the start-up log. */
  notes: string[];
  stop(): Promise<void>;
}

export interface ResolveOptions {
  /**
   * 'in-process': start the emulators here (npm start, npm run demo).
   * 'external': connect to emulators already running on their default ports (npm run emulators), for
   * the split server/worker commands.
   */
  emulators: 'in-process' | 'external';
  /** In-process emulators on their default ports (7233, 12111, 12112) or on random free ports. */
  ports?: 'default' | 'random';
}

export async function resolveServices(config: AppConfig, options: ResolveOptions): Promise<ResolvedServices> {
  const notes: string[] = [];
  const stops: Array<() => Promise<void>> = [];
  const inProcess = options.emulators === 'in-process';
  const port = (fixed: number) => (options.ports === 'random' ? 0 : fixed);

  try {
    let temporalAddress = config.temporal.address;
    if (!temporalAddress) {
      if (inProcess) {
        const temporal = await startTemporalEmulator({ port: port(7233), namespace: config.temporal.namespace });
        stops.push(() => temporal.stop());
        temporalAddress = temporal.address;
      } else {
        temporalAddress = EMULATOR_DEFAULTS.temporalAddress;
      }
      notes.push(`Temporal: embedded emulator at ${temporalAddress} (set TEMPORAL_ADDRESS for Temporal Server or Cloud)`);
    }

    let stripe: ResolvedServices['stripe'];
    if (config.stripe.secretKey) {
      stripe = { secretKey: config.stripe.secretKey, webhookSecret: config.stripe.webhookSecret, apiUrl: config.stripe.apiUrl, embedded: false };
    } else {
      let url: string = EMULATOR_DEFAULTS.stripeUrl;
      if (inProcess) {
        const emulator = await startStripeEmulator({ port: port(12111), apiKey: EMULATOR_DEFAULTS.stripeSecretKey });
        stops.push(() => emulator.stop());
        url = emulator.url;
      }
      // The server registers its webhook endpoint with the emulator and learns the secret then.
      stripe = { secretKey: EMULATOR_DEFAULTS.stripeSecretKey, webhookSecret: undefined, apiUrl: url, embedded: true };
      notes.push(`Stripe: emulator at ${url} (set STRIPE_SECRET_KEY and STRIPE_WEBHOOK_SECRET for Stripe)`);
    }

    let slack: ResolvedServices['slack'];
    if (config.slack.botToken) {
      if (!config.slack.signingSecret || !config.slack.channelId) {
        throw new Error('SLACK_BOT_TOKEN is set, so SLACK_SIGNING_SECRET and SLACK_CHANNEL_ID are required too');
      }
      slack = {
        botToken: config.slack.botToken,
        signingSecret: config.slack.signingSecret,
        channelId: config.slack.channelId,
        apiUrl: config.slack.apiUrl,
        reviewerIds: config.slack.reviewerIds,
        emulatorAdmin: undefined,
      };
    } else {
      let url: string = EMULATOR_DEFAULTS.slackUrl;
      if (inProcess) {
        const emulator = await startSlackEmulator({
          port: port(12112),
          botToken: EMULATOR_DEFAULTS.slackBotToken,
          signingSecret: EMULATOR_DEFAULTS.slackSigningSecret,
        });
        stops.push(() => emulator.stop());
        url = emulator.url;
      }
      slack = {
        botToken: EMULATOR_DEFAULTS.slackBotToken,
        signingSecret: EMULATOR_DEFAULTS.slackSigningSecret,
        channelId: config.slack.channelId ?? EMULATOR_DEFAULTS.slackChannelId,
        apiUrl: `${url}/api/`,
        reviewerIds: config.slack.reviewerIds,
        emulatorAdmin: new SlackEmulatorAdmin(url),
      };
      notes.push(`Slack: emulator at ${url} (set SLACK_BOT_TOKEN, SLACK_SIGNING_SECRET and SLACK_CHANNEL_ID for Slack)`);
    }

    if (!config.databaseUrl) {
      if (!inProcess) {
        throw new Error('DATABASE_URL is required when the server and the worker run as separate processes');
      }
      notes.push('Database: embedded PostgreSQL (PGlite) under .data/ (set DATABASE_URL for PostgreSQL)');
    }

    return {
      temporal: { ...config.temporal, address: temporalAddress, embedded: !config.temporal.address },
      stripe,
      slack,
      databaseUrl: config.databaseUrl,
      ledgerDatabaseUrl: config.ledgerDatabaseUrl,
      notes,
      stop: async () => {
        for (const stop of stops.reverse()) await stop();
      },
    };
  } catch (error) {
    for (const stop of stops.reverse()) await stop().catch(() => undefined);
    throw error;
  }
}

export function generateWebhookSecret(): string {
  return `whsec_${randomBytes(24).toString('base64url')}`;
}
