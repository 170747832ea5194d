// `npm run emulators`: the Temporal, Stripe and Slack emulators together, on their default ports and
// with the well-known test credentials (each emulator's defaults.ts, which the gate's embedded
// start-up wiring reads too), until SIGINT/SIGTERM. Imports nothing from src/.
import { parseArgs } from 'node:util';
import { logVerbosity, setLogVerbosity } from '@grpc/grpc-js';
import { SLACK_EMULATOR_DEFAULTS, startSlackEmulator, type SlackEmulator } from './slack/index';
import { STRIPE_EMULATOR_DEFAULTS, startStripeEmulator, type StripeEmulator } from './stripe/index';
import { TEMPORAL_EMULATOR_DEFAULTS, startTemporalEmulator, type TemporalEmulator } from './temporal/index';

const USAGE = `Usage: npm run emulators -- [options]

  --temporal-port <port>  Temporal emulator (gRPC) port   default ${TEMPORAL_EMULATOR_DEFAULTS.port}   env TEMPORAL_EMULATOR_PORT
  --stripe-port <port>    Stripe emulator port            default ${STRIPE_EMULATOR_DEFAULTS.port}  env STRIPE_EMULATOR_PORT
  --slack-port <port>     Slack emulator port             default ${SLACK_EMULATOR_DEFAULTS.port}  env SLACK_EMULATOR_PORT
  --host <host>           address all three listen on     default ${TEMPORAL_EMULATOR_DEFAULTS.host}
  --time-skipping         Temporal: jump to the next timer whenever nothing is in flight
  --gate-url <url>        where the gate listens, e.g. http://127.0.0.1:3000: registers a Stripe webhook
                          endpoint at <url>/webhooks/stripe (printing STRIPE_WEBHOOK_SECRET) and sets
                          Slack's interactivity URL to <url>/slack/interactions
  --verbose               log every emulator request
  -h, --help              this text

Port 0 picks a free port.`;

/** Stopping normally takes well under a second; past this something hangs. */
const STOP_TIMEOUT_MS = 10_000;

class UsageError extends Error {}

interface PortSetting {
  service: 'Temporal' | 'Stripe' | 'Slack';
  flag: string;
  envVar: string;
  port: number;
}

interface CliOptions {
  host: string;
  temporal: PortSetting;
  stripe: PortSetting;
  slack: PortSetting;
  timeSkipping: boolean;
  gateUrl: URL | undefined;
  verbose: boolean;
}

function parsePort(raw: string, source: string): number {
  const port = /^\d+$/.test(raw) ? Number(raw) : NaN;
  if (!(port >= 0 && port <= 65535))
    throw new UsageError(`${source} must be a port number from 0 to 65535, got "${raw}"`);
  return port;
}

function portSetting(
  service: PortSetting['service'],
  flag: string,
  envVar: string,
  flagValue: string | undefined,
  fallback: number,
): PortSetting {
  const fromEnv = process.env[envVar];
  const port =
    flagValue !== undefined ? parsePort(flagValue, `--${flag}`) : fromEnv ? parsePort(fromEnv, envVar) : fallback;
  return { service, flag: `--${flag}`, envVar, port };
}

function parseCli(argv: string[]): CliOptions | 'help' {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        'temporal-port': { type: 'string' },
        'stripe-port': { type: 'string' },
        'slack-port': { type: 'string' },
        host: { type: 'string', default: TEMPORAL_EMULATOR_DEFAULTS.host },
        'time-skipping': { type: 'boolean', default: false },
        'gate-url': { type: 'string' },
        verbose: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    }));
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  if (values.help) return 'help';
  let gateUrl: URL | undefined;
  if (values['gate-url'] !== undefined) {
    try {
      gateUrl = new URL(values['gate-url']);
    } catch {
      throw new UsageError(`--gate-url must be an http(s) URL, got "${values['gate-url']}"`);
    }
    if (gateUrl.protocol !== 'http:' && gateUrl.protocol !== 'https:') {
      throw new UsageError(`--gate-url must be an http(s) URL, got "${values['gate-url']}"`);
    }
  }
  return {
    host: values.host,
    temporal: portSetting(
      'Temporal',
      'temporal-port',
      'TEMPORAL_EMULATOR_PORT',
      values['temporal-port'],
      TEMPORAL_EMULATOR_DEFAULTS.port,
    ),
    stripe: portSetting(
      'Stripe',
      'stripe-port',
      'STRIPE_EMULATOR_PORT',
      values['stripe-port'],
      STRIPE_EMULATOR_DEFAULTS.port,
    ),
    slack: portSetting(
      'Slack',
      'slack-port',
      'SLACK_EMULATOR_PORT',
      values['slack-port'],
      SLACK_EMULATOR_DEFAULTS.port,
    ),
    timeSkipping: values['time-skipping'],
    gateUrl,
    verbose: values.verbose,
  };
}

