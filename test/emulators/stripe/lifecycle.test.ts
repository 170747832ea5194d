// Invoice lifecycle events and their delivery: finalized, paid, payment_succeeded, payment_failed
// (admin failPayment, attempt_count), voided, marked_uncollectible, deleted; holding deliveries
// and delivering chosen events in a chosen order, repeats included.
import assert from 'node:assert/strict';
import { beforeEach, describe, it } from 'node:test';
import type Stripe from 'stripe';
import { useEmulatorWithReceiver } from './helpers';

const suite = useEmulatorWithReceiver();

beforeEach(async () => {
  await suite.emulator.admin.reset();
  suite.receiver.received.length = 0;
});

function delivered(): Stripe.Event[] {
  return suite.receiver.received.map((r) => JSON.parse(r.body) as Stripe.Event);
}

/** Types of the delivered events about one invoice, in arrival order. */
function typesFor(invoiceId: string): string[] {
  return delivered()
    .filter((e) => (e.data.object as Stripe.Invoice).id === invoiceId)
    .map((e) => e.type);
}

async function openInvoice(customer: string, amount = 1000): Promise<Stripe.Invoice> {
  const draft = await suite.stripe.invoices.create({ customer });
  await suite.stripe.invoiceItems.create({ customer, invoice: draft.id, amount, currency: 'usd' });
  return suite.stripe.invoices.finalizeInvoice(draft.id);
}

describe('invoice lifecycle events', () => {
  it('emits each lifecycle event at its transition', async () => {
    const { stripe, emulator } = suite;
    await stripe.webhookEndpoints.create({
      url: suite.receiver.url,
      enabled_events: [
        'invoice.finalized',
        'invoice.paid',
        'invoice.payment_succeeded',
        'invoice.payment_failed',
        'invoice.voided',
        'invoice.marked_uncollectible',
        'invoice.deleted',
      ],
    });
    const customer = (await stripe.customers.create({ name: 'Lifecycle' })).id;

    // Failed attempts (admin), then a successful payment.
    const paid = await openInvoice(customer);
    assert.equal(paid.attempt_count, 0);
    const failed1 = await emulator.admin.failPayment(paid.id);
    assert.deepEqual(
      [failed1.status, failed1.attempt_count, failed1.attempted, failed1.next_payment_attempt],
      ['open', 1, true, null],
    );
    const failed2 = await emulator.admin.failPayment(paid.id);
    assert.equal(failed2.attempt_count, 2);
    const done = await stripe.invoices.pay(paid.id);
    assert.deepEqual([done.status, done.attempt_count], ['paid', 3]);
    await assert.rejects(emulator.admin.failPayment(paid.id), /Only open invoices/);

    const voided = await openInvoice(customer);
    await stripe.invoices.voidInvoice(voided.id);
    const uncollectible = await openInvoice(customer);
    await stripe.invoices.markUncollectible(uncollectible.id);
    const deleted = await stripe.invoices.create({ customer });
    await stripe.invoices.del(deleted.id);
    await emulator.admin.waitForIdle();

    assert.deepEqual(typesFor(paid.id), [
      'invoice.finalized',
      'invoice.payment_failed',
      'invoice.payment_failed',
      'invoice.paid',
      'invoice.payment_succeeded',
    ]);
    const failures = delivered()
      .filter((e) => e.type === 'invoice.payment_failed')
      .map((e) => (e.data.object as Stripe.Invoice).attempt_count);
    assert.deepEqual(failures, [1, 2]);
    assert.deepEqual(typesFor(voided.id), ['invoice.finalized', 'invoice.voided']);
    assert.deepEqual(typesFor(uncollectible.id), ['invoice.finalized', 'invoice.marked_uncollectible']);
    assert.deepEqual(typesFor(deleted.id), ['invoice.deleted']);
    const statusOf = (type: string, id: string) =>
      (
        delivered().find((e) => e.type === type && (e.data.object as Stripe.Invoice).id === id)!.data
          .object as Stripe.Invoice
      ).status;
    assert.equal(statusOf('invoice.voided', voided.id), 'void');
    assert.equal(statusOf('invoice.marked_uncollectible', uncollectible.id), 'uncollectible');
    assert.equal(statusOf('invoice.paid', paid.id), 'paid');
  });

  it('charges a renewal one hour after automatic finalization, failing for a failing customer', async () => {
    const { stripe, emulator } = suite;
    const seed = await emulator.admin.seed({ webhook_url: suite.receiver.url, licensed_unit_amount: 900 });
    await emulator.admin.setPaymentBehavior(seed.customer.id, 'fail');
    await emulator.admin.advanceClockTo((seed.subscription.items.data[0].current_period_end as number) + 60);
    const draft = (await stripe.invoices.list({ customer: seed.customer.id, status: 'draft' })).data[0];
    await emulator.admin.advanceClockTo(draft.automatically_finalizes_at! + 3600);
    const invoice = await stripe.invoices.retrieve(draft.id);
    assert.deepEqual([invoice.status, invoice.attempt_count], ['open', 1]);
    assert.deepEqual(typesFor(draft.id), ['invoice.created', 'invoice.finalized', 'invoice.payment_failed']);
  });
});

