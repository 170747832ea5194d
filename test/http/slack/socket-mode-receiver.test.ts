// The Slack app on Socket Mode (an app-level token): the same review handlers, clicks from the Slack
// emulator's socket, the connection's start-up retries, reconnects and stop, against an in-memory gate.
import { after, afterEach, before, beforeEach, test } from 'node:test';
import assert from 'node:assert/strict';
import Fastify from 'fastify';
import { WebClient } from '@slack/web-api';
import { SLACK_EMULATOR_DEFAULTS, startSlackEmulator, type SlackEmulator } from '../../../emulators/slack/index';
import { createSlackApp, type SlackApp } from '../../../src/http/slack/slack-app';
import type { GateSocketModeReceiver } from '../../../src/http/slack/socket-mode-receiver';
import type { ReviewAttempt } from '../../../src/http/slack/review-interactions';
import { buildHeldAlert } from '../../../src/slack/alert-message';
import { alertInput, gateState } from '../../slack/fixtures';
import { FakeGate, MemoryLogger } from './harness';

const CHANNEL = SLACK_EMULATOR_DEFAULTS.channelId;
const APP_TOKEN = 'xapp-1-A0GATEAPP-1-receiver-test-secret';

let emu: SlackEmulator;
const started: SlackApp[] = [];

before(async () => {
  emu = await startSlackEmulator({ port: 0, appToken: APP_TOKEN, socketMode: true });
});
after(() => emu.stop());
beforeEach(() => emu.admin.reset());
// Slack may deliver to any open connection of the app: one app at a time.
afterEach(async () => {
  for (const slack of started.splice(0)) await slack.receiver.stop();
});

function socketApp(opts: { slackApiUrl?: string; appToken?: string; gate?: FakeGate } = {}) {
  const gate = opts.gate ?? new FakeGate();
  const audit: ReviewAttempt[] = [];
  const logger = new MemoryLogger();
  const slack = createSlackApp({
    signingSecret: '',
    botToken: emu.botToken,
    slackApiUrl: opts.slackApiUrl ?? emu.apiUrl,
    appToken: opts.appToken ?? APP_TOKEN,
    reviewerIds: ['U0ALICE'],
    gate,
    recordReviewAttempt: (a) => void audit.push(a),
    recordRefusedDecision: () => undefined,
    logger,
    retryConfig: { retries: 0 },
    // A lost connection is retried after clientPingTimeoutMs (times the failures in a row).
    socketMode: { retryMinMs: 100, retryMaxMs: 200, clientPingTimeoutMs: 1000 },
  });
  started.push(slack);
  const receiver = slack.receiver as GateSocketModeReceiver;
  return { slack, receiver, gate, audit, logger };
}

async function eventually<T>(what: string, probe: () => T | undefined | false | Promise<T | undefined | false>) {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    const value = await probe();
    if (value) return value;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`timed out waiting for ${what}`);
}

async function postAlert(invoiceId = 'in_1Test'): Promise<string> {
  const input = alertInput({ invoice: { ...alertInput().invoice, invoiceId } });
  const web = new WebClient(emu.botToken, { slackApiUrl: emu.apiUrl });
  return (await web.chat.postMessage({ channel: CHANNEL, ...buildHeldAlert(input) })).ts!;
}

const messages = (logger: MemoryLogger) => logger.entries.map((e) => `${e.level} ${e.msg ?? ''}`);

test('clicks over the socket reach the same handlers: a reviewer decides, an outsider is refused', async () => {
  const { receiver, gate, audit, logger } = socketApp();
  assert.equal(receiver.transport, 'socket');
  receiver.startReceiving();
  await eventually('connected', () => receiver.state === 'connected');
  assert.ok(messages(logger).includes('info slack socket mode connected'));
  gate.states.set('in_1Test', gateState());
  const ts = await postAlert();

  const release = await emu.admin.clickOverSocket({ channel: CHANNEL, ts, actionId: 'gate_release' });
  assert.equal(release.acked, true);
  assert.equal(release.attempts, 1);
  await receiver.drain();
  const [view] = await emu.admin.openViews('U0ALICE');
  assert.ok(view, 'the release opens the reason modal');
  const submitted = await emu.admin.submitView({ viewId: view.id, values: { reason: 'ledger_late' }, via: 'socket' });
  await receiver.drain();
  assert.equal(submitted.viewClosed, true);
  assert.deepEqual(gate.decisions, [
    {
      invoiceId: 'in_1Test',
      decision: { action: 'release', reviewer: 'U0ALICE', reason: 'ledger_late', channel: 'slack_socket' },
    },
  ]);

  const outsider = await emu.admin.clickOverSocket({ channel: CHANNEL, ts, actionId: 'gate_recount', userId: 'U0BOB' });
  assert.equal(outsider.acked, true);
  await receiver.drain();
  assert.equal(gate.decisions.length, 1, 'no decision from the outsider');
  assert.deepEqual(
    audit.map((a) => [a.slackUserId, a.action, a.outcome]),
    [
      ['U0ALICE', 'release', 'modal_opened'],
      ['U0ALICE', 'release', 'decided'],
      ['U0BOB', 'recount', 'not_allowed'],
    ],
  );
  const ephemerals = await emu.admin.ephemerals();
  assert.match(ephemerals.find((e) => e.user === 'U0BOB')!.text, /not allowed/);
});

