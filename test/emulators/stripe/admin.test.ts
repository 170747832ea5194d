// The admin API through its typed client: seed, clock, state inspection, request log, reset.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { StripeEmulatorAdmin } from '../../../emulators/stripe/index';
import { useEmulatorWithReceiver } from './helpers';

const suite = useEmulatorWithReceiver();

describe('admin API', () => {
  it('seeds a ready-to-bill setup with a webhook endpoint and inspects state', async () => {
    const admin = new StripeEmulatorAdmin(suite.emulator.url + '/');
    assert.deepEqual(await admin.health(), { ok: true });
    const seed = await admin.seed({
      customer: { email: 'seed@example.com' },
      meter: { event_name: 'messages', formula: 'count' },
      licensed_unit_amount: 900,
      webhook_url: suite.receiver.url,
      enabled_events: ['invoice.created', 'invoice.finalized'],
    });
    assert.equal(seed.customer.email, 'seed@example.com');
    assert.equal(seed.meter.default_aggregation.formula, 'count');
    assert.equal(seed.metered_price.recurring.meter, seed.meter.id);
    assert.equal(seed.licensed_price?.unit_amount, 900);
    assert.equal(seed.subscription.items.data.length, 2);
    assert.match(seed.webhook_endpoint!.secret, /^whsec_/);
    const endpoints = await admin.webhookEndpoints();
    assert.equal(endpoints[0].secret, seed.webhook_endpoint!.secret);

    const c0 = await admin.clock();
    assert.equal(c0.offset_seconds, 0);
    assert.ok(Math.abs(c0.now - Date.now() / 1000) < 5);
    assert.equal(c0.next_due_at, seed.subscription.items.data[0].current_period_end);

    for (let i = 0; i < 4; i++) {
      await suite.stripe.billing.meterEvents.create({
        event_name: 'messages',
        payload: { stripe_customer_id: seed.customer.id },
      });
    }
    assert.equal((await admin.meterEvents()).length, 4);
    const c1 = await admin.advanceClockTo(c0.next_due_at! + 5);
    assert.ok(c1.offset_seconds > 0);
    const invoices = await admin.invoices(seed.customer.id);
    assert.deepEqual(
      invoices.map((i) => i.billing_reason),
      ['subscription_cycle', 'subscription_create'],
    );
    const cycle = await admin.invoice(invoices[0].id);
    const metered = cycle.lines.data.find(
      (l: { pricing: { price_details: { price: string } } }) => l.pricing.price_details.price === seed.metered_price.id,
    );
    assert.equal(metered.quantity_decimal, '4');
    const created = await admin.events('invoice.created');
    assert.equal(created.length, 2);
    const deliveries = await admin.deliveries({ eventId: created[0].id });
    assert.equal(deliveries.length, 1);
    assert.equal(deliveries[0].status, 'succeeded');
    assert.equal(deliveries[0].attempts[0].status, 200);
    assert.equal((await admin.tick()).ran, 0);

    const log = await admin.requests('/v1/billing/meter_events');
    assert.equal(log.length, 4);
    assert.equal(log[0].method, 'POST');
    assert.equal(log[0].status, 200);
    await admin.clearRequests();
    assert.equal((await admin.requests()).length, 0);
    await assert.rejects(admin.advanceClock(-5), /non-negative/);

    const settings = await admin.setWebhookSettings({ duplicates: 2 });
    assert.equal(settings.duplicates, 2);
    assert.equal((await admin.webhookSettings()).duplicates, 2);

    await admin.reset();
    assert.equal((await admin.clock()).offset_seconds, 0);
    assert.equal((await admin.invoices()).length, 0);
    assert.equal((await admin.webhookSettings()).duplicates, 1);
    assert.equal((await suite.stripe.customers.list()).data.length, 0);
  });

  it('cancels subscriptions: no further invoices', async () => {
    await suite.emulator.admin.reset();
    const seed = await suite.emulator.admin.seed();
    const canceled = await suite.stripe.subscriptions.cancel(seed.subscription.id);
    assert.equal(canceled.status, 'canceled');
    assert.ok(canceled.canceled_at);
    await suite.emulator.admin.advanceClock(40 * 86400);
    const invoices = await suite.stripe.invoices.list({ customer: seed.customer.id });
    assert.equal(invoices.data.length, 1);
    assert.equal((await suite.stripe.subscriptions.list({ customer: seed.customer.id })).data.length, 0);
    assert.equal((await suite.stripe.subscriptions.list({ customer: seed.customer.id, status: 'all' })).data.length, 1);
  });
  it('seeds customers onto one shared plan (metered_price), and refuses a price that is not metered', async () => {
    const admin = new StripeEmulatorAdmin(suite.emulator.url + '/');
    const first = await admin.seed({ meter: { event_name: 'shared_plan_calls', formula: 'count' } });
    const second = await admin.seed({ metered_price: first.metered_price.id, customer: { name: 'Second' } });
    assert.notEqual(second.customer.id, first.customer.id);
    assert.equal(second.metered_price.id, first.metered_price.id);
    assert.equal(second.meter.id, first.meter.id);
    assert.equal(second.product.id, first.product.id);
    assert.equal(second.subscription.items.data[0].price.id, first.metered_price.id);
    const licensed = await admin.seed({ licensed_unit_amount: 500 });
    await assert.rejects(admin.seed({ metered_price: licensed.licensed_price!.id }), /metered_price must name/);
    await assert.rejects(admin.seed({ metered_price: 'price_missing' }), /metered_price must name/);
  });
});