describe('delivery order', () => {
  it('holds deliveries, then sends chosen events in a chosen order, repeats included', async () => {
    const { stripe, emulator } = suite;
    const endpoint = await stripe.webhookEndpoints.create({ url: suite.receiver.url, enabled_events: ['*'] });
    const settings = await emulator.admin.setWebhookSettings({ hold: true });
    assert.equal(settings.hold, true);
    const customer = (await stripe.customers.create({ name: 'Order' })).id;
    const invoice = await openInvoice(customer);
    await stripe.invoices.pay(invoice.id);
    assert.equal(await emulator.admin.waitForIdle(), true); // held deliveries are not in flight
    assert.equal(suite.receiver.received.length, 0);
    const byType = new Map((await emulator.admin.events()).map((e) => [e.type as string, e.id as string]));
    const held = await emulator.admin.deliveries();
    assert.deepEqual(
      held.map((d) => [d.event_type, d.status]),
      [
        ['invoice.created', 'pending'],
        ['invoice.finalized', 'pending'],
        ['invoice.paid', 'pending'],
        ['invoice.payment_succeeded', 'pending'],
      ],
    );

    // paid before finalized: out of order, exactly as asked.
    await emulator.admin.deliverEvents([byType.get('invoice.paid')!, byType.get('invoice.finalized')!]);
    assert.deepEqual(
      delivered().map((e) => e.type),
      ['invoice.paid', 'invoice.finalized'],
    );
    // The same event again: a duplicate with the same id, correctly signed.
    await emulator.admin.deliverEvents([byType.get('invoice.paid')!], endpoint.id);
    const last = suite.receiver.received.at(-1)!;
    const again = stripe.webhooks.constructEvent(
      last.body,
      last.headers['stripe-signature'] as string,
      endpoint.secret!,
    );
    assert.equal(again.id, byType.get('invoice.paid'));
    assert.equal((await emulator.admin.deliveries({ eventId: byType.get('invoice.paid') })).length, 2);

    // Releasing the hold sends the rest in emission order.
    await emulator.admin.setWebhookSettings({ hold: false });
    await emulator.admin.waitForIdle();
    assert.deepEqual(
      delivered().map((e) => e.type),
      ['invoice.paid', 'invoice.finalized', 'invoice.paid', 'invoice.created', 'invoice.payment_succeeded'],
    );
    assert.ok((await emulator.admin.deliveries()).every((d) => d.status === 'succeeded'));
    await assert.rejects(emulator.admin.deliverEvents(['evt_missing']), /No such event/);
  });
});