test('the ack goes out before the gate is asked; stop() waits for the click being handled', async () => {
  const gate = new FakeGate();
  gate.states.set('in_1Test', gateState());
  let release!: () => void;
  gate.decideImpl = () => new Promise<void>((resolve) => (release = resolve));
  const { receiver } = socketApp({ gate });
  receiver.startReceiving();
  await eventually('connected', () => receiver.state === 'connected');

  const click = await emu.admin.clickOverSocket({ channel: CHANNEL, ts: await postAlert(), actionId: 'gate_recount' });
  assert.equal(click.acked, true, 'acked while the gate has not answered yet');
  await eventually('the decision being sent', () => receiver.pending === 1 && release !== undefined);
  let stopped = false;
  const stopping = receiver.stop().then(() => (stopped = true));
  await new Promise((resolve) => setTimeout(resolve, 50));
  assert.equal(stopped, false, 'stop() waits for the click');
  release();
  await stopping;
  assert.equal(gate.decisions.length, 1);
  assert.equal(receiver.state, 'stopped');
  assert.equal((await emu.admin.socketMode()).connections.length, 0, 'disconnected');
});

test('Slack asks for a refresh: the connection comes back and clicks arrive again; the log says so', async () => {
  const { receiver, gate, logger } = socketApp();
  receiver.startReceiving();
  await eventually('connected', () => receiver.state === 'connected');
  await emu.admin.disconnectSockets({ reason: 'refresh_requested' });
  await eventually('reconnected', () => messages(logger).includes('info slack socket mode reconnected'));
  assert.ok(messages(logger).includes('warn slack socket mode connection lost; reconnecting'));
  assert.equal(receiver.state, 'connected');

  gate.states.set('in_1Test', gateState());
  const click = await emu.admin.clickOverSocket({ channel: CHANNEL, ts: await postAlert(), actionId: 'gate_recount' });
  assert.equal(click.acked, true);
  await receiver.drain();
  assert.equal(gate.decisions.length, 1);
});

test('Slack unreachable at start: logged clearly, retried, connected once Slack is there', async () => {
  // A port where nothing listens yet; the emulator starts there after a few failed attempts.
  const probe = await startSlackEmulator({ port: 0 });
  const port = probe.port;
  await probe.stop();
  const { receiver, logger } = socketApp({ slackApiUrl: `http://127.0.0.1:${port}/api/` });
  receiver.startReceiving();
  const failures = () =>
    logger.at('error').filter((e) => /socket mode: could not connect to Slack.*Retrying/.test(e.msg ?? ''));
  await eventually('two failed attempts', () => failures().length >= 2);
  assert.equal(receiver.state, 'connecting');
  assert.equal(typeof (failures()[0].obj as { retryInMs?: unknown }).retryInMs, 'number');

  const late = await startSlackEmulator({ port, appToken: APP_TOKEN });
  try {
    await eventually('connected after Slack came up', () => receiver.state === 'connected');
    assert.equal((await late.admin.socketMode()).connections.length, 1);
  } finally {
    await receiver.stop();
    await late.stop();
  }
});

test('Slack goes away while connected: the failed reconnect is logged and retried, not fatal', async () => {
  const first = await startSlackEmulator({ port: 0, appToken: APP_TOKEN });
  const port = first.port;
  const { receiver, logger } = socketApp({ slackApiUrl: first.apiUrl });
  receiver.startReceiving();
  await eventually('connected', () => receiver.state === 'connected');
  await first.stop();
  await eventually('a failed reconnect logged', () =>
    logger.at('error').some((e) => /socket mode: could not connect to Slack.*Retrying/.test(e.msg ?? '')),
  );
  const again = await startSlackEmulator({ port, appToken: APP_TOKEN });
  try {
    await eventually('connected again', () => receiver.state === 'connected');
    assert.equal((await again.admin.socketMode()).connections.length, 1);
  } finally {
    await receiver.stop();
    await again.stop();
  }
});

test('a token Slack refuses: the log names SLACK_APP_TOKEN, never the token; retries stop with stop()', async () => {
  const wrong = 'xapp-1-A0GATEAPP-1-not-the-configured-one';
  const { receiver, logger } = socketApp({ appToken: wrong });
  receiver.startReceiving();
  const refusals = () => logger.at('error').filter((e) => /refused SLACK_APP_TOKEN/.test(e.msg ?? ''));
  await eventually('two refusals', () => refusals().length >= 2);
  assert.equal((refusals()[0].obj as { error?: string }).error, 'invalid_auth');
  await receiver.stop();
  const count = logger.entries.length;
  await new Promise((resolve) => setTimeout(resolve, 400));
  assert.equal(logger.entries.length, count, 'no more attempts after stop()');
  const everything = JSON.stringify(logger.entries);
  assert.ok(!everything.includes(wrong) && !everything.includes(APP_TOKEN), 'no token in the logs');
});

test('POST /slack/interactions answers a clear 404 in Socket Mode, whatever is posted', async () => {
  const { slack } = socketApp();
  const server = Fastify();
  await server.register(slack.receiver.plugin);
  try {
    for (const [contentType, body] of [
      ['application/x-www-form-urlencoded', 'payload=%7B%7D'],
      ['application/json', '{}'],
    ]) {
      const res = await server.inject({
        method: 'POST',
        url: '/slack/interactions',
        headers: { 'content-type': contentType },
        payload: body,
      });
      assert.equal(res.statusCode, 404, contentType);
      assert.equal(res.json<{ error: string }>().error, 'socket_mode');
    }
  } finally {
    await server.close();
  }
});
