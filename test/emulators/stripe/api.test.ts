// The REST surface through the real `stripe` package: auth, errors, pagination, expand,
// idempotency, request ids, and the basic resources.
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import Stripe from 'stripe';
import type { StripeEmulator } from '../../../emulators/stripe/index';
import { startAll, stripeClient } from './helpers';

let emulator: StripeEmulator;
let stripe: Stripe;

before(async () => {
  ({ emulator, stripe } = await startAll());
});
beforeEach(async () => {
  await emulator.admin.reset();
});
after(async () => {
  await emulator.stop();
});

async function raw(
  path: string,
  init: RequestInit = {},
): Promise<{ status: number; body: { error?: Record<string, unknown> } & Record<string, unknown>; headers: Headers }> {
  const res = await fetch(emulator.url + path, init);
  return { status: res.status, body: (await res.json()) as never, headers: res.headers };
}

describe('authentication and errors', () => {
  it('answers 401 without a key or with a wrong key, in Stripe error shape', async () => {
    const none = await raw('/v1/customers');
    assert.equal(none.status, 401);
    assert.equal(none.body.error?.type, 'invalid_request_error');
    assert.match(String(none.body.error?.message), /You did not provide an API key/);
    assert.match(none.headers.get('request-id') ?? '', /^req_/);

    const wrong = stripeClient(emulator.url, 'sk_test_not_the_right_key_1234', { maxNetworkRetries: 0 });
    await assert.rejects(wrong.customers.list(), (err: Stripe.errors.StripeError) => {
      assert.equal(err.type, 'StripeAuthenticationError');
      assert.equal(err.statusCode, 401);
      assert.match(err.message, /Invalid API Key provided: sk_test_\*+1234/);
      return true;
    });
    // Basic auth (curl -u sk_...:) works too.
    const basic = await raw('/v1/customers', {
      headers: { authorization: 'Basic ' + Buffer.from(`${emulator.apiKey}:`).toString('base64') },
    });
    assert.equal(basic.status, 200);
    assert.equal(basic.body.object, 'list');
  });

  it('answers unknown ids, unknown routes and bad params like Stripe', async () => {
    await assert.rejects(stripe.customers.retrieve('cus_missing'), (err: Stripe.errors.StripeError) => {
      assert.equal(err.type, 'StripeInvalidRequestError');
      assert.equal(err.statusCode, 404);
      assert.equal(err.code, 'resource_missing');
      assert.equal(err.param, 'id');
      assert.equal(err.message, "No such customer: 'cus_missing'");
      assert.equal(err.doc_url, 'https://stripe.com/docs/error-codes/resource-missing');
      assert.match(err.requestId ?? '', /^req_/);
      return true;
    });
    await assert.rejects(stripe.invoices.create({} as Stripe.InvoiceCreateParams), (err: Stripe.errors.StripeError) => {
      assert.equal(err.code, 'parameter_missing');
      assert.equal(err.param, 'customer');
      return true;
    });
    await assert.rejects(
      stripe.customers.create({ nonsense: 'x' } as Stripe.CustomerCreateParams),
      (err: Stripe.errors.StripeError) => err.code === 'parameter_unknown' && err.param === 'nonsense',
    );
    const unknown = await raw('/v1/nothing', { headers: { authorization: `Bearer ${emulator.apiKey}` } });
    assert.equal(unknown.status, 404);
    assert.match(String(unknown.body.error?.message), /Unrecognized request URL \(GET: \/v1\/nothing\)/);
    await assert.rejects(
      stripe.prices.create({ currency: 'usd', product: 'prod_missing', unit_amount: 1 }),
      (err: Stripe.errors.StripeError) => err.statusCode === 404 && err.param === 'product',
    );
  });

  it('accepts the pinned Stripe-Version and echoes it', async () => {
    const res = await raw('/v1/customers', {
      headers: { authorization: `Bearer ${emulator.apiKey}`, 'stripe-version': '2026-10-28.endive' },
    });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('stripe-version'), '2026-10-28.endive');
    const c = await stripe.customers.create({ name: 'v' });
    assert.equal(c.lastResponse.apiVersion, '2026-10-28.endive');
  });
});

