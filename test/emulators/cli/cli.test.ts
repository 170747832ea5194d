// `npm run emulators` end to end: the real CLI in a child process, reached by the real clients the
// gate uses, then stopped by a signal.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { Connection } from '@temporalio/client';
import { WebClient } from '@slack/web-api';
import Stripe from 'stripe';
import { SLACK_EMULATOR_DEFAULTS } from '../../../emulators/slack/defaults';
import { STRIPE_EMULATOR_DEFAULTS } from '../../../emulators/stripe/defaults';

const CLI = join(__dirname, '../../../emulators/cli.ts');
const START_TIMEOUT_MS = 30_000;

/** Ports that were free a moment ago: listen on 0 together (so they differ), then let go. */
async function freePorts(count: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from(
      { length: count },
      () =>
        new Promise<Server>((resolve, reject) => {
          const server = createServer();
          server.once('error', reject);
          server.listen(0, '127.0.0.1', () => resolve(server));
        }),
    ),
  );
  const ports = servers.map((s) => (s.address() as { port: number }).port);
  await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
  return ports;
}

function occupy(port: number): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve(server));
  });
}

interface Cli {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function spawnCli(args: string[], extraEnv: Record<string, string> = {}): Cli {
  // Only the test chooses the ports.
  const env = { ...process.env };
  for (const name of ['TEMPORAL_EMULATOR_PORT', 'STRIPE_EMULATOR_PORT', 'SLACK_EMULATOR_PORT']) delete env[name];
  Object.assign(env, extraEnv);
  const child = spawn(process.execPath, ['--import', 'tsx', CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env });
  let out = '';
  let err = '';
  child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (err += c.toString()));
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  return { child, stdout: () => out, stderr: () => err, exit };
}

