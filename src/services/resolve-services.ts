// Which Temporal, Stripe, Slack and database this process uses: what the environment configures, and
// an embedded default for whatever it leaves unset. The embedded branch (embedded-emulators.ts) is
// imported only when something is unset, so a process on real services never loads emulators/.
import type { AppConfig } from '../config/env';
import { createStripeClient } from '../stripe/client';
import { registerGateEventDestination } from './gate-event-destination';
import { registerGateWebhookEndpoint } from './gate-webhook-endpoint';

export interface ResolvedServices {
  temporal: AppConfig['temporal'] & { address: string; embedded: boolean };
  stripe: {
    secretKey: string;
    /** The webhook endpoint's signing secret; set whenever the process serves HTTP. */
    webhookSecret: string | undefined;
    /** The thin-event destination's signing secret; undefined: POST /webhooks/stripe/thin is off. */
    thinWebhookSecret: string | undefined;
    apiUrl: string | undefined;
    embedded: boolean;
  };
  slack: {
    botToken: string;
    signingSecret: string;
    channelId: string;
    apiUrl: string | undefined;
    reviewerIds: string[];
    /** Set: clicks arrive over Socket Mode (SLACK_APP_TOKEN), not at POST /slack/interactions. */
    appToken?: string;
    embedded: boolean;
  };
  /** undefined: embedded PGlite. */
  databaseUrl: string | undefined;
  ledgerDatabaseUrl: string | undefined;
  /** One line per embedded default, for the start-up log. */
  notes: string[];
  /** Tells embedded emulators where the server listens (Stripe webhook URL, Slack interactivity URL). */
  serverListening(baseUrl: string): Promise<void>;
  /** Undoes what resolving started (webhook endpoint, emulators), in reverse order. */
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
  /** The process serves HTTP: its Stripe webhook needs the signing secret before the server starts. */
  serves: boolean;
}

