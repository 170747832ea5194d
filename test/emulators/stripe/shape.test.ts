// Every object the emulator returns has every key of Stripe's own fixture (fixtures3.json, the parts
// used copied to fixtures/stripe-fixtures3.json) for that resource with the same JSON type (null
// allowed where the fixture or the pinned SDK's type allows it), and every extra key exists in the
// pinned `stripe` package's types.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type Stripe from 'stripe';
import type ts from 'typescript';
import type { StripeEmulator } from '../../../emulators/stripe/index';
import { SdkTypes } from './sdk-types';
import { startAll, startReceiver, type Receiver } from './helpers';

type Json = null | string | number | boolean | Json[] | { [k: string]: Json };
// The resources this test needs, copied into the repository from Stripe's fixtures3.json (see fixtures/README.md).
const FIXTURES_PATH = join(__dirname, 'fixtures', 'stripe-fixtures3.json');
const FIXTURES = JSON.parse(readFileSync(FIXTURES_PATH, 'utf8')).resources as Record<string, Json>;

let emulator: StripeEmulator;
let stripe: Stripe;
let receiver: Receiver;
let sdk: SdkTypes;
const objects: Record<string, { sdkType: string; value: Json }> = {};

function kind(v: Json): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  return typeof v;
}

/** Differences between a fixture and our object, as readable strings. */
function compare(fixture: Json, ours: Json, type: ts.Type | undefined, path: string, out: string[]): void {
  if (fixture === null) return;
  if (ours === null) {
    if (!type) out.push(`${path}: null where the fixture has ${kind(fixture)} and the SDK type is unknown`);
    else if (!sdk.nullable(type)) out.push(`${path}: null, but the SDK type is not nullable`);
    return;
  }
  // Expandable fields are either an id or the object; the fixture and we may differ in which.
  if (kind(fixture) !== kind(ours)) {
    out.push(`${path}: ${kind(ours)} where the fixture has ${kind(fixture)}`);
    return;
  }
  if (Array.isArray(fixture) && Array.isArray(ours)) {
    if (fixture.length > 0 && ours.length > 0)
      compare(fixture[0], ours[0], type && sdk.element(type), `${path}[0]`, out);
    return;
  }
  if (typeof fixture === 'object' && typeof ours === 'object' && !Array.isArray(ours)) {
    const f = fixture as Record<string, Json>;
    const o = ours as Record<string, Json>;
    // metadata-like maps have free keys.
    if (path.endsWith('.metadata') || path.endsWith('.payload')) return;
    const objectType = type && sdk.objectPart(type);
    for (const key of Object.keys(f)) {
      if (!(key in o)) {
        if (!(objectType && sdk.optional(objectType, key))) out.push(`${path}.${key}: missing`);
        continue;
      }
      compare(f[key], o[key], objectType && sdk.property(objectType, key), `${path}.${key}`, out);
    }
    for (const key of Object.keys(o)) {
      if (key in f || !objectType) continue;
      if (!sdk.property(objectType, key)) out.push(`${path}.${key}: extra key not in the SDK type`);
    }
  }
}

