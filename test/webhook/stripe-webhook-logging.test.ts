// One log line per webhook, with what the gate made of it (Fastify's own two request lines are off for
// this route: they cost a sixth of its CPU at month end), and nothing of the request lost: a request
// Fastify refuses before the handler is logged too. Other routes keep Fastify's request logging.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import Fastify from 'fastify';
import Stripe from 'stripe';
import { stripeWebhook } from '../../src/webhook/stripe-webhook';
import { createLogger } from '../../src/observability/logger';
import { fastifyOptions } from '../../src/server';

const secret = 'whsec_logging_test';
const stripe = new Stripe('sk_test_unused');
const lines: Array<Record<string, unknown>> = [];
let app: Awaited<ReturnType<typeof buildApp>>;

async function buildApp() {
  const sink = new Writable({
    write(chunk, _enc, cb) {
      for (const line of chunk.toString().split('\n')) if (line.trim()) lines.push(JSON.parse(line));
      cb();
    },
  });
  const app = Fastify(fastifyOptions(createLogger({ level: 'info' }, sink)));
  await app.register(stripeWebhook, {
    stripe,
    webhookSecret: secret,
    gates: { startGate: async () => 'started', signalInvoiceEvent: async () => 'signalled' },
    recordEvent: async () => undefined,
    bodyLimit: 10_000,
  });
  app.get('/other', async () => 'ok');
  return app;
}

before(async () => {
  app = await buildApp();
});
after(() => app.close());

function post(payload: string, signature = stripe.webhooks.generateTestHeaderString({ payload, secret })) {
  return app.inject({
    method: 'POST',
    url: '/webhooks/stripe',
    payload,
    headers: { 'content-type': 'application/json', 'stripe-signature': signature },
  });
}

test('an accepted webhook is one info line with the event, the invoice, the result and the time taken', async () => {
  lines.length = 0;
  const payload = JSON.stringify({
    id: 'evt_log1',
    object: 'event',
    type: 'invoice.created',
    created: 1,
    data: { object: { id: 'in_log1', object: 'invoice', status: 'draft', customer: 'cus_1' } },
  });
  assert.equal((await post(payload)).statusCode, 200);
  assert.equal(lines.length, 1, JSON.stringify(lines));
  const [line] = lines;
  assert.equal(line.level, 'info');
  assert.equal(line.msg, 'stripe webhook answered');
  assert.equal(line.stripeEventId, 'evt_log1');
  assert.equal(line.invoiceId, 'in_log1');
  assert.equal(line.eventType, 'invoice.created');
  assert.equal(line.result, 'started');
  assert.equal(line.statusCode, 200);
  assert.equal(typeof line.responseTime, 'number');
  assert.ok(!JSON.stringify(line).includes('v1='), 'the signature is not logged');
});

test('a rejected webhook is one warn line that says why', async () => {
  lines.length = 0;
  assert.equal((await post('{"id":"evt_x"}', 't=1,v1=forged')).statusCode, 400);
  assert.deepEqual(
    lines.map((l) => [l.level, l.msg, l.result, l.reason, l.statusCode]),
    [['warn', 'stripe webhook answered', 'rejected', 'invalid_signature', 400]],
  );
});

test('a body Fastify refuses before the handler (too large) is still logged, once', async () => {
  lines.length = 0;
  assert.equal((await post(JSON.stringify({ filler: 'x'.repeat(20_000) }))).statusCode, 413);
  assert.deepEqual(
    lines.map((l) => [l.level, l.msg, l.statusCode]),
    [['warn', 'stripe webhook refused before verification', 413]],
  );
});

test("other routes, and other methods on the webhook's path, keep Fastify's request logging", async () => {
  lines.length = 0;
  await app.inject('/other');
  assert.deepEqual(
    lines.map((l) => l.msg),
    ['incoming request', 'request completed'],
  );
  lines.length = 0;
  assert.equal((await app.inject('/webhooks/stripe')).statusCode, 404);
  assert.ok(
    lines.some((l) => l.msg === 'request completed' && (l.res as { statusCode: number }).statusCode === 404),
    JSON.stringify(lines),
  );
});