export async function resolveServices(config: AppConfig, options: ResolveOptions): Promise<ResolvedServices> {
  const notes: string[] = [];
  const stops: Array<() => Promise<void>> = [];
  const onListening: Array<(baseUrl: string) => Promise<void>> = [];
  const mode = { inProcess: options.emulators === 'in-process', randomPort: options.ports === 'random' };
  const embedded = () => import('./embedded-emulators');
  // One after the other, newest first (the webhook endpoint goes before its emulator); each runs even
  // when an earlier one failed.
  const stopAll = async () => {
    const failures: unknown[] = [];
    for (const stop of stops.splice(0).reverse()) await stop().catch((error: unknown) => failures.push(error));
    if (failures.length > 0) throw new AggregateError(failures, 'stopping the embedded services failed');
  };

  try {
    let temporalAddress = config.temporal.address;
    if (!temporalAddress) {
      const temporal = await (await embedded()).embeddedTemporal(config.temporal.namespace, mode);
      if (temporal.stop) stops.push(temporal.stop);
      temporalAddress = temporal.address;
      notes.push(
        `Temporal: embedded emulator at ${temporalAddress} (set TEMPORAL_ADDRESS for Temporal Server or Cloud)`,
      );
    }

    let stripe: ResolvedServices['stripe'];
    if (config.stripe.secretKey) {
      if (options.serves && !config.stripe.webhookSecret) {
        throw new Error(
          'STRIPE_SECRET_KEY is set, so STRIPE_WEBHOOK_SECRET is required too (the signing secret of the webhook endpoint for /webhooks/stripe)',
        );
      }
      stripe = {
        secretKey: config.stripe.secretKey,
        webhookSecret: config.stripe.webhookSecret,
        thinWebhookSecret: config.stripe.thinWebhookSecret,
        apiUrl: config.stripe.apiUrl,
        embedded: false,
      };
    } else {
      const emulator = await (await embedded()).embeddedStripe(mode);
      if (emulator.stop) stops.push(emulator.stop);
      let webhookSecret: string | undefined;
      let thinWebhookSecret = config.stripe.thinWebhookSecret;
      if (options.serves) {
        // The gate registers its own endpoint and event destination, at the address it is configured to listen on.
        const client = createStripeClient({ secretKey: emulator.secretKey, apiUrl: emulator.apiUrl });
        const gateUrl = `http://${config.host}:${config.port}`;
        const endpoint = await registerGateWebhookEndpoint(client, gateUrl);
        stops.push(() => endpoint.remove());
        onListening.push((baseUrl) => endpoint.moveTo(baseUrl));
        webhookSecret = endpoint.secret;
        if (!thinWebhookSecret) {
          const destination = await registerGateEventDestination(client, gateUrl);
          stops.push(() => destination.remove());
          onListening.push((baseUrl) => destination.moveTo(baseUrl));
          thinWebhookSecret = destination.secret;
        }
      }
      stripe = {
        secretKey: emulator.secretKey,
        webhookSecret,
        thinWebhookSecret,
        apiUrl: emulator.apiUrl,
        embedded: true,
      };
      // A secret generated for this process is shown here, once: nobody else knows it.
      const key = emulator.stop ? `, key ${emulator.secretKey} (this process only)` : '';
      notes.push(
        `Stripe: emulator at ${emulator.apiUrl}${key} (set STRIPE_SECRET_KEY and STRIPE_WEBHOOK_SECRET for Stripe)`,
      );
    }

    let slack: ResolvedServices['slack'];
    const appToken = config.slack.appToken;
    if (config.slack.botToken) {
      // Socket Mode needs no signing secret: nothing is posted to the gate.
      if ((!appToken && !config.slack.signingSecret) || !config.slack.channelId) {
        throw new Error(
          `SLACK_BOT_TOKEN is set, so ${appToken ? 'SLACK_CHANNEL_ID is' : 'SLACK_SIGNING_SECRET and SLACK_CHANNEL_ID are'} required too`,
        );
      }
      slack = {
        botToken: config.slack.botToken,
        signingSecret: config.slack.signingSecret ?? '',
        channelId: config.slack.channelId,
        apiUrl: config.slack.apiUrl,
        reviewerIds: config.slack.reviewerIds,
        appToken,
        embedded: false,
      };
    } else {
      // HTTP by default; with SLACK_APP_TOKEN the emulator takes that token and delivers clicks over its socket.
      const emulator = await (await embedded()).embeddedSlack(mode, appToken);
      if (emulator.stop) stops.push(emulator.stop);
      if (options.serves && !appToken)
        onListening.push((baseUrl) => emulator.setInteractivityUrl(`${baseUrl}/slack/interactions`));
      slack = {
        botToken: emulator.botToken,
        signingSecret: emulator.signingSecret,
        channelId: config.slack.channelId ?? emulator.channelId,
        apiUrl: `${emulator.url}/api/`,
        reviewerIds: config.slack.reviewerIds,
        appToken,
        embedded: true,
      };
      const secrets = emulator.stop
        ? `, signing secret ${emulator.signingSecret} and bot token ${emulator.botToken} (this process only)`
        : '';
      notes.push(
        `Slack: emulator at ${emulator.url}${appToken ? ', clicks over Socket Mode' : ''}${secrets} (set SLACK_BOT_TOKEN, SLACK_SIGNING_SECRET and SLACK_CHANNEL_ID for Slack)`,
      );
    }

    if (!config.databaseUrl) {
      if (!mode.inProcess) {
        throw new Error('DATABASE_URL is required when the server and the worker run as separate processes');
      }
      (await embedded()).assertEmbeddedDatabaseInstalled();
      notes.push('Database: embedded PostgreSQL (PGlite) under .data/ (set DATABASE_URL for PostgreSQL)');
    }

    return {
      temporal: { ...config.temporal, address: temporalAddress, embedded: !config.temporal.address },
      stripe,
      slack,
      databaseUrl: config.databaseUrl,
      ledgerDatabaseUrl: config.ledgerDatabaseUrl,
      notes,
      serverListening: async (baseUrl) => {
        for (const tell of onListening) await tell(baseUrl);
      },
      stop: stopAll,
    };
  } catch (error) {
    await stopAll().catch(() => undefined);
    throw error;
  }
}