describe('resources', () => {
  it('customers: create, retrieve, update metadata, list by email, delete', async () => {
    const c = await stripe.customers.create({
      email: 'x@example.com',
      name: 'X',
      metadata: { plan: 'pro', tier: '1' },
    });
    assert.match(c.id, /^cus_/);
    assert.deepEqual(c.metadata, { plan: 'pro', tier: '1' });
    const u = await stripe.customers.update(c.id, { metadata: { tier: '', region: 'eu' } });
    assert.deepEqual(u.metadata, { plan: 'pro', region: 'eu' });
    const r = await stripe.customers.retrieve(c.id);
    assert.equal((r as Stripe.Customer).email, 'x@example.com');
    await stripe.customers.create({ email: 'y@example.com' });
    const byEmail = await stripe.customers.list({ email: 'x@example.com' });
    assert.deepEqual(
      byEmail.data.map((x) => x.id),
      [c.id],
    );
    const d = await stripe.customers.del(c.id);
    assert.equal(d.deleted, true);
    const gone = await stripe.customers.retrieve(c.id);
    assert.equal(gone.deleted, true);
  });

  it('products and prices: licensed, metered (needs a meter), decimal unit amounts', async () => {
    const meter = await stripe.billing.meters.create({
      display_name: 'Req',
      event_name: 'req',
      default_aggregation: { formula: 'count' },
    });
    assert.match(meter.id, /^mtr_/);
    assert.equal(meter.customer_mapping.event_payload_key, 'stripe_customer_id');
    assert.equal(meter.value_settings.event_payload_key, 'value');
    assert.equal((await stripe.billing.meters.retrieve(meter.id)).event_name, 'req');
    const product = await stripe.products.create({ name: 'P', metadata: { k: 'v' } });
    assert.match(product.id, /^prod_/);
    const licensed = await stripe.prices.create({
      currency: 'usd',
      product: product.id,
      unit_amount: 2000,
      recurring: { interval: 'month' },
    });
    assert.equal(licensed.recurring?.usage_type, 'licensed');
    assert.equal(licensed.recurring?.meter, null);
    assert.equal(licensed.unit_amount_decimal?.toString(), '2000');
    const metered = await stripe.prices.create({
      currency: 'usd',
      product: product.id,
      unit_amount_decimal: stripe.Decimal.from('0.0125'),
      recurring: { interval: 'month', usage_type: 'metered', meter: meter.id },
    });
    assert.equal(metered.unit_amount, null);
    assert.equal(metered.unit_amount_decimal?.toString(), '0.0125');
    assert.equal(metered.recurring?.meter, meter.id);
    await assert.rejects(
      stripe.prices.create({
        currency: 'usd',
        product: product.id,
        unit_amount: 1,
        recurring: { interval: 'month', usage_type: 'metered' },
      }),
      (err: Stripe.errors.StripeError) => err.param === 'recurring[meter]',
    );
    const oneTime = await stripe.prices.create({ currency: 'usd', product_data: { name: 'Setup' }, unit_amount: 500 });
    assert.equal(oneTime.type, 'one_time');
    const listed = await stripe.prices.list({ product: product.id });
    assert.deepEqual(
      listed.data.map((p) => p.id),
      [metered.id, licensed.id],
    );
    const fetched = await stripe.prices.retrieve(metered.id, { expand: ['product'] });
    assert.equal((fetched.product as Stripe.Product).name, 'P');
    const meters = await stripe.billing.meters.list();
    assert.equal(meters.data.length, 1);
    const deactivated = await stripe.billing.meters.deactivate(meter.id);
    assert.equal(deactivated.status, 'inactive');
    await assert.rejects(
      stripe.billing.meterEvents.create({ event_name: 'req', payload: { stripe_customer_id: 'cus_x' } }),
      (err: Stripe.errors.StripeError) => err.param === 'event_name',
    );
  });

  it('meter events: 35-day window, customer and value checks, custom payload keys', async () => {
    const c = await stripe.customers.create({ name: 'M' });
    await stripe.billing.meters.create({
      display_name: 'GB',
      event_name: 'gb',
      default_aggregation: { formula: 'sum' },
      customer_mapping: { type: 'by_id', event_payload_key: 'account' },
      value_settings: { event_payload_key: 'gigabytes' },
    });
    const now = (await emulator.admin.clock()).now;
    const ok = await stripe.billing.meterEvents.create({
      event_name: 'gb',
      payload: { account: c.id, gigabytes: '1.25' },
      timestamp: now - 34 * 86400,
    });
    assert.equal(ok.object, 'billing.meter_event');
    assert.equal(ok.payload.gigabytes, '1.25');
    assert.ok(ok.identifier);
    await assert.rejects(
      stripe.billing.meterEvents.create({
        event_name: 'gb',
        payload: { account: c.id, gigabytes: '1' },
        timestamp: now - 36 * 86400,
      }),
      (err: Stripe.errors.StripeError) => err.param === 'timestamp',
    );
    await assert.rejects(
      stripe.billing.meterEvents.create({ event_name: 'gb', payload: { account: c.id, gigabytes: 'lots' } }),
      (err: Stripe.errors.StripeError) => err.param === 'payload[gigabytes]',
    );
    await assert.rejects(
      stripe.billing.meterEvents.create({ event_name: 'gb', payload: { account: 'cus_nobody', gigabytes: '1' } }),
      (err: Stripe.errors.StripeError) => err.code === 'resource_missing',
    );
    assert.equal((await emulator.admin.meterEvents()).length, 1);
  });
});

