// A burst beyond what the gate can hand to Temporal at once gets a fast 503 (Stripe retries), not a
// queue that grows until Stripe's sender times out; what was accepted still gets its 2xx.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import Fastify, { type FastifyInstance } from 'fastify';
import Stripe from 'stripe';
import type { GateLauncher } from '../../src/client/gate-client';
import { stripeWebhook, type StripeEventRecord, type StripeWebhookOptions } from '../../src/webhook/stripe-webhook';

const secret = 'whsec_test_secret';
const stripe = new Stripe('sk_test_unused');
const invoiceCreated = (invoiceId: string) =>
  JSON.stringify({
    id: `evt_${invoiceId}`,
    object: 'event',
    type: 'invoice.created',
    created: 1,
    data: { object: { id: invoiceId, object: 'invoice', status: 'draft', customer: 'cus_1' } },
  });

/** The webhook on its own, with a fake gate, its audit and metrics as arrays, and the bounds under test. */
async function webhookApp(
  gates: GateLauncher,
  record: (event: StripeEventRecord) => void,
  counted: string[],
  bounds: Pick<StripeWebhookOptions, 'maxInFlight' | 'temporalCallsAtOnce'>,
): Promise<FastifyInstance> {
  const app = Fastify();
  await app.register(stripeWebhook, {
    stripe,
    webhookSecret: secret,
    gates,
    recordEvent: async (event) => record(event),
    metrics: { webhookReceived: (type, result) => void counted.push(`${type} ${result}`) },
    ...bounds,
  });
  return app;
}

/** A signed invoice.created delivery for `invoiceId`. */
function deliver(app: FastifyInstance, invoiceId: string) {
  const payload = invoiceCreated(invoiceId);
  return app.inject({
    method: 'POST',
    url: '/webhooks/stripe',
    payload,
    headers: {
      'content-type': 'application/json',
      'stripe-signature': stripe.webhooks.generateTestHeaderString({ payload, secret }),
    },
  });
}

describe('POST /webhooks/stripe beyond its in-flight bound', () => {
  let app: FastifyInstance;
  const recorded: StripeEventRecord[] = [];
  const counted: string[] = [];
  const started: string[] = [];
  let releaseStarts: () => void = () => undefined;
  const startsHeld = new Promise<void>((resolve) => (releaseStarts = resolve));
  before(async () => {
    const gates: GateLauncher = {
      startGate: async (invoice) => {
        started.push(invoice.id);
        await startsHeld; // Temporal is slow: every start waits
        return 'started';
      },
      signalInvoiceEvent: async () => 'signalled',
    };
    app = await webhookApp(gates, (event) => recorded.push(event), counted, { maxInFlight: 3 });
  });
  after(async () => {
    releaseStarts();
    await app.close();
  });

  test('the 4th concurrent event gets 503 at once; the 3 in flight get 200 once Temporal accepts them', async () => {
    const post = (invoiceId: string) => deliver(app, invoiceId);
    const inFlight = ['in_a', 'in_b', 'in_c'].map(post);
    while (started.length < 3) await new Promise((resolve) => setImmediate(resolve));

    const overloaded = await post('in_d');
    assert.equal(overloaded.statusCode, 503);
    assert.equal(overloaded.json().error, 'overloaded');
    assert.equal(overloaded.headers['retry-after'], '1');
    assert.deepEqual(started, ['in_a', 'in_b', 'in_c'], 'the 4th was not handed to the gate');
    assert.equal(recorded.length, 0);

    releaseStarts();
    assert.deepEqual(
      (await Promise.all(inFlight)).map((r) => r.statusCode),
      [200, 200, 200],
    );
    // The bound is free again: Stripe's retry of the 4th is accepted.
    assert.equal((await post('in_d')).statusCode, 200);
    assert.deepEqual(
      recorded.map((r) => r.invoiceId),
      ['in_a', 'in_b', 'in_c', 'in_d'],
    );
    assert.deepEqual(counted.sort(), [
      'invoice.created overloaded',
      'invoice.created started',
      'invoice.created started',
      'invoice.created started',
      'invoice.created started',
    ]);
  });
});

describe('POST /webhooks/stripe with more events than Temporal calls at once', () => {
  let app: FastifyInstance;
  const recorded: string[] = [];
  const counted: string[] = [];
  const started: string[] = [];
  let outstanding = 0;
  let mostOutstanding = 0;
  let releaseStarts: () => void = () => undefined;
  let startsHeld = new Promise<void>((resolve) => (releaseStarts = resolve));
  before(async () => {
    const gates: GateLauncher = {
      startGate: async (invoice) => {
        started.push(invoice.id);
        outstanding += 1;
        mostOutstanding = Math.max(mostOutstanding, outstanding);
        await startsHeld;
        outstanding -= 1;
        return 'started';
      },
      signalInvoiceEvent: async () => 'signalled',
    };
    app = await webhookApp(gates, (event) => recorded.push(event.invoiceId ?? ''), counted, { temporalCallsAtOnce: 2 });
  });
  after(async () => {
    releaseStarts();
    await app.close();
  });
  const post = (invoiceId: string) => deliver(app, invoiceId);

  test('the others wait their turn in arrival order and are all accepted', async () => {
    const answers = Promise.all(['in_1', 'in_2', 'in_3', 'in_4', 'in_5'].map(post));
    while (started.length < 2) await new Promise((resolve) => setImmediate(resolve));
    await new Promise((resolve) => setTimeout(resolve, 20));
    assert.deepEqual(started, ['in_1', 'in_2'], 'only two calls reach Temporal at once');

    releaseStarts();
    assert.deepEqual(
      (await answers).map((r) => r.statusCode),
      [200, 200, 200, 200, 200],
    );
    assert.deepEqual(started, ['in_1', 'in_2', 'in_3', 'in_4', 'in_5']);
    assert.equal(mostOutstanding, 2);
    assert.deepEqual(recorded.sort(), ['in_1', 'in_2', 'in_3', 'in_4', 'in_5']);
  });

  test('an event that cannot get a turn within a second gets 503 overloaded, and nothing is recorded for it', async () => {
    startsHeld = new Promise<void>((resolve) => (releaseStarts = resolve));
    started.length = 0;
    recorded.length = 0;
    counted.length = 0;
    const held = ['in_6', 'in_7'].map(post);
    while (started.length < 2) await new Promise((resolve) => setImmediate(resolve));

    const waited = await post('in_8');
    assert.equal(waited.statusCode, 503);
    assert.equal(waited.json().error, 'overloaded');
    assert.equal(waited.headers['retry-after'], '1');
    assert.deepEqual(started, ['in_6', 'in_7'], 'the event that waited too long never reached Temporal');

    releaseStarts();
    assert.deepEqual(
      (await Promise.all(held)).map((r) => r.statusCode),
      [200, 200],
    );
    assert.deepEqual(recorded.sort(), ['in_6', 'in_7']);
    assert.deepEqual(counted.sort(), [
      'invoice.created overloaded',
      'invoice.created started',
      'invoice.created started',
    ]);
  });
});
