// The Slack emulator through the real @slack/web-api client.
import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { WebClient, ErrorCode, type WebAPIPlatformError, type WebAPIHTTPError } from '@slack/web-api';
import { SLACK_EMULATOR_DEFAULTS, startSlackEmulator, type SlackEmulator } from '../../../emulators/slack/index';

/** The Slack emulator's seeded review channel. */
const CHANNEL = SLACK_EMULATOR_DEFAULTS.channelId;

let emu: SlackEmulator;
let slack: WebClient;
const quiet = {
  debug() {},
  info() {},
  warn() {},
  error() {},
  setLevel() {},
  getLevel: () => 'error' as never,
  setName() {},
};

function client(token?: string, retries = 0): WebClient {
  return new WebClient(token, {
    slackApiUrl: emu.apiUrl,
    logger: quiet,
    retryConfig: { retries, factor: 1, minTimeout: 10, maxTimeout: 20 },
  });
}

async function platformError(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    const err = e as WebAPIPlatformError;
    assert.equal(err.code, ErrorCode.PlatformError);
    return err.data.error;
  }
  assert.fail('expected a Slack platform error');
}

before(async () => {
  emu = await startSlackEmulator({ port: 0 });
  slack = client(emu.botToken);
});
after(() => emu.stop());
beforeEach(() => emu.admin.reset());

describe('auth', () => {
  test('auth.test names the bot user and team', async () => {
    const r = await slack.auth.test();
    assert.equal(r.ok, true);
    assert.equal(r.user_id, 'U0GATEBOT');
    assert.equal(r.team_id, 'T0GATE');
    assert.equal(r.bot_id, 'B0GATEBOT');
  });

  test('no token -> not_authed; wrong token -> invalid_auth', async () => {
    assert.equal(await platformError(client().auth.test()), 'not_authed');
    assert.equal(
      await platformError(client('xoxb-wrong').chat.postMessage({ channel: CHANNEL, text: 'x' })),
      'invalid_auth',
    );
    assert.equal((await emu.admin.messages()).length, 0);
  });

  test('a JSON body with the token in the Authorization header works too', async () => {
    const res = await fetch(`${emu.apiUrl}chat.postMessage`, {
      method: 'POST',
      headers: { 'content-type': 'application/json; charset=utf-8', authorization: `Bearer ${emu.botToken}` },
      body: JSON.stringify({
        channel: CHANNEL,
        text: 'json',
        blocks: [{ type: 'section', text: { type: 'mrkdwn', text: 'hi' } }],
      }),
    });
    const body = (await res.json()) as { ok: boolean; ts: string; message: { blocks: unknown[] } };
    assert.equal(body.ok, true);
    assert.equal(body.message.blocks.length, 1);
  });
});

