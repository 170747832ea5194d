// The Fastify Bolt receiver on its own: parsers stay encapsulated, Slack's special requests, the
// 3-second safety answer.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import Fastify, { type FastifyInstance } from 'fastify';
import type { AddressInfo } from 'node:net';
import { App } from '@slack/bolt';
import { signSlackRequest } from '../../../emulators/slack/index';
import { FastifyBoltReceiver } from '../../../src/http/slack/fastify-bolt-receiver';
import { toBoltLogger } from '../../../src/http/slack/bolt-logger';
import { MemoryLogger, startHarness, type Harness } from './harness';

let h: Harness;
before(async () => {
  h = await startHarness();
});
after(() => h.close());

function signed(body: string, contentType: string, secret = h.emu.signingSecret): RequestInit {
  const ts = Math.floor(Date.now() / 1000);
  return {
    method: 'POST',
    headers: {
      'content-type': contentType,
      'x-slack-request-timestamp': String(ts),
      'x-slack-signature': signSlackRequest(secret, ts, body),
    },
    body,
  };
}

test('other routes of the server keep Fastify JSON parsing', async () => {
  const res = await fetch(`${h.baseUrl}/echo`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: '{"a":1,"b":[2]}',
  });
  assert.equal(res.status, 200);
  assert.deepEqual(await res.json(), { received: { a: 1, b: [2] } });
  const form = await fetch(`${h.baseUrl}/echo`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: 'a=1',
  });
  assert.equal(form.status, 415, "the receiver's catch-all parser does not leak out of its plugin");
});

test('missing signature headers: 401', async () => {
  const res = await fetch(`${h.baseUrl}/slack/interactions`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: 'payload=%7B%7D',
  });
  assert.equal(res.status, 401);
});

test('a timestamp in the future is refused', async () => {
  const body = 'payload=%7B%7D';
  const ts = Math.floor(Date.now() / 1000) + 600;
  const res = await fetch(`${h.baseUrl}/slack/interactions`, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      'x-slack-request-timestamp': String(ts),
      'x-slack-signature': signSlackRequest(h.emu.signingSecret, ts, body),
    },
    body,
  });
  assert.equal(res.status, 401);
});

test('ssl_check answers 200 without a signature; url_verification returns the challenge', async () => {
  const ssl = await fetch(`${h.baseUrl}/slack/interactions`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: 'ssl_check=1&token=x',
  });
  assert.equal(ssl.status, 200);
  const body = JSON.stringify({ type: 'url_verification', challenge: 'c-123', token: 'x' });
  const res = await fetch(`${h.baseUrl}/slack/interactions`, signed(body, 'application/json'));
  assert.equal(res.status, 200);
  assert.deepEqual(await res.json(), { challenge: 'c-123' });
  const unsigned = await fetch(`${h.baseUrl}/slack/interactions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body,
  });
  assert.equal(unsigned.status, 401, 'url_verification must be signed');
});

test('a signed but malformed body: 400', async () => {
  const res = await fetch(
    `${h.baseUrl}/slack/interactions`,
    signed('payload=not-json', 'application/x-www-form-urlencoded'),
  );
  assert.equal(res.status, 400);
});

test('a listener that does not ack in time still gets Slack a 200 before 3 s, and keeps running', async () => {
  const logger = new MemoryLogger();
  const receiver = new FastifyBoltReceiver({ signingSecret: 's3cret', ackTimeoutMs: 200, logger });
  const app = new App({ receiver, authorize: async () => ({ botToken: 'xoxb-x' }), logger: toBoltLogger(logger) });
  let listenerDone = false;
  // The listener is held until the test has Slack's answer: the 200 can only come from the ack timeout.
  let releaseListener!: () => void;
  const listenerReleased = new Promise<void>((resolve) => (releaseListener = resolve));
  app.action('slow', async ({ ack }) => {
    await listenerReleased;
    listenerDone = true;
    await ack();
  });
  const server: FastifyInstance = Fastify();
  await server.register(receiver.plugin);
  await server.listen({ port: 0, host: '127.0.0.1' });
  try {
    const payload = {
      type: 'block_actions',
      user: { id: 'U1' },
      team: { id: 'T1' },
      actions: [{ action_id: 'slow', block_id: 'b', type: 'button', action_ts: '1.2' }],
      container: { type: 'message' },
    };
    const body = new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
    const started = Date.now();
    const res = await fetch(
      `http://127.0.0.1:${(server.server.address() as AddressInfo).port}/slack/interactions`,
      signed(body, 'application/x-www-form-urlencoded', 's3cret'),
    );
    const ms = Date.now() - started;
    assert.equal(res.status, 200);
    assert.ok(ms >= 150, `answered after ${ms} ms, before the 200 ms ack timeout`);
    assert.equal(listenerDone, false);
    releaseListener();
    await receiver.drain();
    assert.equal(listenerDone, true);
    assert.ok(logger.at('warn').some((e) => /not acknowledged in time/.test(String(e.msg))));
  } finally {
    await server.close();
  }
});

test('no listener for the action: 404 right away, logged', async () => {
  const payload = {
    type: 'block_actions',
    user: { id: 'U0ALICE' },
    team: { id: 'T0GATE' },
    actions: [{ action_id: 'something_else', block_id: 'b', type: 'button', action_ts: '1.2' }],
    container: { type: 'message' },
  };
  const body = new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
  const res = await fetch(`${h.baseUrl}/slack/interactions`, signed(body, 'application/x-www-form-urlencoded'));
  assert.equal(res.status, 404);
});
