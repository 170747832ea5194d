// Socket Mode in the Slack emulator, through the real @slack/socket-mode client (the one Bolt uses):
// apps.connections.open, hello, interactive envelopes and acks, redelivery, disconnect and reconnect.
import { after, afterEach, before, beforeEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { LogLevel, SocketModeClient } from '@slack/socket-mode';
import { WebClient } from '@slack/web-api';
import { WebSocket } from 'ws';
import { SLACK_EMULATOR_DEFAULTS, startSlackEmulator, type SlackEmulator } from '../../../emulators/slack/index';

const CHANNEL = SLACK_EMULATOR_DEFAULTS.channelId;
const APP_TOKEN = 'xapp-1-A0TEST-1-socket-mode-test';

interface SlackEventArgs {
  ack: (response?: Record<string, unknown>) => Promise<void>;
  envelope_id: string;
  type: string;
  body: Record<string, any>;
  retry_num?: number;
  retry_reason?: string;
  accepts_response_payload?: boolean;
}

let emu: SlackEmulator;
const clients: SocketModeClient[] = [];

before(async () => {
  emu = await startSlackEmulator({ port: 0, appToken: APP_TOKEN, socketModeOptions: { pingIntervalMs: 200 } });
});
after(() => emu.stop());
beforeEach(() => emu.admin.reset());
afterEach(async () => {
  for (const client of clients.splice(0)) await client.disconnect();
});

/** A Socket Mode client as Bolt builds one, pointed at the emulator; reconnects after 300 ms. */
function socketClient(appToken = APP_TOKEN): SocketModeClient {
  const client = new SocketModeClient({
    appToken,
    logLevel: LogLevel.ERROR,
    clientPingTimeout: 300,
    clientOptions: { slackApiUrl: emu.apiUrl, retryConfig: { retries: 0 } },
  });
  clients.push(client);
  return client;
}

async function postAlert(): Promise<string> {
  const web = new WebClient(emu.botToken, { slackApiUrl: emu.apiUrl });
  const r = await web.chat.postMessage({
    channel: CHANNEL,
    text: 'Invoice in_123 held',
    blocks: [
      {
        type: 'actions',
        block_id: 'gate_actions',
        elements: [
          { type: 'button', action_id: 'gate_release', text: { type: 'plain_text', text: 'Release' }, value: 'in_123' },
        ],
      },
    ],
  });
  return r.ts!;
}

async function eventually<T>(what: string, probe: () => Promise<T | undefined | false>, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const value = await probe();
    if (value) return value;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`timed out waiting for ${what}`);
}

test('apps.connections.open takes only the app-level token and returns a ws:// URL', async () => {
  const opened = await new WebClient(APP_TOKEN, { slackApiUrl: emu.apiUrl }).apps.connections.open();
  assert.equal(opened.ok, true);
  assert.match(opened.url ?? '', /^ws:\/\/127\.0\.0\.1:\d+\/link\/\?ticket=[0-9a-f]+$/);

  const refusals: Array<[string | undefined, string]> = [
    [emu.botToken, 'not_allowed_token_type'],
    ['xapp-1-A0TEST-1-someone-else', 'invalid_auth'],
    [undefined, 'not_authed'],
  ];
  for (const [token, error] of refusals) {
    await assert.rejects(
      new WebClient(token, { slackApiUrl: emu.apiUrl, retryConfig: { retries: 0 } }).apps.connections.open(),
      (e: { data?: { error?: string } }) => e.data?.error === error,
      `${token ?? 'no token'} -> ${error}`,
    );
  }
  // The app-level token is no bot token either.
  await assert.rejects(
    new WebClient(APP_TOKEN, { slackApiUrl: emu.apiUrl }).auth.test(),
    (e: { data?: { error?: string } }) => e.data?.error === 'not_allowed_token_type',
  );
});

test('a ticket is single use', async () => {
  const opened = await new WebClient(APP_TOKEN, { slackApiUrl: emu.apiUrl }).apps.connections.open();
  const connect = (url: string) =>
    new Promise<string>((resolve) => {
      const ws = new WebSocket(url);
      ws.once('message', (data: Buffer) => {
        ws.close();
        resolve((JSON.parse(data.toString()) as { type: string }).type);
      });
      ws.once('unexpected-response', (_req, res) => resolve(`HTTP ${res.statusCode}`));
    });
  assert.equal(await connect(opened.url!), 'hello');
  assert.equal(await connect(opened.url!), 'HTTP 401');
  assert.equal(await connect(opened.url!.replace(/ticket=\w+/, 'ticket=forged')), 'HTTP 401');
});

