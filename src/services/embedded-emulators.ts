// Embedded defaults for what the environment leaves unset: the project's emulators, started in this
// process (npm start, the demo) or reached on their well-known ports (`npm run emulators`, for the split
// server/worker commands). The only place src/ reaches emulators/. resolve-services.ts imports this
// module only when a service is unset, and each emulator is imported only when it is started here, so
// a process configured for real services never loads them (nor their development dependencies).
// Emulators started here get secrets generated for this process, never the public constants of their
// defaults.ts: whoever reaches the gate's port cannot sign a Slack click or call the Stripe emulator with
// a key from the repository. (The emulators of `npm run emulators` keep their defaults: the split
// commands must know them, and a split deployment on emulators is a development mix, GATE_ALLOW_EMBEDDED=1.)
import { randomBytes } from 'node:crypto';
import { SLACK_EMULATOR_DEFAULTS } from '../../emulators/slack/defaults';
import { STRIPE_EMULATOR_DEFAULTS } from '../../emulators/stripe/defaults';
import { TEMPORAL_EMULATOR_DEFAULTS } from '../../emulators/temporal/defaults';

export interface EmulatorMode {
  /** Start the emulator in this process; otherwise use one already running on its default port. */
  inProcess: boolean;
  /** In-process on a random free port instead of the default one (the demo). */
  randomPort: boolean;
}

interface Embedded {
  /** Set when the emulator runs in this process. */
  stop?: () => Promise<void>;
}

const port = (mode: EmulatorMode, fixed: number) => (mode.randomPort ? 0 : fixed);

/** A secret of this process only, with the prefix the real service's secrets carry. */
const processSecret = (prefix: string) => `${prefix}${randomBytes(24).toString('hex')}`;

/** Emulators and PGlite are development dependencies: say so instead of "Cannot find module". */
async function load<T>(what: string, variables: string, importer: () => Promise<T>): Promise<T> {
  try {
    return await importer();
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== 'MODULE_NOT_FOUND' && code !== 'ERR_MODULE_NOT_FOUND') throw error;
    throw new Error(
      `${what} needs the development dependencies (npm install without --omit=dev); in production set ${variables}: ${(error as Error).message}`,
      { cause: error },
    );
  }
}

export async function embeddedTemporal(namespace: string, mode: EmulatorMode): Promise<Embedded & { address: string }> {
  if (!mode.inProcess) return { address: `${TEMPORAL_EMULATOR_DEFAULTS.host}:${TEMPORAL_EMULATOR_DEFAULTS.port}` };
  const { startTemporalEmulator } = await load(
    'the embedded Temporal emulator',
    'TEMPORAL_ADDRESS',
    () => import('../../emulators/temporal'),
  );
  const emulator = await startTemporalEmulator({ port: port(mode, TEMPORAL_EMULATOR_DEFAULTS.port), namespace });
  return { address: emulator.address, stop: () => emulator.stop() };
}

export async function embeddedStripe(mode: EmulatorMode): Promise<Embedded & { apiUrl: string; secretKey: string }> {
  if (!mode.inProcess) {
    const apiUrl = `http://${STRIPE_EMULATOR_DEFAULTS.host}:${STRIPE_EMULATOR_DEFAULTS.port}`;
    return { apiUrl, secretKey: STRIPE_EMULATOR_DEFAULTS.apiKey };
  }
  const secretKey = processSecret('sk_test_emulator_');
  const { startStripeEmulator } = await load(
    'the embedded Stripe emulator',
    'STRIPE_SECRET_KEY and STRIPE_WEBHOOK_SECRET',
    () => import('../../emulators/stripe'),
  );
  const emulator = await startStripeEmulator({ port: port(mode, STRIPE_EMULATOR_DEFAULTS.port), apiKey: secretKey });
  return { apiUrl: emulator.url, secretKey, stop: () => emulator.stop() };
}

export interface EmbeddedSlack extends Embedded {
  /** Base URL of the emulator (its Web API is under /api/). */
  url: string;
  botToken: string;
  signingSecret: string;
  channelId: string;
  /** Tells the emulator where to send button clicks. */
  setInteractivityUrl(url: string): Promise<void>;
}

/**
 * With `appToken` (SLACK_APP_TOKEN) the in-process emulator accepts that token on apps.connections.open
 * and has Socket Mode on; an external one (`npm run emulators`) must have been started with the same
 * SLACK_APP_TOKEN.
 */
export async function embeddedSlack(mode: EmulatorMode, appToken?: string): Promise<EmbeddedSlack> {
  const credentials = mode.inProcess
    ? {
        botToken: processSecret('xoxb-emulator-'),
        signingSecret: processSecret(''),
        channelId: SLACK_EMULATOR_DEFAULTS.channelId,
      }
    : {
        botToken: SLACK_EMULATOR_DEFAULTS.botToken,
        signingSecret: SLACK_EMULATOR_DEFAULTS.signingSecret,
        channelId: SLACK_EMULATOR_DEFAULTS.channelId,
      };
  const variables = 'SLACK_BOT_TOKEN, SLACK_SIGNING_SECRET and SLACK_CHANNEL_ID';
  let url = `http://${SLACK_EMULATOR_DEFAULTS.host}:${SLACK_EMULATOR_DEFAULTS.port}`;
  let stop: (() => Promise<void>) | undefined;
  if (mode.inProcess) {
    const { startSlackEmulator } = await load(
      'the embedded Slack emulator',
      variables,
      () => import('../../emulators/slack'),
    );
    const emulator = await startSlackEmulator({
      port: port(mode, SLACK_EMULATOR_DEFAULTS.port),
      botToken: credentials.botToken,
      signingSecret: credentials.signingSecret,
      ...(appToken ? { appToken, socketMode: true } : {}),
    });
    url = emulator.url;
    stop = () => emulator.stop();
  }
  return {
    ...credentials,
    url,
    stop,
    async setInteractivityUrl(interactivityUrl) {
      const { SlackEmulatorAdmin } = await load(
        'the Slack emulator',
        variables,
        () => import('../../emulators/slack/admin-client'),
      );
      await new SlackEmulatorAdmin(url).setInteractivityUrl(interactivityUrl);
    },
  };
}

/** PGlite is imported when the database is first used; check up front that it is installed. */
export function assertEmbeddedDatabaseInstalled(): void {
  try {
    require.resolve('@electric-sql/pglite');
  } catch (error) {
    throw new Error(
      'the embedded database (PGlite) needs the development dependencies (npm install without --omit=dev); in production set DATABASE_URL',
      { cause: error },
    );
  }
}
