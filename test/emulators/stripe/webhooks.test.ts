// Webhook delivery: Stripe's signature scheme, enabled_events, retries with backoff,
// duplicates, out-of-order delivery and redelivery.
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import type Stripe from 'stripe';
import type { StripeEmulator } from '../../../emulators/stripe/index';
import { eventTypes, startAll, startReceiver, type Receiver } from './helpers';

let emulator: StripeEmulator;
let stripe: Stripe;
let receiver: Receiver;

before(async () => {
  ({ emulator, stripe } = await startAll());
});
beforeEach(async () => {
  await emulator.admin.reset();
  receiver = await startReceiver();
});
// Here, not at the end of each test: a failed assertion skips the rest of its test, and a receiver
// left listening keeps the test process alive forever.
afterEach(async () => {
  await receiver?.close();
});
after(async () => {
  await emulator?.stop();
});

/** A draft invoice with one line, ready to be finalized and paid (three events). */
async function draftInvoice(): Promise<Stripe.Invoice> {
  const customer = await stripe.customers.create({ name: 'Hooks' });
  const invoice = await stripe.invoices.create({ customer: customer.id });
  await stripe.invoiceItems.create({ customer: customer.id, invoice: invoice.id, amount: 1234, currency: 'usd' });
  return invoice;
}