test('the client connects: hello with the connection info', async () => {
  const client = socketClient();
  const messages: Array<Record<string, any>> = [];
  client.on('ws_message', (data: string) => messages.push(JSON.parse(data) as Record<string, any>));
  await client.start();
  const hello = messages.find((m) => m.type === 'hello');
  assert.ok(hello, 'hello received');
  assert.equal(hello.num_connections, 1);
  assert.equal(hello.connection_info.app_id, 'A0GATEAPP');
  assert.equal(typeof hello.debug_info.approximate_connection_time, 'number');
  assert.equal((await emu.admin.socketMode()).connections.length, 1);
});

test('a click over the socket: an interactive envelope with the block_actions payload, acked', async () => {
  const client = socketClient();
  const received: SlackEventArgs[] = [];
  client.on('interactive', (args: SlackEventArgs) => {
    received.push(args);
    void args.ack();
  });
  await client.start();
  const ts = await postAlert();

  const report = await emu.admin.clickOverSocket({ channel: CHANNEL, ts, actionId: 'gate_release', userId: 'U0BOB' });
  assert.equal(report.via, 'socket');
  assert.equal(report.acked, true);
  assert.equal(report.attempts, 1);
  assert.equal(report.acknowledgedInTime, true);
  assert.equal(received.length, 1);
  const [event] = received;
  assert.equal(event.envelope_id, report.envelopeId);
  assert.equal(event.accepts_response_payload, true);
  assert.equal(event.body.type, 'block_actions');
  assert.deepEqual(event.body.user, { id: 'U0BOB', username: 'bob', name: 'bob', team_id: 'T0GATE' });
  assert.deepEqual(event.body.container, { type: 'message', message_ts: ts, channel_id: CHANNEL, is_ephemeral: false });
  assert.equal(event.body.actions[0].action_id, 'gate_release');
  assert.equal(event.body.actions[0].value, 'in_123');
  assert.equal(event.body.response_url, report.responseUrl);
  // The same payload the HTTP path posts.
  assert.deepEqual(event.body, report.payload);

  const status = await emu.admin.socketMode();
  assert.equal(status.envelopes.length, 1);
  assert.equal(status.envelopes[0].type, 'interactive');
  assert.ok(status.envelopes[0].ackedAt);
});

test('an ack may carry a payload; the emulator reports it', async () => {
  const client = socketClient();
  client.on('interactive', (args: SlackEventArgs) => void args.ack({ text: 'on it' }));
  await client.start();
  const report = await emu.admin.clickOverSocket({ channel: CHANNEL, ts: await postAlert(), actionId: 'gate_release' });
  assert.deepEqual(report.ackPayload, { text: 'on it' });
});

test('no ack in time: redelivered with retry_attempt and retry_reason until acked', async () => {
  const client = socketClient();
  const seen: SlackEventArgs[] = [];
  client.on('slack_event', (args: SlackEventArgs) => {
    seen.push(args);
    if (seen.length === 3) void args.ack();
  });
  await client.start();
  const report = await emu.admin.clickOverSocket({
    channel: CHANNEL,
    ts: await postAlert(),
    actionId: 'gate_release',
    ackTimeoutMs: 150,
    maxRetries: 3,
  });
  assert.equal(report.acked, true);
  assert.equal(report.attempts, 3);
  assert.equal(report.acknowledgedInTime, true);
  assert.deepEqual(
    seen.map((e) => [e.type, e.envelope_id, e.retry_num, e.retry_reason]),
    [
      ['interactive', report.envelopeId, undefined, undefined],
      ['interactive', report.envelopeId, 1, 'timeout'],
      ['interactive', report.envelopeId, 2, 'timeout'],
    ],
  );
  assert.deepEqual(seen[2].body, seen[0].body, 'the same payload every time');
});