describe('pagination and expand', () => {
  it('pages with limit, starting_after, ending_before and auto-pagination', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 23; i++) ids.push((await stripe.customers.create({ name: `c${i}` })).id);
    const newest = [...ids].reverse();
    const first = await stripe.customers.list({ limit: 10 });
    assert.equal(first.object, 'list');
    assert.equal(first.url, '/v1/customers');
    assert.equal(first.has_more, true);
    assert.deepEqual(
      first.data.map((c) => c.id),
      newest.slice(0, 10),
    );
    const second = await stripe.customers.list({ limit: 10, starting_after: first.data[9].id });
    assert.deepEqual(
      second.data.map((c) => c.id),
      newest.slice(10, 20),
    );
    const third = await stripe.customers.list({ limit: 10, starting_after: second.data[9].id });
    assert.equal(third.has_more, false);
    assert.equal(third.data.length, 3);
    const back = await stripe.customers.list({ limit: 5, ending_before: second.data[0].id });
    assert.deepEqual(
      back.data.map((c) => c.id),
      newest.slice(5, 10),
    );
    assert.equal(back.has_more, true);
    const all = await stripe.customers.list({ limit: 4 }).autoPagingToArray({ limit: 100 });
    assert.deepEqual(
      all.map((c) => c.id),
      newest,
    );
    const defaults = await stripe.customers.list();
    assert.equal(defaults.data.length, 10);
    await assert.rejects(
      stripe.customers.list({ limit: 101 }),
      (err: Stripe.errors.StripeError) => err.param === 'limit',
    );
  });

  it('expands nested ids, in lists too', async () => {
    const seed = await emulator.admin.seed({ licensed_unit_amount: 1500 });
    const list = await stripe.invoices.list({ customer: seed.customer.id, expand: ['data.customer'] });
    assert.equal((list.data[0].customer as Stripe.Customer).id, seed.customer.id);
    const sub = await stripe.subscriptions.retrieve(seed.subscription.id, { expand: ['customer', 'latest_invoice'] });
    assert.equal((sub.customer as Stripe.Customer).object, 'customer');
    assert.equal((sub.latest_invoice as Stripe.Invoice).object, 'invoice');
    const inv = await stripe.invoices.retrieve(list.data[0].id, { expand: ['lines.data.pricing.price_details.price'] });
    const price = inv.lines.data[0].pricing?.price_details?.price as unknown as Stripe.Price;
    assert.equal(price.object, 'price');
    const items = await stripe.subscriptionItems.list({ subscription: seed.subscription.id });
    assert.equal(items.data.length, 2);
    assert.equal(items.url, '/v1/subscription_items');
    const item = await stripe.subscriptionItems.retrieve(items.data[0].id);
    assert.equal(item.subscription, seed.subscription.id);
  });
});

describe('idempotency', () => {
  it('replays the saved response for the same key and params, refuses other params', async () => {
    const first = await stripe.customers.create({ name: 'Idem' }, { idempotencyKey: 'key-1' });
    assert.equal(first.lastResponse.headers['idempotent-replayed'], undefined);
    const second = await stripe.customers.create({ name: 'Idem' }, { idempotencyKey: 'key-1' });
    assert.equal(second.id, first.id);
    assert.equal(second.lastResponse.headers['idempotent-replayed'], 'true');
    assert.equal(second.lastResponse.idempotencyKey, 'key-1');
    assert.equal((await stripe.customers.list()).data.length, 1);
    await assert.rejects(
      stripe.customers.create({ name: 'Other' }, { idempotencyKey: 'key-1' }),
      (err: Stripe.errors.StripeError) => {
        assert.equal(err.type, 'StripeIdempotencyError');
        assert.equal(err.statusCode, 400);
        assert.match(
          err.message,
          /Keys for idempotent requests can only be used with the same parameters they were first used with/,
        );
        return true;
      },
    );
    // The same key on another endpoint is refused too.
    await assert.rejects(
      stripe.products.create({ name: 'Idem' }, { idempotencyKey: 'key-1' }),
      (err: Stripe.errors.StripeError) => err.type === 'StripeIdempotencyError',
    );
    // Validation errors are not saved: the same key can be used after fixing the request.
    await assert.rejects(stripe.products.create({} as Stripe.ProductCreateParams, { idempotencyKey: 'key-2' }));
    const fixed = await stripe.products.create({ name: 'fixed' }, { idempotencyKey: 'key-2' });
    assert.equal(fixed.name, 'fixed');
    // State errors are saved: the replay is the same 400.
    const inv = await stripe.invoices.create({ customer: first.id });
    await stripe.invoices.finalizeInvoice(inv.id);
    for (let i = 0; i < 2; i++) {
      await assert.rejects(
        stripe.invoices.finalizeInvoice(inv.id, {}, { idempotencyKey: 'key-4' }),
        (err: Stripe.errors.StripeError) => {
          assert.equal(err.code, 'invoice_not_editable');
          assert.equal(err.headers?.['idempotent-replayed'], i === 0 ? undefined : 'true');
          return true;
        },
      );
    }
    const log = await emulator.admin.requests('/v1/customers');
    const keyed = log.filter((r) => r.idempotency_key === 'key-1');
    assert.deepEqual(
      keyed.map((r) => [r.status, r.idempotent_replayed]),
      [
        [200, false],
        [200, true],
        [400, false],
      ],
    );
  });
});