before(async () => {
  ({ emulator, stripe } = await startAll());
  receiver = await startReceiver();
  const endpoint = await stripe.webhookEndpoints.create({
    url: receiver.url,
    enabled_events: ['invoice.created'],
    description: 'shape',
  });
  const seed = await emulator.admin.seed({ licensed_unit_amount: 2500 });
  await stripe.billing.meterEvents.create({
    event_name: 'api_requests',
    payload: { stripe_customer_id: seed.customer.id, value: '3' },
  });
  await emulator.admin.advanceClockTo((seed.subscription.items.data[0].current_period_end as number) + 60);
  const draft = (await stripe.invoices.list({ customer: seed.customer.id, status: 'draft' })).data[0];
  const invoiceItem = await stripe.invoiceItems.create({
    customer: seed.customer.id,
    invoice: draft.id,
    amount: 99,
    currency: 'usd',
    description: 'extra',
    period: { start: draft.period_start, end: draft.period_end },
  });
  const invoice = await stripe.invoices.retrieve(draft.id);
  const s0 = Math.floor(draft.period_start / 60) * 60;
  const summaries = await stripe.billing.meters.listEventSummaries(seed.meter.id, {
    customer: seed.customer.id,
    start_time: s0,
    end_time: s0 + 3600 * 24 * 40,
  });
  const subscription = await stripe.subscriptions.retrieve(seed.subscription.id);
  const licensedItem = subscription.items.data.find((i) => i.price.recurring?.usage_type === 'licensed')!;
  const event = (await stripe.events.list({ type: 'invoice.created', limit: 1 })).data[0];
  const add = (name: string, sdkType: string, value: unknown) =>
    (objects[name] = {
      sdkType,
      value: JSON.parse(JSON.stringify(value, (k, v) => (k === 'lastResponse' ? undefined : v))) as Json,
    });
  add('customer', 'Stripe.Customer', await stripe.customers.retrieve(seed.customer.id));
  add('product', 'Stripe.Product', await stripe.products.retrieve(seed.product.id));
  add('price', 'Stripe.Price', await stripe.prices.retrieve(seed.licensed_price!.id));
  add('billing.meter', 'Stripe.Billing.Meter', await stripe.billing.meters.retrieve(seed.meter.id));
  add('billing.meter_event_summary', 'Stripe.Billing.MeterEventSummary', summaries.data[0]);
  add('subscription', 'Stripe.Subscription', subscription);
  add('subscription_item', 'Stripe.SubscriptionItem', await stripe.subscriptionItems.retrieve(licensedItem.id));
  // Raw JSON (the SDK turns decimal strings into its Decimal class).
  const rawGet = async (path: string) =>
    (await fetch(emulator.url + path, { headers: { authorization: `Bearer ${emulator.apiKey}` } })).json();
  add('invoice', 'Stripe.Invoice', await rawGet(`/v1/invoices/${invoice.id}`));
  add(
    'line_item',
    'Stripe.InvoiceLineItem',
    ((await rawGet(`/v1/invoices/${invoice.id}/lines`)) as { data: unknown[] }).data[0],
  );
  add('invoiceitem', 'Stripe.InvoiceItem', await rawGet(`/v1/invoiceitems/${invoiceItem.id}`));
  add('webhook_endpoint', 'Stripe.WebhookEndpoint', await stripe.webhookEndpoints.retrieve(endpoint.id));
  add('event', 'Stripe.Event', event);
  sdk = new SdkTypes([...new Set(Object.values(objects).map((o) => o.sdkType))]);
});
after(async () => {
  await emulator.stop();
  await receiver.close();
});

describe('object shapes match fixtures3.json and the stripe package types', () => {
  for (const name of [
    'customer',
    'product',
    'price',
    'billing.meter',
    'billing.meter_event_summary',
    'subscription',
    'subscription_item',
    'invoice',
    'line_item',
    'invoiceitem',
    'webhook_endpoint',
    'event',
  ]) {
    it(name, () => {
      const { sdkType, value } = objects[name];
      const fixture = FIXTURES[name] as Record<string, Json>;
      const problems: string[] = [];
      let ours = value;
      let fix: Json = fixture;
      if (name === 'event') {
        // The fixture's event wraps a plan; compare the envelope, and data.object separately below.
        fix = { ...fixture, data: {} };
        ours = { ...(value as Record<string, Json>), data: {} };
      }
      compare(fix, ours, sdk.root(sdkType), name, problems);
      assert.deepEqual(problems, []);
      assert.equal((value as Record<string, Json>).object, fixture.object);
      assert.match(
        String((value as Record<string, Json>).id ?? 'none'),
        /^(cus|prod|price|mtr|mtrusg|sub|si|in|il|ii|we|evt)_|^none$/,
      );
    });
  }

  it('event.data.object of invoice.created is an invoice in the same shape', () => {
    const event = objects.event.value as { data: { object: Json } };
    const problems: string[] = [];
    compare(FIXTURES.invoice, event.data.object, sdk.root('Stripe.Invoice'), 'event.data.object', problems);
    assert.deepEqual(problems, []);
  });

  it('ids carry Stripe prefixes', () => {
    const prefixes: Record<string, string> = {
      customer: 'cus_',
      product: 'prod_',
      price: 'price_',
      'billing.meter': 'mtr_',
      subscription: 'sub_',
      subscription_item: 'si_',
      invoice: 'in_',
      line_item: 'il_',
      invoiceitem: 'ii_',
      webhook_endpoint: 'we_',
      event: 'evt_',
    };
    for (const [name, prefix] of Object.entries(prefixes)) {
      assert.ok(String((objects[name].value as { id: string }).id).startsWith(prefix), name);
    }
  });
});
