import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type Stripe from 'stripe';
import { createStripeClient } from '../../src/stripe/client';
import { finalizeInvoice, pauseInvoice, releaseInvoice } from '../../src/stripe/invoice-actions';
import { cachedMeterLookup, cachedPriceLookup, readInvoiceSnapshot } from '../../src/stripe/read-invoice';
import { startStripeEmulator, type StripeEmulator } from '../../emulators/stripe';

describe('reading and changing invoices through the stripe SDK', () => {
  let emulator: StripeEmulator;
  let stripe: Stripe;
  before(async () => {
    emulator = await startStripeEmulator({ port: 0 });
    stripe = createStripeClient({ secretKey: emulator.apiKey, apiUrl: emulator.url });
  });
  after(async () => {
    await emulator?.stop();
  });

  async function cycleInvoice(formula: 'count' | 'sum' | 'last', values: string[]) {
    const seeded = await emulator.admin.seed({
      meter: { event_name: `usage_${formula}`, formula },
      metered_unit_amount_decimal: '0.5',
      licensed_unit_amount: 1000,
    });
    const item = seeded.subscription.items.data.find(
      (i: { price: { recurring: { usage_type: string } } }) => i.price.recurring.usage_type === 'metered',
    );
    const start = item.current_period_start as number;
    await emulator.admin.advanceClockTo(start + values.length * 60 + 1);
    for (const [i, value] of values.entries()) {
      await stripe.billing.meterEvents.create({
        event_name: `usage_${formula}`,
        timestamp: start + i * 60,
        payload: { stripe_customer_id: seeded.customer.id, value },
      });
    }
    await emulator.admin.advanceClockTo((item.current_period_end as number) + 1);
    const invoice = (await emulator.admin.invoices(seeded.customer.id)).find(
      (inv) => inv.billing_reason === 'subscription_cycle',
    );
    assert.ok(invoice);
    return { invoiceId: invoice.id as string, seeded, start, end: item.current_period_end as number };
  }

  test('a cycle invoice resolves its metered line down to the meter, decimal-exact', async () => {
    const { invoiceId, seeded, start, end } = await cycleInvoice('sum', ['0.1', '0.2', '1.25']);
    const snapshot = await readInvoiceSnapshot(stripe, invoiceId);
    assert.equal(snapshot.status, 'draft');
    assert.equal(snapshot.customerId, seeded.customer.id);
    assert.equal(snapshot.meteredLines.length, 1);
    assert.equal(snapshot.otherLineCount, 1, 'the licensed seat line is not compared');
    const [line] = snapshot.meteredLines;
    assert.equal(line.stripeQuantity, '1.55');
    assert.equal(line.formula, 'sum');
    assert.equal(line.eventName, 'usage_sum');
    assert.equal(line.meterId, seeded.meter.id);
    assert.equal(line.unitAmountDecimal, '0.5');
    assert.equal(line.periodStart, start);
    assert.equal(line.periodEnd, end);
  });

  test('an invoice with few lines is one request once its prices and meter are known (month end: one per invoice)', async () => {
    const { invoiceId } = await cycleInvoice('count', ['1', '1', '1']);
    const meters = cachedMeterLookup(stripe);
    const prices = cachedPriceLookup(stripe);
    await emulator.admin.clearRequests();
    const first = await readInvoiceSnapshot(stripe, invoiceId, meters, prices);
    // The invoice itself, its two prices (metered and licensed) and the meter: read once.
    assert.equal((await emulator.admin.requests()).length, 4);
    await emulator.admin.clearRequests();
    const again = await readInvoiceSnapshot(stripe, invoiceId, meters, prices);
    assert.deepEqual(
      (await emulator.admin.requests()).map((r) => `${r.method} ${r.path}`),
      [`GET /v1/invoices/${invoiceId}`],
    );
    assert.deepEqual(again, first);
    assert.equal(again.meteredLines[0].stripeQuantity, '3');
  });

  test('every page of lines is read', async () => {
    const customer = await stripe.customers.create({ name: 'Many Lines' });
    for (let i = 0; i < 120; i++) {
      await stripe.invoiceItems.create({
        customer: customer.id,
        amount: 100 + i,
        currency: 'usd',
        description: `item ${i}`,
      });
    }
    const invoice = await stripe.invoices.create({ customer: customer.id, pending_invoice_items_behavior: 'include' });
    const snapshot = await readInvoiceSnapshot(stripe, invoice.id!);
    assert.equal(snapshot.meteredLines.length, 0);
    assert.equal(snapshot.otherLineCount, 120);
  });

  test('pause and finalize are idempotent, name the request that made the change, and report an invoice that already moved on', async () => {
    const { invoiceId } = await cycleInvoice('count', ['1', '1']);
    const first = await pauseInvoice(stripe, invoiceId, { invoice_gate_status: 'held' });
    const again = await pauseInvoice(stripe, invoiceId, { invoice_gate_status: 'held' });
    assert.equal(first.applied, true);
    assert.equal(first.status, 'draft');
    assert.match(first.requestId ?? '', /^req_/);
    assert.deepEqual(again, first, 'a replay names the original request');
    const paused = await stripe.invoices.retrieve(invoiceId);
    assert.equal(paused.auto_advance, false);

    const finalized = await finalizeInvoice(stripe, invoiceId);
    assert.deepEqual({ ...finalized, requestId: undefined }, { applied: true, status: 'open', requestId: undefined });
    // A retried activity replays Stripe's saved answer instead of failing.
    assert.deepEqual(await finalizeInvoice(stripe, invoiceId), finalized);
    const requests = await emulator.admin.requests(`/v1/invoices/${invoiceId}/finalize`);
    assert.equal(requests.length, 2);
    assert.ok(
      requests.every((r) => r.idempotency_key === `invoice-gate-finalize-${invoiceId}`),
      JSON.stringify(requests),
    );
    const [event] = (await emulator.admin.events('invoice.finalized')).filter(
      (e) => (e.data as { object: { id: string } }).object.id === invoiceId,
    );
    assert.equal((event?.request as { id: string }).id, finalized.requestId, "the event names the gate's request");
  });

  test('a release turns auto-advance back on with who released it and why, once per pause', async () => {
    const { invoiceId } = await cycleInvoice('count', ['1']);
    await pauseInvoice(stripe, invoiceId, { invoice_gate_status: 'held' });
    const release = { releasedBy: 'U0ALICE', reason: 'ledger_late: the ledger caught up', approvedBy: 'U0BOB' };
    const released = await releaseInvoice(stripe, invoiceId, release, 1);
    assert.equal(released.applied, true);
    assert.deepEqual(await releaseInvoice(stripe, invoiceId, release, 1), released);
    const invoice = await stripe.invoices.retrieve(invoiceId);
    assert.equal(invoice.auto_advance, true);
    assert.deepEqual(invoice.metadata, {
      invoice_gate_status: 'released',
      invoice_gate_released_by: 'U0ALICE, approved by U0BOB',
      invoice_gate_reason: 'ledger_late: the ledger caught up',
    });
    const long = await releaseInvoice(stripe, invoiceId, { releasedBy: 'U0ALICE', reason: 'x'.repeat(900) }, 2);
    assert.equal(long.applied, true);
    const after = await stripe.invoices.retrieve(invoiceId);
    assert.equal(after.metadata?.invoice_gate_reason?.length, 500, "within Stripe's 500 characters a value");
  });

  test('finalizing an invoice someone else finalized reports its status instead of failing', async () => {
    const { invoiceId } = await cycleInvoice('last', ['3', '7']);
    await stripe.invoices.finalizeInvoice(invoiceId);
    assert.deepEqual(await finalizeInvoice(stripe, invoiceId), { applied: false, status: 'open' });
    await stripe.invoices.voidInvoice(invoiceId);
    assert.deepEqual(await pauseInvoice(stripe, invoiceId, {}), { applied: false, status: 'void' });
  });

  test('each metered line carries its price shape, tiers included: one read per price, its tiers expanded', async () => {
    const product = await stripe.products.create({ name: 'Shapes' });
    const meterFor = (event_name: string) =>
      stripe.billing.meters.create({ display_name: event_name, event_name, default_aggregation: { formula: 'sum' } });
    const [tieredMeter, packageMeter] = [await meterFor('shape_tiered'), await meterFor('shape_package')];
    const tiered = await stripe.prices.create({
      currency: 'usd',
      product: product.id,
      billing_scheme: 'tiered',
      tiers_mode: 'volume',
      tiers: [
        { up_to: 1000, unit_amount_decimal: stripe.Decimal.from('0.5') },
        { up_to: 'inf', unit_amount: 0, flat_amount: 40000 },
      ],
      recurring: { interval: 'month', usage_type: 'metered', meter: tieredMeter.id },
    });
    const perPackage = await stripe.prices.create({
      currency: 'usd',
      product: product.id,
      unit_amount: 250,
      transform_quantity: { divide_by: 100, round: 'up' },
      recurring: { interval: 'month', usage_type: 'metered', meter: packageMeter.id },
    });
    const customer = await stripe.customers.create({ name: 'Shapes' });
    const subscription = await stripe.subscriptions.create({
      customer: customer.id,
      items: [{ price: tiered.id }, { price: perPackage.id }],
    });
    await emulator.admin.advanceClockTo(subscription.items.data[0].current_period_end + 1);
    const invoice = (await emulator.admin.invoices(customer.id)).find(
      (inv) => inv.billing_reason === 'subscription_cycle',
    );
    assert.ok(invoice);

    await emulator.admin.clearRequests();
    const snapshot = await readInvoiceSnapshot(stripe, invoice.id as string);
    const requests = (await emulator.admin.requests()).filter((r) => !r.path.startsWith('/v1/billing/meters'));
    // The invoice embeds its few lines; each price is read once on its own with `expand[]=tiers`
    // (through the lines list, `data.pricing.price_details.price.tiers` would pass Stripe's four levels).
    assert.deepEqual(
      requests.map((r) => `${r.method} ${r.path.replace(/in_\w+/, 'in_…')}`).sort(),
      ['GET /v1/invoices/in_…', `GET /v1/prices/${perPackage.id}`, `GET /v1/prices/${tiered.id}`].sort(),
    );
    const byPrice = new Map(snapshot.meteredLines.map((l) => [l.priceId, l.pricing]));
    assert.deepEqual(byPrice.get(tiered.id), {
      billingScheme: 'tiered',
      currency: 'usd',
      billedCurrency: 'usd',
      unitAmountDecimal: null,
      transformQuantity: null,
      tiersMode: 'volume',
      tiers: [
        { upTo: '1000', unitAmountDecimal: '0.5', flatAmountDecimal: null },
        { upTo: null, unitAmountDecimal: '0', flatAmountDecimal: '40000' },
      ],
      customUnitAmount: false,
    });
    assert.deepEqual(byPrice.get(perPackage.id), {
      billingScheme: 'per_unit',
      currency: 'usd',
      billedCurrency: 'usd',
      unitAmountDecimal: '250',
      transformQuantity: { divideBy: 100, round: 'up' },
      tiersMode: null,
      tiers: null,
      customUnitAmount: false,
    });
  });
});