describe('chat', () => {
  const blocks = [
    { type: 'section', text: { type: 'mrkdwn', text: '*Held*' } },
    {
      type: 'actions',
      block_id: 'gate',
      elements: [
        { type: 'button', action_id: 'gate_release', text: { type: 'plain_text', text: 'Release' }, value: 'in_1' },
      ],
    },
  ];

  test('postMessage stores text and blocks and returns an increasing ts', async () => {
    const a = await slack.chat.postMessage({ channel: CHANNEL, text: 'first', blocks });
    const b = await slack.chat.postMessage({ channel: '#billing-review', text: 'second' });
    assert.match(a.ts!, /^\d{10}\.\d{6}$/);
    assert.ok(b.ts! > a.ts!);
    assert.equal(a.channel, CHANNEL);
    assert.equal(b.channel, CHANNEL, 'a channel name resolves to its id');
    assert.equal(a.message?.bot_id, 'B0GATEBOT');
    const stored = await emu.admin.messages(CHANNEL);
    assert.deepEqual(
      stored.map((m) => m.text),
      ['first', 'second'],
    );
    assert.equal(stored[0].blocks?.[1].block_id, 'gate');
    assert.equal(typeof stored[0].blocks?.[0].block_id, 'string', 'Slack fills in missing block_ids');
  });

  test('thread replies are kept under their parent', async () => {
    const parent = await slack.chat.postMessage({ channel: CHANNEL, text: 'alert' });
    const reply = await slack.chat.postMessage({ channel: CHANNEL, text: 'reminder', thread_ts: parent.ts! });
    assert.equal(reply.message?.thread_ts, parent.ts);
    const replies = await emu.admin.replies(CHANNEL, parent.ts!);
    assert.deepEqual(
      replies.map((m) => m.text),
      ['reminder'],
    );
    assert.equal((await emu.admin.message(CHANNEL, parent.ts!)).replyCount, 1);
    assert.equal(
      await platformError(slack.chat.postMessage({ channel: CHANNEL, text: 'x', thread_ts: '1.000001' })),
      'thread_not_found',
    );
  });

  test('postMessage errors: channel_not_found, no_text, invalid_blocks, not_in_channel', async () => {
    assert.equal(await platformError(slack.chat.postMessage({ channel: 'C0NOPE', text: 'x' })), 'channel_not_found');
    assert.equal(await platformError(slack.chat.postMessage({ channel: CHANNEL, text: '' })), 'no_text');
    assert.equal(
      await platformError(
        slack.chat.postMessage({ channel: CHANNEL, text: 'x', blocks: [{ text: 'no type' } as never] }),
      ),
      'invalid_blocks',
    );
    await emu.admin.addChannel({ id: 'C0OTHER', name: 'other', members: ['U0ALICE'] });
    assert.equal(await platformError(slack.chat.postMessage({ channel: 'C0OTHER', text: 'x' })), 'not_in_channel');
  });

  test('update replaces text and blocks and keeps the edit history', async () => {
    const posted = await slack.chat.postMessage({ channel: CHANNEL, text: 'held', blocks });
    const updated = await slack.chat.update({
      channel: CHANNEL,
      ts: posted.ts!,
      text: 'released',
      blocks: [{ type: 'section', text: { type: 'mrkdwn', text: 'done' } }],
    });
    assert.equal(updated.ts, posted.ts);
    assert.equal(updated.text, 'released');
    const m = await emu.admin.message(CHANNEL, posted.ts!);
    assert.equal(m.text, 'released');
    assert.equal(m.blocks?.length, 1);
    assert.equal(m.edits.length, 1);
    assert.equal(m.edits[0].previousText, 'held');
    assert.equal(m.edits[0].via, 'chat.update');
    assert.equal(
      await platformError(slack.chat.update({ channel: CHANNEL, ts: '1700000000.000001', text: 'x' })),
      'message_not_found',
    );
    assert.equal(
      await platformError(slack.chat.update({ channel: 'C0NOPE', ts: posted.ts!, text: 'x' })),
      'channel_not_found',
    );
  });

  test('postEphemeral is recorded for one user; unknown users are refused', async () => {
    const r = await slack.chat.postEphemeral({ channel: CHANNEL, user: 'U0BOB', text: 'not allowed' });
    assert.match(r.message_ts!, /^\d{10}\.\d{6}$/);
    const eph = await emu.admin.ephemerals({ user: 'U0BOB' });
    assert.equal(eph.length, 1);
    assert.equal(eph[0].text, 'not allowed');
    assert.equal((await emu.admin.messages()).length, 0, 'ephemerals are not channel messages');
    assert.equal(
      await platformError(slack.chat.postEphemeral({ channel: CHANNEL, user: 'U0NOBODY', text: 'x' })),
      'user_not_found',
    );
    await emu.admin.addUser({ id: 'U0ERIN', name: 'erin', channels: [] });
    assert.equal(
      await platformError(slack.chat.postEphemeral({ channel: CHANNEL, user: 'U0ERIN', text: 'x' })),
      'user_not_in_channel',
    );
  });
});