describe('webhook endpoints and delivery', () => {
  it('creates, lists, updates and deletes endpoints; the secret is only returned on create', async () => {
    const ep = await stripe.webhookEndpoints.create({
      url: receiver.url,
      enabled_events: ['invoice.finalized'],
      description: 'gate',
    });
    assert.match(ep.secret!, /^whsec_/);
    assert.equal(ep.status, 'enabled');
    const fetched = await stripe.webhookEndpoints.retrieve(ep.id);
    assert.equal(fetched.secret, undefined);
    assert.deepEqual(fetched.enabled_events, ['invoice.finalized']);
    const updated = await stripe.webhookEndpoints.update(ep.id, {
      enabled_events: ['invoice.created', 'invoice.finalized'],
    });
    assert.deepEqual(updated.enabled_events, ['invoice.created', 'invoice.finalized']);
    const list = await stripe.webhookEndpoints.list();
    assert.deepEqual(
      list.data.map((e) => e.id),
      [ep.id],
    );
    const del = await stripe.webhookEndpoints.del(ep.id);
    assert.equal(del.deleted, true);
    assert.equal((await stripe.webhookEndpoints.list()).data.length, 0);
  });

  it('signs every delivery as Stripe does and respects enabled_events', async () => {
    const ep = await stripe.webhookEndpoints.create({
      url: receiver.url,
      enabled_events: ['invoice.finalized', 'invoice.paid'],
    });
    const invoice = await draftInvoice();
    await stripe.invoices.finalizeInvoice(invoice.id, {}, { idempotencyKey: 'fin-1' });
    await stripe.invoices.pay(invoice.id);
    await emulator.admin.waitForIdle();
    assert.deepEqual(eventTypes(receiver.received).sort(), ['invoice.finalized', 'invoice.paid']);
    for (const r of receiver.received) {
      const header = r.headers['stripe-signature'] as string;
      assert.match(header, /^t=\d+,v1=[0-9a-f]{64}$/);
      const event = stripe.webhooks.constructEvent(r.body, header, ep.secret!);
      assert.equal(event.object, 'event');
      assert.match(event.id, /^evt_/);
      assert.equal(event.livemode, false);
      assert.equal((event.data.object as Stripe.Invoice).id, invoice.id);
      // A tampered body fails verification.
      assert.throws(() => stripe.webhooks.constructEvent(r.body.replace(invoice.id, 'in_other'), header, ep.secret!));
    }
    const finalized = receiver.received
      .map((r) => JSON.parse(r.body) as Stripe.Event)
      .find((e) => e.type === 'invoice.finalized')!;
    assert.equal(finalized.request?.idempotency_key, 'fin-1');
    assert.match(finalized.request?.id ?? '', /^req_/);
    // As at Stripe, previous_attributes is only part of *.updated events.
    assert.equal('previous_attributes' in finalized.data, false);
    // The same events are listed by the API.
    const listed = await stripe.events.list({ type: 'invoice.finalized' });
    assert.equal(listed.data[0].id, finalized.id);
    const one = await stripe.events.retrieve(finalized.id);
    assert.equal(one.type, 'invoice.finalized');
  });

  it('retries non-2xx and unreachable endpoints with exponential backoff', async () => {
    await emulator.admin.setWebhookSettings({ retryBaseMs: 20, maxAttempts: 4 });
    let calls = 0;
    receiver.respond = () => (++calls <= 2 ? 503 : 200);
    await stripe.webhookEndpoints.create({ url: receiver.url, enabled_events: ['invoice.finalized'] });
    const dead = await stripe.webhookEndpoints.create({
      url: 'http://127.0.0.1:9/unreachable',
      enabled_events: ['invoice.finalized'],
    });
    const invoice = await draftInvoice();
    await stripe.invoices.finalizeInvoice(invoice.id);
    assert.equal(await emulator.admin.waitForIdle(), true);
    assert.equal(receiver.received.length, 3);
    const gaps = [receiver.received[1].at - receiver.received[0].at, receiver.received[2].at - receiver.received[1].at];
    assert.ok(gaps[0] >= 15, `first retry after ~20 ms, was ${gaps[0]}`);
    assert.ok(gaps[1] >= 35, `second retry after ~40 ms, was ${gaps[1]}`);
    const deliveries = await emulator.admin.deliveries({ eventType: 'invoice.finalized' });
    const ok = deliveries.find((d) => d.endpoint_id !== dead.id)!;
    assert.equal(ok.status, 'succeeded');
    assert.deepEqual(
      ok.attempts.map((a) => a.status),
      [503, 503, 200],
    );
    const failed = deliveries.find((d) => d.endpoint_id === dead.id)!;
    assert.equal(failed.status, 'failed');
    assert.equal(failed.attempts.length, 4);
    assert.equal(failed.attempts[0].status, null);
    assert.ok(failed.attempts[0].error);
    const event = await stripe.events.retrieve(ok.event_id);
    assert.equal(event.pending_webhooks, 1); // the dead endpoint never succeeded
  });

  it('delivers duplicates concurrently when asked', async () => {
    await emulator.admin.setWebhookSettings({ duplicates: 3 });
    await stripe.webhookEndpoints.create({ url: receiver.url, enabled_events: ['invoice.finalized'] });
    const invoice = await draftInvoice();
    await stripe.invoices.finalizeInvoice(invoice.id);
    await emulator.admin.waitForIdle();
    assert.equal(receiver.received.length, 3);
    const ids = new Set(receiver.received.map((r) => (JSON.parse(r.body) as Stripe.Event).id));
    assert.equal(ids.size, 1, 'the same event id three times');
  });

  it('delivers out of order (reverse, shuffle) when asked', async () => {
    // Held until all four are emitted, then released reversed: a batch window could close between
    // two of these requests when the machine is slow, and send invoice.created first.
    await emulator.admin.setWebhookSettings({ hold: true });
    await stripe.webhookEndpoints.create({ url: receiver.url, enabled_events: ['*'] });
    const invoice = await draftInvoice();
    await stripe.invoices.finalizeInvoice(invoice.id);
    await stripe.invoices.pay(invoice.id);
    await emulator.admin.setWebhookSettings({ hold: false, order: 'reverse' });
    assert.equal(await emulator.admin.waitForIdle(), true);
    assert.deepEqual(eventTypes(receiver.received), [
      'invoice.payment_succeeded',
      'invoice.paid',
      'invoice.finalized',
      'invoice.created',
    ]);

    receiver.received.length = 0;
    await emulator.admin.setWebhookSettings({ hold: true, order: 'shuffle' });
    const second = await draftInvoice();
    await stripe.invoices.finalizeInvoice(second.id);
    await stripe.invoices.pay(second.id);
    await emulator.admin.setWebhookSettings({ hold: false });
    assert.equal(await emulator.admin.waitForIdle(), true);
    assert.deepEqual(eventTypes(receiver.received).sort(), [
      'invoice.created',
      'invoice.finalized',
      'invoice.paid',
      'invoice.payment_succeeded',
    ]);
  });

  it('collects the events of one request in the batch window', async () => {
    // Paying emits invoice.paid, then invoice.payment_succeeded, in one request: both are in the
    // window before its timer can fire, however slow the machine.
    await stripe.webhookEndpoints.create({
      url: receiver.url,
      enabled_events: ['invoice.paid', 'invoice.payment_succeeded'],
    });
    const invoice = await draftInvoice();
    await stripe.invoices.finalizeInvoice(invoice.id);
    await emulator.admin.setWebhookSettings({ order: 'reverse', batchWindowMs: 50 });
    await stripe.invoices.pay(invoice.id);
    assert.equal(await emulator.admin.waitForIdle(), true);
    assert.deepEqual(eventTypes(receiver.received), ['invoice.payment_succeeded', 'invoice.paid']);
    // Deliveries are listed as created, in emission order: the reverse of what was sent.
    assert.deepEqual(
      (await emulator.admin.deliveries()).map((d) => d.event_type),
      ['invoice.paid', 'invoice.payment_succeeded'],
    );
  });

  it('stopping the emulator aborts a delivery still waiting for its answer', { timeout: 30_000 }, async () => {
    // A receiver that never answers: without the abort, the emulator's socket to it would stay
    // open (and keep the process alive) until the delivery's own 10-minute timeout.
    const waiting: IncomingMessage[] = [];
    const silent = createServer((req) => waiting.push(req));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', () => resolve()));
    const own = await startAll();
    try {
      await own.emulator.admin.setWebhookSettings({ timeoutMs: 600_000 });
      const url = `http://127.0.0.1:${(silent.address() as AddressInfo).port}/webhooks/stripe`;
      await own.stripe.webhookEndpoints.create({ url, enabled_events: ['invoice.created'] });
      const customer = await own.stripe.customers.create({ name: 'Silent' });
      await own.stripe.invoices.create({ customer: customer.id });
      while (waiting.length === 0) await new Promise((r) => setTimeout(r, 10));
      const aborted = new Promise((resolve) => waiting[0].socket.once('close', resolve));
      await own.emulator.stop();
      await aborted;
    } finally {
      await own.emulator.stop();
      silent.closeAllConnections();
      await new Promise((resolve) => silent.close(resolve));
    }
  });

  it('redelivers an event on request', async () => {
    const ep = await stripe.webhookEndpoints.create({ url: receiver.url, enabled_events: ['invoice.created'] });
    await draftInvoice();
    await emulator.admin.waitForIdle();
    assert.equal(receiver.received.length, 1);
    const event = JSON.parse(receiver.received[0].body) as Stripe.Event;
    const deliveries = await emulator.admin.redeliver(event.id);
    assert.equal(deliveries.length, 1);
    await emulator.admin.waitForIdle();
    assert.equal(receiver.received.length, 2);
    const again = stripe.webhooks.constructEvent(
      receiver.received[1].body,
      receiver.received[1].headers['stripe-signature'] as string,
      ep.secret!,
    );
    assert.equal(again.id, event.id);
  });
});