function isAddressInUse(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  // Node's http servers set the code; grpc-js only puts the listen error into the message.
  return (error as NodeJS.ErrnoException).code === 'EADDRINUSE' || error.message.includes('EADDRINUSE');
}

/** Starts one emulator, turning "port taken" into an error that says which flag moves it. */
async function startOn<T>(setting: PortSetting, host: string, start: () => Promise<T>): Promise<T> {
  try {
    return await start();
  } catch (error) {
    if (isAddressInUse(error)) {
      throw new Error(
        `${setting.service} emulator: port ${setting.port} on ${host} is already in use. ` +
          `Stop whatever holds it, or choose another port with ${setting.flag} <port> (or ${setting.envVar}).`,
      );
    }
    throw new Error(
      `${setting.service} emulator failed to start on ${host}:${setting.port}: ${(error as Error).message}`,
    );
  }
}

/** A Stripe webhook endpoint for the gate, as a user would create in the Stripe dashboard. */
async function registerGateWebhook(stripe: StripeEmulator, gateUrl: URL): Promise<string> {
  const response = await fetch(`${stripe.url}/v1/webhook_endpoints`, {
    method: 'POST',
    headers: { authorization: `Bearer ${stripe.apiKey}`, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ url: new URL('/webhooks/stripe', gateUrl).href, 'enabled_events[]': '*' }),
  });
  const body = (await response.json()) as { secret?: string; error?: { message?: string } };
  if (!response.ok || !body.secret) {
    throw new Error(`Stripe emulator refused the webhook endpoint: ${body.error?.message ?? response.status}`);
  }
  return body.secret;
}

interface Running {
  temporal?: TemporalEmulator;
  stripe?: StripeEmulator;
  slack?: SlackEmulator;
}

async function stopAll(running: Running): Promise<void> {
  // Reverse start order; every emulator gets its stop even when another one's fails.
  const stops = [running.slack, running.stripe, running.temporal].filter((e) => e !== undefined).map((e) => e.stop());
  const results = await Promise.allSettled(stops);
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
}

function printReady(options: CliOptions, running: Required<Running>, webhookSecret: string | undefined): void {
  const { temporal, stripe, slack } = running;
  const env: Array<[string, string]> = [
    ['TEMPORAL_ADDRESS', temporal.address],
    ['STRIPE_API_URL', stripe.url],
    ['STRIPE_SECRET_KEY', stripe.apiKey],
    ...(webhookSecret ? ([['STRIPE_WEBHOOK_SECRET', webhookSecret]] as Array<[string, string]>) : []),
    ['SLACK_API_URL', slack.apiUrl],
    ['SLACK_BOT_TOKEN', slack.botToken],
    ['SLACK_SIGNING_SECRET', slack.signingSecret],
    ['SLACK_CHANNEL_ID', SLACK_EMULATOR_DEFAULTS.channelId],
  ];
  const lines = [
    `Temporal emulator  ${temporal.address}  (gRPC, namespace ${temporal.namespace}${options.timeSkipping ? ', time skipping' : ''})`,
    `Stripe emulator    ${stripe.url}  (admin API ${stripe.url}/_emulator/)`,
    `Slack emulator     ${slack.url}  (Web API ${slack.apiUrl}, admin API ${slack.url}/_emulator/info)`,
    '',
    'Point invoice-gate at them (these lines work as a .env file):',
    ...env.map(([name, value]) => `${name}=${value}`),
    `# for Slack clicks over Socket Mode instead of POST /slack/interactions: SLACK_APP_TOKEN=${slack.appToken}`,
    '',
  ];
  if (options.gateUrl) {
    lines.push(
      `Stripe sends webhooks to ${new URL('/webhooks/stripe', options.gateUrl).href}; Slack sends clicks to ${new URL('/slack/interactions', options.gateUrl).href}.`,
    );
  } else {
    lines.push(
      'With STRIPE_SECRET_KEY set the gate also needs STRIPE_WEBHOOK_SECRET: restart with',
      '--gate-url http://127.0.0.1:3000 to register its webhook endpoint (and Slack interactivity URL) and print it.',
      '(`npm run server` / `npm run worker` with none of these set use the emulators on their default ports',
      'and register the endpoint themselves.)',
    );
  }
  lines.push('', 'Ready. Ctrl-C (SIGINT) or SIGTERM stops all three.');
  console.log(lines.join('\n'));
}

