// Button clicks from the Slack emulator, checked with Bolt's own request verification.
import { after, before, beforeEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { isValidSlackRequest, verifySlackRequest } from '@slack/bolt';
import { WebClient } from '@slack/web-api';
import { SLACK_EMULATOR_DEFAULTS, startSlackEmulator, type SlackEmulator } from '../../../emulators/slack/index';

/** The Slack emulator's seeded review channel. */
const CHANNEL = SLACK_EMULATOR_DEFAULTS.channelId;

interface Received {
  headers: Record<string, string>;
  raw: string;
  payload: Record<string, any>;
}

let emu: SlackEmulator;
let app: Server;
let received: Received[] = [];
let answer: (r: Received) => { status: number; body: string; delayMs?: number } = () => ({ status: 200, body: '' });

before(async () => {
  app = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      const payload = JSON.parse(new URLSearchParams(raw).get('payload') ?? '{}') as Record<string, unknown>;
      const r: Received = { headers: req.headers as Record<string, string>, raw, payload };
      received.push(r);
      const a = answer(r);
      setTimeout(() => {
        res.writeHead(a.status);
        res.end(a.body);
      }, a.delayMs ?? 0);
    });
  });
  await new Promise<void>((r) => app.listen(0, '127.0.0.1', r));
  emu = await startSlackEmulator({
    port: 0,
    signingSecret: 'test-signing-secret',
    interactivityUrl: `http://127.0.0.1:${(app.address() as AddressInfo).port}/slack/interactions`,
  });
});
after(async () => {
  // Both, even when one fails; the app's keep-alive sockets too, or its close waits for them.
  try {
    await emu?.stop();
  } finally {
    app.closeAllConnections();
    await new Promise((r) => app.close(r));
  }
});
beforeEach(async () => {
  received = [];
  answer = () => ({ status: 200, body: '' });
  await emu.admin.reset();
});

async function postAlert(): Promise<string> {
  const slack = new WebClient(emu.botToken, { slackApiUrl: emu.apiUrl });
  const r = await slack.chat.postMessage({
    channel: CHANNEL,
    text: 'Invoice in_123 held',
    blocks: [
      { type: 'section', text: { type: 'mrkdwn', text: '*Invoice in_123 held*' } },
      {
        type: 'actions',
        block_id: 'gate_actions',
        elements: [
          {
            type: 'button',
            action_id: 'gate_release',
            style: 'primary',
            text: { type: 'plain_text', text: 'Release' },
            value: 'in_123',
          },
          { type: 'button', action_id: 'gate_recount', text: { type: 'plain_text', text: 'Recount' }, value: 'in_123' },
        ],
      },
    ],
  });
  return r.ts!;
}

function verifyOpts(r: Received) {
  return {
    signingSecret: 'test-signing-secret',
    body: r.raw,
    headers: {
      'x-slack-signature': r.headers['x-slack-signature'],
      'x-slack-request-timestamp': Number(r.headers['x-slack-request-timestamp']),
    },
  };
}

test('a click posts a block_actions payload that Bolt verifies', async () => {
  const ts = await postAlert();
  const report = await emu.admin.click({ channel: CHANNEL, ts, actionId: 'gate_release', userId: 'U0ALICE' });
  assert.equal(report.status, 200);
  assert.equal(report.acknowledgedInTime, true);
  assert.ok(report.ms >= 0);
  assert.equal(received.length, 1);
  const r = received[0];
  assert.equal(r.headers['content-type'], 'application/x-www-form-urlencoded');
  assert.ok(r.raw.startsWith('payload='));
  assert.doesNotThrow(() => verifySlackRequest(verifyOpts(r)));
  const p = r.payload;
  assert.equal(p.type, 'block_actions');
  assert.deepEqual(p.user, { id: 'U0ALICE', username: 'alice', name: 'alice', team_id: 'T0GATE' });
  assert.deepEqual(p.container, { type: 'message', message_ts: ts, channel_id: CHANNEL, is_ephemeral: false });
  assert.deepEqual(p.channel, { id: CHANNEL, name: 'billing-review' });
  assert.deepEqual(p.team, { id: 'T0GATE', domain: 'invoice-gate' });
  assert.equal(p.enterprise, null);
  assert.equal(p.is_enterprise_install, false);
  assert.equal(p.api_app_id, 'A0GATEAPP');
  assert.equal(typeof p.token, 'string');
  assert.equal(typeof p.trigger_id, 'string');
  assert.deepEqual(p.state, { values: {} });
  assert.equal(p.message.ts, ts);
  assert.equal(p.message.blocks.length, 2);
  assert.equal(p.actions.length, 1);
  const a = p.actions[0];
  assert.equal(a.action_id, 'gate_release');
  assert.equal(a.block_id, 'gate_actions');
  assert.equal(a.value, 'in_123');
  assert.equal(a.type, 'button');
  assert.equal(a.style, 'primary');
  assert.deepEqual(a.text, { type: 'plain_text', text: 'Release' });
  assert.match(a.action_ts, /^\d{10}\.\d{6}$/);
  assert.ok(p.response_url.startsWith(emu.url));
});