describe('users and conversations', () => {
  test('users.info for seeded and added users; user_not_found otherwise', async () => {
    const alice = await slack.users.info({ user: 'U0ALICE' });
    assert.equal(alice.user?.name, 'alice');
    assert.equal(alice.user?.team_id, 'T0GATE');
    // A third person, so a test can have two reviewers and an approver.
    assert.equal((await slack.users.info({ user: 'U0CAROL' })).user?.name, 'carol');
    const members = (await emu.admin.channels()).find((c) => c.id === CHANNEL)?.members;
    assert.deepEqual(members, ['U0ALICE', 'U0BOB', 'U0CAROL', 'U0GATEBOT']);
    await emu.admin.addUser({ id: 'U0DAVE', name: 'dave', realName: 'Dave D' });
    assert.equal((await slack.users.info({ user: 'U0DAVE' })).user?.real_name, 'Dave D');
    assert.equal(await platformError(slack.users.info({ user: 'U0NOPE' })), 'user_not_found');
  });

  test('conversations.info; channel_not_found otherwise', async () => {
    const c = await slack.conversations.info({ channel: CHANNEL });
    assert.equal(c.channel?.name, 'billing-review');
    assert.equal(c.channel?.is_member, true);
    assert.equal(await platformError(slack.conversations.info({ channel: 'C0NOPE' })), 'channel_not_found');
  });
});

describe('faults and rate limits', () => {
  test('429 with Retry-After is retried by the client after the wait', async () => {
    await emu.admin.setFaults({ methods: ['chat.postMessage'], count: 1, error: 'ratelimited', retryAfter: 1 });
    const started = Date.now();
    const r = await client(emu.botToken, 2).chat.postMessage({ channel: CHANNEL, text: 'after the limit' });
    assert.equal(r.ok, true);
    assert.ok(Date.now() - started >= 950, 'waited for Retry-After');
    const log = (await emu.admin.requests()).filter((e) => e.apiMethod === 'chat.postMessage');
    assert.deepEqual(
      log.map((e) => e.status),
      [429, 200],
    );
    assert.equal((await emu.admin.messages()).length, 1);
  });

  test('rejectRateLimitedCalls surfaces the 429 with its retry-after', async () => {
    await emu.admin.setRateLimit({ perWindow: 1, windowMs: 60_000, retryAfter: 30, methods: ['users.info'] });
    const c = new WebClient(emu.botToken, { slackApiUrl: emu.apiUrl, logger: quiet, rejectRateLimitedCalls: true });
    await c.users.info({ user: 'U0ALICE' });
    await assert.rejects(
      c.users.info({ user: 'U0ALICE' }),
      (e: { code: string; retryAfter: number }) => e.code === ErrorCode.RateLimitedError && e.retryAfter === 30,
    );
  });

  test('the next N calls fail with a Slack error, then calls succeed', async () => {
    await emu.admin.setFaults({ count: 2, error: 'internal_error' });
    assert.equal(await platformError(slack.auth.test()), 'internal_error');
    assert.equal(await platformError(slack.chat.postMessage({ channel: CHANNEL, text: 'x' })), 'internal_error');
    assert.equal((await slack.auth.test()).ok, true);
  });

  test('HTTP 500 surfaces as an HTTP error and is retried by the client', async () => {
    await emu.admin.setFaults({ count: 1, status: 500 });
    await assert.rejects(
      client(emu.botToken, 0).auth.test(),
      (e: WebAPIHTTPError) => e.code === ErrorCode.HTTPError && e.statusCode === 500,
    );
    await emu.admin.setFaults({ count: 1, status: 503 });
    assert.equal((await client(emu.botToken, 2).auth.test()).ok, true);
  });

  test('a time window of failures ends by itself', async () => {
    await emu.admin.setFaults({ durationMs: 400, error: 'service_unavailable', methods: ['chat.postMessage'] });
    assert.equal(await platformError(slack.chat.postMessage({ channel: CHANNEL, text: 'x' })), 'service_unavailable');
    assert.equal((await slack.auth.test()).ok, true, 'other methods are unaffected');
    await new Promise((r) => setTimeout(r, 420));
    assert.equal((await slack.chat.postMessage({ channel: CHANNEL, text: 'x' })).ok, true);
  });

  test('clearFaults and reset', async () => {
    await emu.admin.setFaults({ count: 5 });
    await emu.admin.clearFaults();
    assert.equal((await slack.auth.test()).ok, true);
    await slack.chat.postMessage({ channel: CHANNEL, text: 'x' });
    await emu.admin.reset();
    assert.equal((await emu.admin.messages()).length, 0);
    assert.equal((await emu.admin.requests()).length, 0);
  });
});
