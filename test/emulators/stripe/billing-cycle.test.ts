// The billing cycle through the real `stripe` package: meter events -> clock advance -> draft
// cycle invoice with exact usage per formula -> signed invoice.created -> automatic finalization
// one hour after delivery; a paused draft stays draft until the gate finalizes it.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type Stripe from 'stripe';
import { startReceiver, useEmulatorWithReceiver } from './helpers';

const suite = useEmulatorWithReceiver();

function parse(body: string): Stripe.Event {
  return JSON.parse(body) as Stripe.Event;
}

describe('billing cycle', () => {
  it('bills metered usage per formula, delivers invoice.created and finalizes one hour later', async () => {
    const endpoint = await suite.stripe.webhookEndpoints.create({ url: suite.receiver.url, enabled_events: ['*'] });
    assert.match(endpoint.secret!, /^whsec_/);

    const meters = {
      count: await suite.stripe.billing.meters.create({
        display_name: 'Calls',
        event_name: 'calls',
        default_aggregation: { formula: 'count' },
      }),
      sum: await suite.stripe.billing.meters.create({
        display_name: 'Tokens',
        event_name: 'tokens',
        default_aggregation: { formula: 'sum' },
        customer_mapping: { type: 'by_id', event_payload_key: 'stripe_customer_id' },
        value_settings: { event_payload_key: 'value' },
      }),
      last: await suite.stripe.billing.meters.create({
        display_name: 'Seats',
        event_name: 'seats',
        default_aggregation: { formula: 'last' },
      }),
    };
    const product = await suite.stripe.products.create({ name: 'Platform' });
    const prices = {
      count: await suite.stripe.prices.create({
        currency: 'usd',
        product: product.id,
        unit_amount: 5,
        recurring: { interval: 'month', usage_type: 'metered', meter: meters.count.id },
      }),
      sum: await suite.stripe.prices.create({
        currency: 'usd',
        product: product.id,
        unit_amount_decimal: suite.stripe.Decimal.from('0.5'),
        recurring: { interval: 'month', usage_type: 'metered', meter: meters.sum.id },
      }),
      last: await suite.stripe.prices.create({
        currency: 'usd',
        product: product.id,
        unit_amount: 1000,
        recurring: { interval: 'month', usage_type: 'metered', meter: meters.last.id },
      }),
    };
    assert.equal(prices.sum.recurring?.meter, meters.sum.id);
    assert.equal(prices.sum.recurring?.usage_type, 'metered');

    const a = await suite.stripe.customers.create({ email: 'a@example.com', name: 'A' });
    const b = await suite.stripe.customers.create({ email: 'b@example.com', name: 'B' });
    const subs: Stripe.Subscription[] = [];
    for (const c of [a, b]) {
      subs.push(
        await suite.stripe.subscriptions.create({
          customer: c.id,
          items: [{ price: prices.count.id }, { price: prices.sum.id }, { price: prices.last.id }],
          metadata: { plan: 'usage' },
        }),
      );
    }
    const [subA, subB] = subs;
    const start = subA.items.data[0].current_period_start;
    const end = subA.items.data[0].current_period_end;
    assert.ok(end - start >= 28 * 86400 && end - start <= 31 * 86400);
    assert.equal(subA.status, 'active');

    const send = (
      event_name: string,
      customer: string,
      value: string | undefined,
      timestamp: number,
      identifier?: string,
    ) =>
      suite.stripe.billing.meterEvents.create({
        event_name,
        payload: value === undefined ? { stripe_customer_id: customer } : { stripe_customer_id: customer, value },
        timestamp,
        identifier,
      });
    // Before the period: never counted.
    await send('tokens', a.id, '1000', start - 60);
    await send('calls', a.id, undefined, start + 1);
    await send('calls', a.id, undefined, start + 2);
    await send('calls', a.id, undefined, start + 3, 'call-3');
    await send('tokens', a.id, '1.5', start + 10);
    await send('tokens', a.id, '2.25', start + 20);
    await send('tokens', a.id, '0.001', start + 30);
    await send('seats', a.id, '7', start + 40);
    await send('seats', a.id, '4.5', start + 50);
    await send('seats', a.id, '9', start + 45); // earlier timestamp, sent later: not the last
    await send('tokens', b.id, '10', start + 10);
    await assert.rejects(send('calls', a.id, undefined, start + 4, 'call-3'), (err: Stripe.errors.StripeError) => {
      assert.equal(err.type, 'StripeInvalidRequestError');
      assert.equal(err.param, 'identifier');
      return true;
    });

    // Event summaries: minute-aligned, start inclusive, end exclusive.
    const s0 = Math.floor(start / 60) * 60;
    const summary = await suite.stripe.billing.meters.listEventSummaries(meters.sum.id, {
      customer: a.id,
      start_time: s0,
      end_time: s0 + 3600,
    });
    assert.equal(summary.data.length, 1);
    assert.equal(summary.data[0].object, 'billing.meter_event_summary');
    assert.equal(summary.data[0].aggregated_value, start - 60 >= s0 ? 1003.751 : 3.751);
    // Hourly and daily windows: meter-summaries.test.ts.
    const c = await suite.stripe.customers.create({ name: 'C' });
    await send('tokens', c.id, '1', s0 + 120);
    await send('tokens', c.id, '2', s0 + 180);
    const window = async (from: number, to: number) =>
      (
        await suite.stripe.billing.meters.listEventSummaries(meters.sum.id, {
          customer: c.id,
          start_time: from,
          end_time: to,
        })
      ).data[0].aggregated_value;
    assert.equal(await window(s0 + 120, s0 + 180), 1);
    assert.equal(await window(s0 + 180, s0 + 240), 2);
    assert.equal(await window(s0 + 60, s0 + 120), 0);
    assert.equal(await window(s0, s0 + 240), 3);
    await assert.rejects(
      suite.stripe.billing.meters.listEventSummaries(meters.sum.id, {
        customer: a.id,
        start_time: s0 + 1,
        end_time: s0 + 3600,
      }),
      /minute/,
    );

    await suite.emulator.admin.advanceClockTo(end + 60);

    const invoices = await suite.stripe.invoices.list({ subscription: subA.id });
    const cycle = invoices.data.find((i) => i.billing_reason === 'subscription_cycle')!;
    assert.ok(cycle, 'a cycle invoice exists');
    assert.equal(cycle.status, 'draft');
    assert.equal(cycle.auto_advance, true);
    assert.equal(cycle.parent?.subscription_details?.subscription, subA.id);
    assert.equal(cycle.period_start, start);
    assert.equal(cycle.period_end, end);

    const inv = await suite.stripe.invoices.retrieve(cycle.id, { expand: ['customer'] });
    assert.equal((inv.customer as Stripe.Customer).email, 'a@example.com');
    const lines = await suite.stripe.invoices.listLineItems(inv.id, { limit: 100 });
    const byPrice = new Map(lines.data.map((l) => [l.pricing?.price_details?.price as string, l]));
    const count = byPrice.get(prices.count.id)!;
    const sum = byPrice.get(prices.sum.id)!;
    const last = byPrice.get(prices.last.id)!;
    assert.equal(count.quantity_decimal?.toString(), '3');
    assert.equal(count.amount, 15);
    assert.equal(sum.quantity_decimal?.toString(), '3.751');
    assert.equal(sum.quantity, 3);
    assert.equal(sum.amount, 2); // 3.751 x 0.5 = 1.8755 cents -> 2
    assert.equal(last.quantity_decimal?.toString(), '4.5');
    assert.equal(last.amount, 4500);
    for (const l of [count, sum, last]) {
      assert.deepEqual(l.period, { start, end });
      assert.equal(l.parent?.type, 'subscription_item_details');
      assert.equal(l.parent?.subscription_item_details?.subscription, subA.id);
      assert.equal(l.pricing?.type, 'price_details');
      assert.equal(l.pricing?.price_details?.product, product.id);
    }
    assert.equal(sum.pricing?.unit_amount_decimal?.toString(), '0.5');
    assert.equal(inv.total, 15 + 2 + 4500);

    // invoice.created was delivered, signed so that suite.stripe.webhooks.constructEvent accepts it.
    const created = suite.receiver.received.filter(
      (r) => parse(r.body).type === 'invoice.created' && (parse(r.body).data.object as { id: string }).id === inv.id,
    );
    assert.equal(created.length, 1);
    const event = suite.stripe.webhooks.constructEvent(
      created[0].body,
      created[0].headers['stripe-signature'] as string,
      endpoint.secret!,
    );
    assert.equal(event.type, 'invoice.created');
    assert.equal((event.data.object as Stripe.Invoice).status, 'draft');
    assert.equal(event.api_version, '2026-10-28.endive');
    assert.throws(() =>
      suite.stripe.webhooks.constructEvent(
        created[0].body,
        created[0].headers['stripe-signature'] as string,
        'whsec_wrong',
      ),
    );
    // Finalization is scheduled one hour after the successful delivery.
    assert.ok(inv.automatically_finalizes_at! >= inv.created + 3600);
    assert.ok(inv.automatically_finalizes_at! <= inv.created + 3600 + 120);

    // The gate pauses B's draft (idempotently) ...
    const invB = (await suite.stripe.invoices.list({ subscription: subB.id, status: 'draft' })).data[0];
    assert.equal(invB.status, 'draft');
    const paused = await suite.stripe.invoices.update(
      invB.id,
      { auto_advance: false, metadata: { gate: 'held' } },
      { idempotencyKey: `pause-${invB.id}` },
    );
    assert.equal(paused.auto_advance, false);
    assert.equal(paused.automatically_finalizes_at, null);
    assert.equal(paused.metadata?.gate, 'held');
    // Re-enabling schedules finalization one grace period from now, not immediately.
    const now = (await suite.emulator.admin.clock()).now;
    const resumed = await suite.stripe.invoices.update(invB.id, { auto_advance: true });
    assert.ok(resumed.automatically_finalizes_at! >= now + 3600 && resumed.automatically_finalizes_at! <= now + 3700);
    await suite.stripe.invoices.update(invB.id, { auto_advance: false });

    // Usage reported late (during the grace period) for the closed period counts at finalization.
    await send('tokens', a.id, '1', end - 30);
    await send('tokens', a.id, '5', end); // next period: end is exclusive

    await suite.emulator.admin.advanceClock(3600 + 120);
    const finalA = await suite.stripe.invoices.retrieve(inv.id);
    assert.equal(finalA.status, 'open');
    assert.ok(finalA.number);
    assert.equal(finalA.automatically_finalizes_at, null);
    const finalLines = await suite.stripe.invoices.listLineItems(inv.id);
    const finalSum = finalLines.data.find((l) => l.pricing?.price_details?.price === prices.sum.id)!;
    assert.equal(finalSum.quantity_decimal?.toString(), '4.751');
    assert.ok(
      suite.receiver.received.some(
        (r) =>
          parse(r.body).type === 'invoice.finalized' && (parse(r.body).data.object as { id: string }).id === inv.id,
      ),
    );

    // B stayed draft while paused.
    const stillDraft = await suite.stripe.invoices.retrieve(invB.id);
    assert.equal(stillDraft.status, 'draft');
    assert.equal(stillDraft.auto_advance, false);

    // The reviewer releases it: finalize with a deterministic idempotency key, twice.
    const released = await suite.stripe.invoices.finalizeInvoice(
      invB.id,
      {},
      { idempotencyKey: `finalize-${invB.id}` },
    );
    assert.equal(released.status, 'open');
    const again = await suite.stripe.invoices.finalizeInvoice(invB.id, {}, { idempotencyKey: `finalize-${invB.id}` });
    assert.equal(again.status, 'open');
    assert.equal(again.lastResponse.headers['idempotent-replayed'], 'true');
    await assert.rejects(
      suite.stripe.invoices.finalizeInvoice(invB.id, {}, { idempotencyKey: 'another-key' }),
      (err: Stripe.errors.StripeError) => {
        assert.equal(err.statusCode, 400);
        assert.equal(err.code, 'invoice_not_editable');
        assert.equal(err.message, "This invoice is already finalized, you can't re-finalize a non-draft invoice.");
        return true;
      },
    );
    await assert.rejects(
      suite.stripe.invoices.update(invB.id, { collection_method: 'send_invoice' }),
      (err: Stripe.errors.StripeError) => {
        assert.equal(err.code, 'invoice_not_editable');
        return true;
      },
    );
    const meta = await suite.stripe.invoices.update(invB.id, { metadata: { gate: 'released' } });
    assert.equal(meta.metadata?.gate, 'released');
    await suite.emulator.admin.waitForIdle();
    const types = suite.receiver.received
      .map((r) => parse(r.body))
      .filter((e) => (e.data.object as { id: string }).id === invB.id)
      .map((e) => e.type);
    assert.deepEqual(
      types.filter((t) => t !== 'invoice.updated'),
      ['invoice.created', 'invoice.finalized'],
    );
    assert.ok(types.includes('invoice.updated'));
    const updated = suite.receiver.received
      .map((r) => parse(r.body))
      .find((e) => e.type === 'invoice.updated' && (e.data.object as Stripe.Invoice).id === invB.id)!;
    // Nested hashes show only their changed keys; a key that did not exist before is null.
    assert.deepEqual(updated.data.previous_attributes, {
      auto_advance: true,
      automatically_finalizes_at: invB.automatically_finalizes_at,
      metadata: { gate: null },
    });
    assert.equal(updated.request?.idempotency_key, `pause-${invB.id}`);

    // One hour after finalization an auto-advancing invoice is charged.
    await suite.emulator.admin.advanceClock(3600 + 60);
    assert.equal((await suite.stripe.invoices.retrieve(inv.id)).status, 'paid');
    assert.equal((await suite.stripe.invoices.retrieve(invB.id)).status, 'open'); // auto_advance=false: not charged
  });

  it('finalizes 72 h after creation when invoice.created is never answered with 2xx', async (context) => {
    await suite.emulator.admin.reset();
    const down = await startReceiver();
    // Closed however the test ends: a receiver left listening keeps the test process alive.
    context.after(() => down.close());
    down.respond = () => 500;
    await suite.emulator.admin.setWebhookSettings({ maxAttempts: 2, retryBaseMs: 5 });
    const seed = await suite.emulator.admin.seed({ webhook_url: down.url, enabled_events: ['invoice.created'] });
    const end = seed.subscription.items.data[0].current_period_end as number;
    await suite.emulator.admin.advanceClockTo(end + 1);
    const draft = (await suite.stripe.invoices.list({ customer: seed.customer.id, status: 'draft' })).data[0];
    assert.equal(draft.automatically_finalizes_at, draft.created + 72 * 3600);
    await suite.emulator.admin.advanceClock(2 * 3600);
    assert.equal((await suite.stripe.invoices.retrieve(draft.id)).status, 'draft');
    await suite.emulator.admin.advanceClock(71 * 3600);
    assert.notEqual((await suite.stripe.invoices.retrieve(draft.id)).status, 'draft');
    const deliveries = await suite.emulator.admin.deliveries({ eventType: 'invoice.created' });
    assert.equal(deliveries.at(-1)!.status, 'failed');
    assert.equal(deliveries.at(-1)!.attempts.length, 2);
  });

  it('runs the cycle on the wall clock too (background ticker), with no advancing', async () => {
    await suite.emulator.admin.reset();
    const seed = await suite.emulator.admin.seed({ interval: 'day' });
    // Move to 1 s before the period end, then let real time pass it.
    const end = seed.subscription.items.data[0].current_period_end as number;
    await suite.emulator.admin.advanceClockTo(end - 1);
    assert.equal((await suite.stripe.invoices.list({ customer: seed.customer.id, status: 'draft' })).data.length, 0);
    const deadline = Date.now() + 4000;
    let drafts: Stripe.Invoice[] = [];
    while (Date.now() < deadline && drafts.length === 0) {
      await new Promise((r) => setTimeout(r, 100));
      drafts = (await suite.stripe.invoices.list({ customer: seed.customer.id, status: 'draft' })).data;
    }
    assert.equal(drafts.length, 1);
    assert.equal(drafts[0].billing_reason, 'subscription_cycle');
  });
});