/** Resolves with the printed NAME=value lines once the CLI says it is ready. */
async function waitReady(cli: Cli): Promise<Record<string, string>> {
  const deadline = Date.now() + START_TIMEOUT_MS;
  let exited = false;
  void cli.exit.then(() => (exited = true));
  while (!cli.stdout().includes('Ready.')) {
    if (exited) assert.fail(`emulators CLI exited before it was ready:\n${cli.stdout()}\n${cli.stderr()}`);
    if (Date.now() > deadline) {
      cli.child.kill('SIGKILL');
      assert.fail(`emulators CLI not ready after ${START_TIMEOUT_MS} ms:\n${cli.stdout()}\n${cli.stderr()}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return Object.fromEntries([...cli.stdout().matchAll(/^([A-Z_]+)=(.*)$/gm)].map((m) => [m[1], m[2]]));
}

async function exitWithin(cli: Cli, ms: number) {
  const timer = setTimeout(() => cli.child.kill('SIGKILL'), ms);
  try {
    return await cli.exit;
  } finally {
    clearTimeout(timer);
  }
}

function stripeAt(apiUrl: string, key: string): Stripe {
  const base = new URL(apiUrl);
  return new Stripe(key, { host: base.hostname, port: base.port, protocol: 'http', maxNetworkRetries: 0 });
}

describe('npm run emulators', () => {
  it('starts all three with the well-known credentials, prints the gate env, and stops cleanly on SIGTERM', async () => {
    const [temporalPort, stripePort, slackPort] = await freePorts(3);
    const cli = spawnCli([
      '--temporal-port',
      String(temporalPort),
      '--stripe-port',
      String(stripePort),
      '--slack-port',
      String(slackPort),
    ]);
    try {
      const env = await waitReady(cli);
      assert.deepEqual(env, {
        TEMPORAL_ADDRESS: `127.0.0.1:${temporalPort}`,
        STRIPE_API_URL: `http://127.0.0.1:${stripePort}`,
        STRIPE_SECRET_KEY: STRIPE_EMULATOR_DEFAULTS.apiKey,
        SLACK_API_URL: `http://127.0.0.1:${slackPort}/api/`,
        SLACK_BOT_TOKEN: SLACK_EMULATOR_DEFAULTS.botToken,
        SLACK_SIGNING_SECRET: SLACK_EMULATOR_DEFAULTS.signingSecret,
        SLACK_CHANNEL_ID: SLACK_EMULATOR_DEFAULTS.channelId,
      });

      const connection = await Connection.connect({ address: env.TEMPORAL_ADDRESS });
      try {
        const info = await connection.workflowService.getSystemInfo({});
        assert.equal(typeof info.serverVersion, 'string');
        assert.equal(info.capabilities?.signalAndQueryHeader, true);
        const ns = await connection.workflowService.describeNamespace({ namespace: 'default' });
        assert.equal(ns.namespaceInfo?.name, 'default');
      } finally {
        await connection.close();
      }

      const stripe = stripeAt(env.STRIPE_API_URL, env.STRIPE_SECRET_KEY);
      const customer = await stripe.customers.create({ email: 'cli-test@example.com' });
      const customers = await stripe.customers.list({ limit: 10 });
      assert.deepEqual(
        customers.data.map((c) => c.id),
        [customer.id],
      );
      await assert.rejects(stripeAt(env.STRIPE_API_URL, 'sk_test_wrong').customers.list(), /API key/i);

      const slack = new WebClient(env.SLACK_BOT_TOKEN, { slackApiUrl: env.SLACK_API_URL, retryConfig: { retries: 0 } });
      const auth = await slack.auth.test();
      assert.equal(auth.ok, true);
      assert.equal(typeof auth.user_id, 'string');
      const slackInfo = (await (await fetch(`http://127.0.0.1:${slackPort}/_emulator/info`)).json()) as {
        signingSecret: string;
        interactivityUrl: string | null;
      };
      assert.equal(slackInfo.signingSecret, SLACK_EMULATOR_DEFAULTS.signingSecret);
      assert.equal(slackInfo.interactivityUrl, null);

      cli.child.kill('SIGTERM');
      const { code, signal } = await exitWithin(cli, 10_000);
      assert.deepEqual({ code, signal }, { code: 0, signal: null }, cli.stderr());
      // Every port is released.
      for (const port of [temporalPort, stripePort, slackPort])
        await occupy(port).then((s) => new Promise((r) => s.close(r)));
    } finally {
      cli.child.kill('SIGKILL');
    }
  });

  it('with --gate-url registers the gate webhook endpoint and interactivity URL, takes ports from env, and stops on SIGINT', async () => {
    const [temporalPort, stripePort, slackPort, gatePort] = await freePorts(4);
    const gateUrl = `http://127.0.0.1:${gatePort}`;
    const cli = spawnCli(
      [
        '--temporal-port',
        String(temporalPort),
        '--slack-port',
        String(slackPort),
        '--time-skipping',
        '--gate-url',
        gateUrl,
      ],
      // A flag wins over the environment.
      { STRIPE_EMULATOR_PORT: String(stripePort), SLACK_EMULATOR_PORT: 'not-used' },
    );
    try {
      const env = await waitReady(cli);
      assert.equal(env.STRIPE_API_URL, `http://127.0.0.1:${stripePort}`);
      assert.match(env.STRIPE_WEBHOOK_SECRET, /^whsec_\S+$/);
      assert.match(cli.stdout(), /time skipping/);
      const endpoints = await stripeAt(env.STRIPE_API_URL, env.STRIPE_SECRET_KEY).webhookEndpoints.list();
      assert.deepEqual(
        endpoints.data.map((e) => [e.url, e.enabled_events]),
        [[`${gateUrl}/webhooks/stripe`, ['*']]],
      );
      const slackInfo = (await (await fetch(`http://127.0.0.1:${slackPort}/_emulator/info`)).json()) as {
        interactivityUrl: string | null;
      };
      assert.equal(slackInfo.interactivityUrl, `${gateUrl}/slack/interactions`);

      cli.child.kill('SIGINT');
      const { code, signal } = await exitWithin(cli, 10_000);
      assert.deepEqual({ code, signal }, { code: 0, signal: null }, cli.stderr());
    } finally {
      cli.child.kill('SIGKILL');
    }
  });

  it('names the taken port and the flag that moves it, stops what it started, and exits 1', async () => {
    const [temporalPort, stripePort, slackPort] = await freePorts(3);
    const blocker = await occupy(stripePort);
    try {
      const cli = spawnCli([
        '--temporal-port',
        String(temporalPort),
        '--stripe-port',
        String(stripePort),
        '--slack-port',
        String(slackPort),
      ]);
      const { code } = await exitWithin(cli, START_TIMEOUT_MS);
      assert.equal(code, 1);
      assert.match(
        cli.stderr(),
        new RegExp(`Stripe emulator: port ${stripePort} on 127\\.0\\.0\\.1 is already in use`),
      );
      assert.match(cli.stderr(), /--stripe-port <port>/);
      assert.doesNotMatch(cli.stdout(), /Ready\./);
      // The Temporal emulator, started first, let go of its port.
      await occupy(temporalPort).then((s) => new Promise((r) => s.close(r)));
    } finally {
      await new Promise((r) => blocker.close(r));
    }
  });

  it('rejects a malformed port with the flag name and exit code 2', async () => {
    const cli = spawnCli(['--slack-port', 'twelve']);
    const { code } = await exitWithin(cli, START_TIMEOUT_MS);
    assert.equal(code, 2);
    assert.match(cli.stderr(), /--slack-port must be a port number from 0 to 65535, got "twelve"/);
    assert.match(cli.stderr(), /Usage: npm run emulators/);
  });
});
