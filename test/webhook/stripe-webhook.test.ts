import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Client, Connection } from '@temporalio/client';
import Fastify, { type FastifyInstance } from 'fastify';
import Stripe from 'stripe';
import { createGateClient } from '../../src/client/gate-client';
import { stripeWebhook, type StripeEventRecord } from '../../src/webhook/stripe-webhook';
import { startTemporalEmulator } from '../../emulators/temporal';

const secret = 'whsec_test_secret';
const stripe = new Stripe('sk_test_unused');
const sign = (payload: string) => stripe.webhooks.generateTestHeaderString({ payload, secret });
const invoiceCreated = (invoiceId: string) =>
  JSON.stringify({
    id: `evt_${invoiceId}`,
    object: 'event',
    type: 'invoice.created',
    created: 1,
    data: { object: { id: invoiceId, object: 'invoice', status: 'draft', customer: 'cus_1' } },
  });

describe('POST /webhooks/stripe when Temporal is down', () => {
  let app: FastifyInstance;
  let connection: Connection;
  const recorded: StripeEventRecord[] = [];
  const counted: string[] = [];
  before(async () => {
    const temporal = await startTemporalEmulator({ port: 0 });
    connection = await Connection.connect({ address: temporal.address });
    await temporal.stop();
    app = Fastify();
    await app.register(stripeWebhook, {
      stripe,
      webhookSecret: secret,
      gates: createGateClient(new Client({ connection }), 'invoice-gate'),
      recordEvent: async (event) => void recorded.push(event),
      metrics: { webhookReceived: (type, result) => void counted.push(`${type} ${result}`) },
    });
    // Another route keeps Fastify's own JSON parser.
    app.post('/echo', async (request) => request.body);
  });
  after(async () => {
    await app.close();
    await connection.close();
  });

  test('answers 503 so Stripe retries, and records nothing as accepted', async () => {
    const body = invoiceCreated('in_down');
    const response = await app.inject({
      method: 'POST',
      url: '/webhooks/stripe',
      payload: body,
      headers: { 'content-type': 'application/json', 'stripe-signature': sign(body) },
    });
    assert.equal(response.statusCode, 503);
    assert.equal(response.json().error, 'temporarily_unavailable');
    assert.equal(recorded.length, 0);
    assert.deepEqual(counted.splice(0), ['invoice.created unavailable']);
  });

  test('answers 400 to a missing or wrong signature, counted as rejected', async () => {
    const body = invoiceCreated('in_unsigned');
    const missing = await app.inject({
      method: 'POST',
      url: '/webhooks/stripe',
      payload: body,
      headers: { 'content-type': 'application/json' },
    });
    assert.equal(missing.statusCode, 400);
    assert.equal(missing.json().error, 'missing_signature');
    const forged = await app.inject({
      method: 'POST',
      url: '/webhooks/stripe',
      payload: body,
      headers: { 'content-type': 'application/json', 'stripe-signature': 't=1,v1=forged' },
    });
    assert.equal(forged.statusCode, 400);
    assert.equal(forged.json().error, 'invalid_signature');
    assert.deepEqual(counted.splice(0), ['unknown rejected', 'unknown rejected']);
  });

  test('rejects a body over the limit', async () => {
    const body = JSON.stringify({ padding: 'x'.repeat(2 * 1024 * 1024) });
    const response = await app.inject({
      method: 'POST',
      url: '/webhooks/stripe',
      payload: body,
      headers: { 'content-type': 'application/json', 'stripe-signature': sign(body) },
    });
    assert.equal(response.statusCode, 413);
  });

  test('other routes still parse JSON', async () => {
    const response = await app.inject({ method: 'POST', url: '/echo', payload: { a: 1 } });
    assert.deepEqual(response.json(), { a: 1 });
  });
});
