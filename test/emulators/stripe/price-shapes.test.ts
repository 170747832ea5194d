// Tiered and package prices through the real `stripe` SDK: creation and validation, `tiers` returned
// only when expanded, and cycle invoice lines billed the way Stripe bills these shapes.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type Stripe from 'stripe';
import type { StripeEmulator } from '../../../emulators/stripe/index';
import { startAll } from './helpers';

describe('price shapes: tiers and transform_quantity', () => {
  let emulator: StripeEmulator;
  let stripe: Stripe;
  let product: Stripe.Product;
  let meter: Stripe.Billing.Meter;

  before(async () => {
    ({ emulator, stripe } = await startAll());
    product = await stripe.products.create({ name: 'API calls' });
    meter = await stripe.billing.meters.create({
      display_name: 'API calls',
      event_name: 'api_calls',
      default_aggregation: { formula: 'sum' },
    });
  });
  after(async () => emulator?.stop());

  const recurring = () => ({ interval: 'month' as const, usage_type: 'metered' as const, meter: meter.id });
  /** 1-10 at 5, 11-100 at 3 + 200 flat, 101+ at 1 + 500 flat (cents). */
  let TIERS: Stripe.PriceCreateParams.Tier[];
  before(() => {
    TIERS = [
      { up_to: 10, unit_amount: 5 },
      { up_to: 100, unit_amount: 3, flat_amount: 200 },
      { up_to: 'inf', unit_amount_decimal: stripe.Decimal.from('1'), flat_amount_decimal: stripe.Decimal.from('500') },
    ];
  });

  it('creates a tiered price; tiers come back only when expanded', async () => {
    const price = await stripe.prices.create({
      currency: 'usd',
      product: product.id,
      billing_scheme: 'tiered',
      tiers_mode: 'graduated',
      tiers: TIERS,
      recurring: recurring(),
    });
    assert.equal(price.billing_scheme, 'tiered');
    assert.equal(price.tiers_mode, 'graduated');
    assert.equal(price.unit_amount, null);
    assert.equal(price.unit_amount_decimal, null);
    assert.equal(price.transform_quantity, null);
    assert.equal('tiers' in price, false, 'tiers are includable: absent unless expanded');
    assert.equal('tiers' in (await stripe.prices.retrieve(price.id)), false);
    const expanded = await stripe.prices.retrieve(price.id, { expand: ['tiers'] });
    assert.deepEqual(JSON.parse(JSON.stringify(expanded.tiers)), [
      { flat_amount: null, flat_amount_decimal: null, unit_amount: 5, unit_amount_decimal: '5', up_to: 10 },
      { flat_amount: 200, flat_amount_decimal: '200', unit_amount: 3, unit_amount_decimal: '3', up_to: 100 },
      { flat_amount: 500, flat_amount_decimal: '500', unit_amount: 1, unit_amount_decimal: '1', up_to: null },
    ]);
  });

  it('refuses tiers Stripe refuses', async () => {
    const refused = async (params: Partial<Stripe.PriceCreateParams>, param: string) => {
      await assert.rejects(
        stripe.prices.create({ currency: 'usd', product: product.id, recurring: recurring(), ...params }),
        (err: Stripe.errors.StripeError) => err.statusCode === 400 && err.param === param,
      );
    };
    await refused({ billing_scheme: 'tiered', tiers_mode: 'volume' }, 'tiers');
    await refused({ billing_scheme: 'tiered', tiers: TIERS }, 'tiers_mode');
    await refused(
      { billing_scheme: 'tiered', tiers_mode: 'volume', tiers: [{ up_to: 10, unit_amount: 1 }] },
      'tiers[0][up_to]',
    );
    await refused(
      {
        billing_scheme: 'tiered',
        tiers_mode: 'volume',
        tiers: [
          { up_to: 'inf', unit_amount: 1 },
          { up_to: 10, unit_amount: 1 },
        ],
      },
      'tiers[0][up_to]',
    );
    await refused(
      {
        billing_scheme: 'tiered',
        tiers_mode: 'volume',
        tiers: [
          { up_to: 10, unit_amount: 1 },
          { up_to: 5, unit_amount: 1 },
          { up_to: 'inf', unit_amount: 1 },
        ],
      },
      'tiers[1][up_to]',
    );
    await refused({ billing_scheme: 'tiered', tiers_mode: 'volume', tiers: TIERS, unit_amount: 5 }, 'unit_amount');
    await refused(
      {
        billing_scheme: 'tiered',
        tiers_mode: 'volume',
        tiers: TIERS,
        transform_quantity: { divide_by: 10, round: 'up' },
      },
      'transform_quantity',
    );
    await refused({ unit_amount: 5, tiers_mode: 'volume' }, 'tiers_mode');
    await refused(
      { unit_amount: 5, transform_quantity: { divide_by: 0, round: 'up' } },
      'transform_quantity[divide_by]',
    );
  });

  /** A subscription on `price`, usage `value` in its first period, and the cycle invoice's metered line. */
  async function billedLine(price: Stripe.Price, value: string): Promise<Stripe.InvoiceLineItem> {
    const customer = await stripe.customers.create({ name: `usage ${value}` });
    const subscription = await stripe.subscriptions.create({ customer: customer.id, items: [{ price: price.id }] });
    const item = subscription.items.data[0];
    await emulator.admin.advanceClockTo(item.current_period_start + 61);
    await stripe.billing.meterEvents.create({
      event_name: 'api_calls',
      timestamp: item.current_period_start + 60,
      payload: { stripe_customer_id: customer.id, value },
    });
    await emulator.admin.advanceClockTo(item.current_period_end + 1);
    const [invoice] = await stripe.invoices.list({ customer: customer.id, status: 'draft' }).then((l) => l.data);
    assert.ok(invoice, 'the cycle draft exists');
    const lines = await stripe.invoices.listLineItems(invoice.id!, {
      expand: ['data.pricing.price_details.price', 'data.pricing.price_details.price.tiers'],
    });
    assert.equal(lines.data.length, 1);
    assert.equal(invoice.amount_due, lines.data[0].amount, 'the invoice totals follow the line');
    return lines.data[0];
  }

  it('bills graduated tiers tier by tier, up_to inclusive, with decimal quantities', async () => {
    const price = await stripe.prices.create({
      currency: 'usd',
      product: product.id,
      billing_scheme: 'tiered',
      tiers_mode: 'graduated',
      tiers: TIERS,
      recurring: recurring(),
    });
    const cases: Array<[string, number]> = [
      ['10', 50],
      ['11', 253],
      ['100', 520],
      ['150', 1070],
      ['10.5', 252], // 251.5, rounded half up
    ];
    for (const [value, amount] of cases) {
      const line = await billedLine(price, value);
      assert.equal(line.amount, amount, `graduated ${value}`);
      assert.equal(String(line.quantity_decimal), value);
      assert.equal(line.pricing?.unit_amount_decimal, null);
      const linePrice = line.pricing?.price_details?.price as Stripe.Price;
      assert.equal(linePrice.tiers?.length, 3, 'the expanded price carries its tiers');
    }
  });

  it('bills volume tiers at the tier the whole quantity falls into, plus its flat amount', async () => {
    const price = await stripe.prices.create({
      currency: 'usd',
      product: product.id,
      billing_scheme: 'tiered',
      tiers_mode: 'volume',
      tiers: TIERS,
      recurring: recurring(),
    });
    for (const [value, amount] of [
      ['10', 50],
      ['11', 233],
      ['101', 601],
    ] as const) {
      assert.equal((await billedLine(price, value)).amount, amount, `volume ${value}`);
    }
  });

  it('bills package pricing in whole packages, rounded up or down', async () => {
    const up = await stripe.prices.create({
      currency: 'usd',
      product: product.id,
      unit_amount: 500,
      transform_quantity: { divide_by: 1000, round: 'up' },
      recurring: recurring(),
    });
    assert.deepEqual(up.transform_quantity, { divide_by: 1000, round: 'up' });
    const down = await stripe.prices.create({
      currency: 'usd',
      product: product.id,
      unit_amount: 500,
      transform_quantity: { divide_by: 1000, round: 'down' },
      recurring: recurring(),
    });
    assert.equal((await billedLine(up, '1001')).amount, 1000);
    assert.equal((await billedLine(up, '1000')).amount, 500);
    const line = await billedLine(down, '2999.5');
    assert.equal(line.amount, 1000);
    assert.equal(String(line.pricing?.unit_amount_decimal), '500');
    assert.match(line.description ?? '', /per 1000 units/);
  });

  it('prices an invoice item at a tiered price the same way', async () => {
    const price = await stripe.prices.create({
      currency: 'usd',
      product: product.id,
      billing_scheme: 'tiered',
      tiers_mode: 'graduated',
      tiers: TIERS,
    });
    const customer = await stripe.customers.create({ name: 'one-off' });
    const item = await stripe.invoiceItems.create({
      customer: customer.id,
      pricing: { price: price.id },
      quantity: 11,
    });
    assert.equal(item.amount, 253);
  });
});
