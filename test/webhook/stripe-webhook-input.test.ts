// What the webhook accepts, refuses and hands to the gate, with a recording gate launcher: hostile
// invoice ids are refused with a reason and start nothing, an event of the other Stripe mode is
// acknowledged and ignored, and later events carry what the gate needs to follow the invoice.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import Fastify, { type FastifyInstance } from 'fastify';
import Stripe from 'stripe';
import type { StripeInvoiceEvent } from '../../src/gate/types';
import type { GateLauncher } from '../../src/client/gate-client';
import { stripeWebhook, type StripeEventRecord } from '../../src/webhook/stripe-webhook';
import { stripeKeyIsLive } from '../../src/server';

const secret = 'whsec_input_secret';
const stripe = new Stripe('sk_test_unused');

interface Event {
  id: string;
  type: string;
  livemode?: boolean;
  object: Record<string, unknown>;
  previous?: Record<string, unknown>;
  /** Stripe's `request` (the API call that caused the event); absent: Stripe on its own (null id). */
  request?: { id: string | null; idempotency_key: string | null } | string | null;
}

function body(event: Event): string {
  return JSON.stringify({
    id: event.id,
    object: 'event',
    type: event.type,
    created: 1_764_547_300,
    livemode: event.livemode ?? false,
    ...(event.request !== undefined ? { request: event.request } : {}),
    data: {
      object: { object: 'invoice', ...event.object },
      ...(event.previous ? { previous_attributes: event.previous } : {}),
    },
  });
}

describe('POST /webhooks/stripe: input', () => {
  let app: FastifyInstance;
  const starts: Array<Parameters<GateLauncher['startGate']>> = [];
  const signals: Array<[string, StripeInvoiceEvent]> = [];
  const recorded: StripeEventRecord[] = [];
  const counted: string[] = [];

  before(async () => {
    const gates: GateLauncher = {
      startGate: async (...args) => {
        starts.push(args);
        return 'started';
      },
      signalInvoiceEvent: async (invoiceId, event) => {
        signals.push([invoiceId, event]);
        return 'signalled';
      },
    };
    app = Fastify();
    await app.register(stripeWebhook, {
      stripe,
      webhookSecret: secret,
      livemode: false,
      gates,
      recordEvent: async (event) => void recorded.push(event),
      metrics: { webhookReceived: (type, result) => void counted.push(`${type} ${result}`) },
    });
  });
  after(async () => {
    await app.close();
  });

  async function post(event: Event) {
    const payload = body(event);
    const signature = stripe.webhooks.generateTestHeaderString({ payload, secret });
    return app.inject({
      method: 'POST',
      url: '/webhooks/stripe',
      payload,
      headers: { 'content-type': 'application/json', 'stripe-signature': signature },
    });
  }

  test('an invoice id that is not a Stripe id is refused with 400 and a reason; no gate', async () => {
    for (const id of [
      'in_../../admin',
      'in_',
      'inv_123',
      'in_abc def',
      `in_${'a'.repeat(256)}`,
      `in_${'x'.repeat(5000)}`,
    ]) {
      const response = await post({
        id: `evt_bad_${id.length}`,
        type: 'invoice.created',
        object: { id, status: 'draft', customer: 'cus_1' },
      });
      assert.equal(response.statusCode, 400, id.slice(0, 40));
      assert.equal(response.json().error, 'invalid_event');
      assert.match(response.json().message, /not a Stripe invoice id/);
    }
    assert.equal(starts.length, 0);
    assert.equal(recorded.length, 0);
    const longest = await post({
      id: 'evt_longest',
      type: 'invoice.created',
      object: { id: `in_${'a'.repeat(255)}`, status: 'draft', customer: 'cus_1' },
    });
    assert.equal(longest.statusCode, 200, 'the longest Stripe id is still a gate');
    starts.splice(0);
    recorded.splice(0);
  });

  test('a live event reaching a test deployment is acknowledged and ignored, never gated', async () => {
    counted.splice(0);
    const response = await post({
      id: 'evt_live',
      type: 'invoice.created',
      livemode: true,
      object: { id: 'in_live1', status: 'draft', customer: 'cus_1' },
    });
    assert.equal(response.statusCode, 200);
    assert.deepEqual(response.json(), { received: true, ignored: true });
    assert.equal(starts.length, 0);
    assert.deepEqual(counted, ['invoice.created ignored']);
  });

  test('invoice.created hands the gate what it needs to decide before Stripe finalizes', async () => {
    const response = await post({
      id: 'evt_created',
      type: 'invoice.created',
      object: {
        id: 'in_created1',
        status: 'draft',
        customer: 'cus_9',
        created: 1_764_547_200,
        automatically_finalizes_at: 1_764_550_800,
        currency: 'eur',
      },
    });
    assert.equal(response.statusCode, 200);
    const [[invoice, eventId]] = starts.splice(0);
    assert.equal(eventId, 'evt_created');
    assert.deepEqual(
      { ...invoice },
      {
        id: 'in_created1',
        status: 'draft',
        customerId: 'cus_9',
        createdAt: 1_764_547_200,
        automaticallyFinalizesAt: 1_764_550_800,
        currency: 'eur',
        livemode: false,
        attemptCount: null,
        changedFields: null,
        autoAdvance: null,
        request: { id: null, idempotencyKey: null },
      },
    );
  });

  test('later events carry their time, what changed, payment attempts, and the request that caused them', async () => {
    await post({
      id: 'evt_upd',
      type: 'invoice.updated',
      object: { id: 'in_f1', status: 'draft', auto_advance: true },
      previous: { amount_due: 100, lines: { data: [] } },
      request: { id: 'req_dashboard', idempotency_key: 'key-1' },
    });
    await post({
      id: 'evt_fail',
      type: 'invoice.payment_failed',
      object: { id: 'in_f1', status: 'open', attempt_count: 2 },
      request: 'req_legacy_string',
    });
    await post({ id: 'evt_del', type: 'invoice.deleted', object: { id: 'in_f1', status: 'draft' } });
    assert.deepEqual(signals.splice(0), [
      [
        'in_f1',
        {
          eventId: 'evt_upd',
          type: 'invoice.updated',
          invoiceStatus: 'draft',
          created: 1_764_547_300,
          changedFields: ['amount_due', 'lines'],
          autoAdvance: true,
          request: { id: 'req_dashboard', idempotencyKey: 'key-1' },
        },
      ],
      [
        'in_f1',
        {
          eventId: 'evt_fail',
          type: 'invoice.payment_failed',
          invoiceStatus: 'open',
          created: 1_764_547_300,
          attemptCount: 2,
          request: { id: 'req_legacy_string', idempotencyKey: null },
        },
      ],
      [
        'in_f1',
        {
          eventId: 'evt_del',
          type: 'invoice.deleted',
          invoiceStatus: 'deleted',
          created: 1_764_547_300,
          request: { id: null, idempotencyKey: null },
        },
      ],
    ]);
  });

  test('the key says the mode', () => {
    assert.equal(stripeKeyIsLive('sk_live_abc'), true);
    assert.equal(stripeKeyIsLive('rk_live_abc'), true);
    assert.equal(stripeKeyIsLive('sk_test_abc'), false);
    assert.equal(stripeKeyIsLive('sk_test_emulator'), false);
  });
});