describe('invoices', () => {
  it('creates, lists lines across pages, pays, voids, marks uncollectible and deletes drafts', async (context) => {
    await suite.emulator.admin.reset();
    const events = await startReceiver();
    // Closed however the test ends: a receiver left listening keeps the test process alive.
    context.after(() => events.close());
    await suite.stripe.webhookEndpoints.create({
      url: events.url,
      enabled_events: [
        'invoice.paid',
        'invoice.voided',
        'invoice.marked_uncollectible',
        'invoice.deleted',
        'invoice.payment_failed',
      ],
    });
    const customer = await suite.stripe.customers.create({ name: 'Lines' });
    const invoice = await suite.stripe.invoices.create({ customer: customer.id, description: 'many lines' });
    assert.equal(invoice.status, 'draft');
    assert.equal(invoice.auto_advance, false);
    const product = await suite.stripe.products.create({ name: 'Thing' });
    const price = await suite.stripe.prices.create({ currency: 'usd', product: product.id, unit_amount: 150 });
    for (let i = 0; i < 25; i++) {
      await suite.stripe.invoiceItems.create({
        customer: customer.id,
        invoice: invoice.id,
        pricing: { price: price.id },
        quantity: i + 1,
      });
    }
    const withLines = await suite.stripe.invoices.retrieve(invoice.id);
    assert.equal(withLines.lines.data.length, 10);
    assert.equal(withLines.lines.has_more, true);
    assert.equal(withLines.lines.url, `/v1/invoices/${invoice.id}/lines`);
    const ids: string[] = [];
    let startingAfter: string | undefined;
    for (;;) {
      const page = await suite.stripe.invoices.listLineItems(invoice.id, { limit: 10, starting_after: startingAfter });
      ids.push(...page.data.map((l) => l.id));
      if (!page.has_more) break;
      startingAfter = page.data.at(-1)!.id;
    }
    assert.equal(ids.length, 25);
    assert.equal(new Set(ids).size, 25);
    const all = await suite.stripe.invoices.listLineItems(invoice.id, { limit: 7 }).autoPagingToArray({ limit: 100 });
    assert.equal(all.length, 25);
    assert.equal(all[0].parent?.type, 'invoice_item_details');
    assert.equal(withLines.total, 150 * ((25 * 26) / 2));

    const paid = await suite.stripe.invoices.pay(invoice.id);
    assert.equal(paid.status, 'paid');
    assert.equal(paid.amount_paid, paid.amount_due);
    assert.equal(paid.amount_remaining, 0);
    await assert.rejects(suite.stripe.invoices.voidInvoice(invoice.id), /void/);

    const second = await suite.stripe.invoices.create({ customer: customer.id });
    await suite.stripe.invoiceItems.create({
      customer: customer.id,
      invoice: second.id,
      amount: 500,
      currency: 'usd',
      description: 'fee',
    });
    await suite.stripe.invoices.finalizeInvoice(second.id);
    const voided = await suite.stripe.invoices.voidInvoice(second.id);
    assert.equal(voided.status, 'void');

    const third = await suite.stripe.invoices.create({ customer: customer.id });
    await suite.stripe.invoiceItems.create({ customer: customer.id, invoice: third.id, amount: 700, currency: 'usd' });
    await suite.stripe.invoices.finalizeInvoice(third.id);
    await suite.emulator.admin.setPaymentBehavior(customer.id, 'fail');
    await assert.rejects(suite.stripe.invoices.pay(third.id), (err: Stripe.errors.StripeError) => {
      assert.equal(err.type, 'StripeCardError');
      assert.equal(err.statusCode, 402);
      assert.equal(err.code, 'card_declined');
      return true;
    });
    const unc = await suite.stripe.invoices.markUncollectible(third.id);
    assert.equal(unc.status, 'uncollectible');

    const fourth = await suite.stripe.invoices.create({ customer: customer.id });
    const deleted = await suite.stripe.invoices.del(fourth.id);
    assert.deepEqual({ id: deleted.id, deleted: deleted.deleted }, { id: fourth.id, deleted: true });
    await assert.rejects(suite.stripe.invoices.retrieve(fourth.id), (err: Stripe.errors.StripeError) => {
      assert.equal(err.statusCode, 404);
      assert.equal(err.code, 'resource_missing');
      return true;
    });
    await assert.rejects(suite.stripe.invoices.del(third.id), /draft/);

    await suite.emulator.admin.waitForIdle();
    const types = events.received.map((r) => parse(r.body).type).sort();
    assert.deepEqual(types, [
      'invoice.deleted',
      'invoice.marked_uncollectible',
      'invoice.paid',
      'invoice.payment_failed',
      'invoice.voided',
    ]);
  });

  it('refuses to delete subscription invoices and to add items to finalized invoices', async () => {
    await suite.emulator.admin.reset();
    const seed = await suite.emulator.admin.seed();
    await suite.emulator.admin.advanceClockTo((seed.subscription.items.data[0].current_period_end as number) + 1);
    const draft = (await suite.stripe.invoices.list({ customer: seed.customer.id, status: 'draft' })).data[0];
    await assert.rejects(suite.stripe.invoices.del(draft.id), /subscriptions/);
    const first = (await suite.stripe.invoices.list({ customer: seed.customer.id, status: 'paid' })).data[0];
    assert.equal(first.billing_reason, 'subscription_create');
    await assert.rejects(
      suite.stripe.invoiceItems.create({ customer: seed.customer.id, invoice: first.id, amount: 1, currency: 'usd' }),
      (err: Stripe.errors.StripeError) => err.code === 'invoice_not_editable',
    );
    const sub = await suite.stripe.subscriptions.retrieve(seed.subscription.id);
    assert.equal(sub.latest_invoice, draft.id);
    const listed = await suite.stripe.subscriptions.list({ customer: seed.customer.id });
    assert.equal(listed.data[0].id, sub.id);
  });
});