test('never acked: the emulator gives up after the retries and says so; a late ack is ignored', async () => {
  const client = socketClient();
  const seen: SlackEventArgs[] = [];
  client.on('interactive', (args: SlackEventArgs) => void seen.push(args));
  await client.start();
  const report = await emu.admin.clickOverSocket({
    channel: CHANNEL,
    ts: await postAlert(),
    actionId: 'gate_release',
    ackTimeoutMs: 100,
    maxRetries: 1,
  });
  assert.equal(report.acked, false);
  assert.equal(report.attempts, 2);
  assert.equal(report.acknowledgedInTime, false);
  assert.equal(seen.length, 2);
  await seen[0].ack();
  const [envelope] = (await emu.admin.socketMode()).envelopes;
  assert.equal(envelope.gaveUp, true);
  assert.equal(envelope.ackedAt, undefined);
});

test('disconnect (refresh_requested): the client reconnects on a new ticket and gets clicks again', async () => {
  const client = socketClient();
  let connectedEvents = 0;
  let reconnecting = 0;
  client.on('connected', () => void (connectedEvents += 1));
  client.on('reconnecting', () => void (reconnecting += 1));
  const clicks: string[] = [];
  client.on('interactive', (args: SlackEventArgs) => {
    clicks.push(args.envelope_id);
    void args.ack();
  });
  await client.start();
  const [first] = (await emu.admin.socketMode()).connections;

  const { disconnected } = await emu.admin.disconnectSockets({ reason: 'refresh_requested' });
  assert.deepEqual(disconnected, [first.id]);
  const [second] = await eventually('a new connection', async () => {
    const connections = (await emu.admin.socketMode()).connections;
    return connections.length === 1 && connections[0].id !== first.id && connections;
  });
  await eventually('connected again', async () => connectedEvents === 2);
  assert.equal(reconnecting, 1);

  const report = await emu.admin.clickOverSocket({ channel: CHANNEL, ts: await postAlert(), actionId: 'gate_release' });
  assert.equal(report.acked, true);
  assert.deepEqual(clicks, [report.envelopeId]);
  assert.equal((await emu.admin.socketMode()).connections[0].id, second.id);
});

test('a warning keeps the connection; a click without a connection is refused with 409', async () => {
  const ts = await postAlert();
  await assert.rejects(
    emu.admin.clickOverSocket({ channel: CHANNEL, ts, actionId: 'gate_release' }),
    /HTTP 409 .*no_socket_connection/,
  );
  const ws = new WebSocket((await new WebClient(APP_TOKEN, { slackApiUrl: emu.apiUrl }).apps.connections.open()).url!);
  const messages: Array<Record<string, unknown>> = [];
  ws.on('message', (data: Buffer) => messages.push(JSON.parse(data.toString()) as Record<string, unknown>));
  await eventually('hello', async () => messages.length === 1);
  await emu.admin.disconnectSockets({ reason: 'warning' });
  await eventually('the warning', async () => messages.length === 2);
  assert.deepEqual(messages[1], { type: 'disconnect', reason: 'warning', debug_info: { host: new URL(emu.url).host } });
  await new Promise((resolve) => setTimeout(resolve, 100));
  assert.equal(ws.readyState, WebSocket.OPEN);
  ws.close();
});

test("the app's Socket Mode setting decides where a click without `via` goes", async () => {
  const client = socketClient();
  client.on('interactive', (args: SlackEventArgs) => void args.ack());
  await client.start();
  const ts = await postAlert();
  await emu.admin.setSocketMode(true);
  try {
    assert.equal((await emu.admin.info()).socketMode, true);
    const res = await fetch(`${emu.url}/_emulator/click`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ channel: CHANNEL, ts, actionId: 'gate_release' }),
    });
    const report = (await res.json()) as { via: string; acked: boolean };
    assert.equal(report.via, 'socket');
    assert.equal(report.acked, true);
  } finally {
    await emu.admin.setSocketMode(false);
  }
});

test('stopping the emulator closes the sockets', async () => {
  const other = await startSlackEmulator({ port: 0 });
  try {
    const client = new SocketModeClient({
      appToken: other.appToken,
      logLevel: LogLevel.ERROR,
      autoReconnectEnabled: false,
      clientOptions: { slackApiUrl: other.apiUrl },
    });
    await client.start();
    const closed = new Promise<void>((resolve) => client.once('disconnected', () => resolve()));
    await other.stop();
    await closed;
  } finally {
    await other.stop(); // stopped once: this waits for the stop above, or stops it after a failure
  }
});