async function main(): Promise<number> {
  let options: CliOptions | 'help';
  try {
    options = parseCli(process.argv.slice(2));
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    console.error(`emulators: ${error.message}\n\n${USAGE}`);
    return 2;
  }
  if (options === 'help') {
    console.log(USAGE);
    return 0;
  }
  const opts = options;
  // grpc-js logs a failed bind on its own; the error below says it better.
  if (!opts.verbose) setLogVerbosity(logVerbosity.NONE);
  const log = (service: string) => (opts.verbose ? (msg: string) => console.log(`[${service}] ${msg}`) : undefined);

  const running: Running = {};
  let signalled: NodeJS.Signals | undefined;
  let started = false;
  let finish: (code: number) => void = () => undefined;
  const finished = new Promise<number>((resolve) => (finish = resolve));
  const stopAndFinish = () => {
    stopAll(running).then(
      () => finish(0),
      (error: unknown) => {
        console.error(`emulators: stopping failed: ${(error as Error).message}`);
        finish(1);
      },
    );
  };
  const onSignal = (signal: NodeJS.Signals) => {
    // Ctrl-C under `npm run` can arrive twice (from the terminal and relayed by npm/tsx): stop once.
    if (signalled) return;
    signalled = signal;
    console.log(`emulators: ${signal}, stopping`);
    setTimeout(() => {
      console.error(`emulators: not stopped after ${STOP_TIMEOUT_MS} ms, exiting anyway`);
      process.exit(1);
    }, STOP_TIMEOUT_MS).unref();
    // While starting, the start sequence stops what it started once it is done.
    if (started) stopAndFinish();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  let webhookSecret: string | undefined;
  try {
    running.temporal = await startOn(opts.temporal, opts.host, () =>
      startTemporalEmulator({
        port: opts.temporal.port,
        host: opts.host,
        timeSkipping: opts.timeSkipping,
        log: log('temporal'),
      }),
    );
    running.stripe = await startOn(opts.stripe, opts.host, () =>
      startStripeEmulator({
        port: opts.stripe.port,
        host: opts.host,
        apiKey: STRIPE_EMULATOR_DEFAULTS.apiKey,
        log: log('stripe'),
      }),
    );
    running.slack = await startOn(opts.slack, opts.host, () =>
      startSlackEmulator({
        port: opts.slack.port,
        host: opts.host,
        botToken: SLACK_EMULATOR_DEFAULTS.botToken,
        signingSecret: SLACK_EMULATOR_DEFAULTS.signingSecret,
        // Socket Mode: apps.connections.open takes this app-level token (SLACK_APP_TOKEN when it is one).
        appToken: process.env.SLACK_APP_TOKEN?.startsWith('xapp-') ? process.env.SLACK_APP_TOKEN : undefined,
        interactivityUrl: opts.gateUrl && new URL('/slack/interactions', opts.gateUrl).href,
        log: log('slack'),
      }),
    );
    if (opts.gateUrl) webhookSecret = await registerGateWebhook(running.stripe, opts.gateUrl);
  } catch (error) {
    console.error(`emulators: ${(error as Error).message}`);
    await stopAll(running).catch(() => undefined);
    return 1;
  }
  started = true;
  if (signalled) stopAndFinish();
  else printReady(opts, running as Required<Running>, webhookSecret);
  return finished;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