test('forged and stale signatures are rejected by Bolt', async () => {
  const ts = await postAlert();
  await emu.admin.click({ channel: CHANNEL, ts, actionId: 'gate_recount', signature: 'forged' });
  await emu.admin.click({ channel: CHANNEL, ts, actionId: 'gate_recount', signature: 'stale' });
  assert.equal(received.length, 2);
  assert.equal(isValidSlackRequest(verifyOpts(received[0])), false);
  assert.throws(() => verifySlackRequest(verifyOpts(received[0])), /signature mismatch/);
  assert.throws(() => verifySlackRequest(verifyOpts(received[1])), /stale/);
  assert.equal(received[1].payload.actions[0].action_id, 'gate_recount');
});

test('the report carries the app answer and time; a slow app is not acknowledged in time', async () => {
  const ts = await postAlert();
  answer = () => ({ status: 401, body: '{"error":"invalid signature"}' });
  const denied = await emu.admin.click({ channel: CHANNEL, ts, actionId: 'gate_release' });
  assert.equal(denied.status, 401);
  assert.equal(denied.body, '{"error":"invalid signature"}');
  assert.equal(denied.acknowledgedInTime, false);
  answer = () => ({ status: 200, body: '', delayMs: 120 });
  const slow = await emu.admin.click({ channel: CHANNEL, ts, actionId: 'gate_release' });
  assert.ok(slow.ms >= 100, `took ${slow.ms} ms`);
});

test('click errors: unknown message, action, user; no interactivity url', async () => {
  const ts = await postAlert();
  await assert.rejects(
    emu.admin.click({ channel: CHANNEL, ts: '1.000001', actionId: 'gate_release' }),
    /message_not_found/,
  );
  await assert.rejects(emu.admin.click({ channel: CHANNEL, ts, actionId: 'nope' }), /action_not_found/);
  await assert.rejects(
    emu.admin.click({ channel: CHANNEL, ts, actionId: 'gate_release', userId: 'U0NOPE' }),
    /user_not_found/,
  );
  await emu.admin.setInteractivityUrl(null);
  await assert.rejects(emu.admin.click({ channel: CHANNEL, ts, actionId: 'gate_release' }), /409/);
  assert.equal(received.length, 0);
  await emu.admin.setInteractivityUrl(`http://127.0.0.1:${(app.address() as AddressInfo).port}/slack/interactions`);
});

test('response_url: ephemeral, replace_original, in_channel, delete_original, use limit', async () => {
  const ts = await postAlert();
  const { responseUrl } = await emu.admin.click({ channel: CHANNEL, ts, actionId: 'gate_release', userId: 'U0BOB' });
  const post = (body: unknown) =>
    fetch(responseUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

  assert.equal((await post({ text: 'only you see this' })).status, 200);
  const eph = await emu.admin.ephemerals({ user: 'U0BOB' });
  assert.equal(eph.length, 1);
  assert.equal(eph[0].via, 'response_url');

  assert.equal((await post({ replace_original: true, text: 'replaced' })).status, 200);
  const m = await emu.admin.message(CHANNEL, ts);
  assert.equal(m.text, 'replaced');
  assert.equal(m.edits[0].via, 'response_url');

  assert.equal((await post({ response_type: 'in_channel', text: 'for everyone' })).status, 200);
  assert.equal((await emu.admin.messages(CHANNEL)).length, 2);

  assert.equal((await post({ delete_original: true })).status, 200);
  await assert.rejects(emu.admin.message(CHANNEL, ts), /404/);

  assert.equal((await post({ text: 'fifth use' })).status, 200);
  assert.equal((await post({ text: 'sixth use' })).status, 404, 'a response_url takes 5 uses');
  const effects = (await emu.admin.responses()).map((r) => r.effect);
  assert.deepEqual(effects, ['ephemeral', 'replaced', 'in_channel', 'deleted', 'ephemeral']);
});
