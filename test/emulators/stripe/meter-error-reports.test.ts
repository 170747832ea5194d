// Meter error reports: meter events that Stripe accepts but cannot use come back as thin (v2) events
// through an event destination, signed, verified and fetched with the real `stripe` SDK.
import assert from 'node:assert/strict';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import type Stripe from 'stripe';
import { startStripeEmulator, type StripeEmulator } from '../../../emulators/stripe/index';
import { startReceiver, stripeClient, type Receiver } from './helpers';

let emulator: StripeEmulator;
let stripe: Stripe;
let receiver: Receiver;

before(async () => {
  // Reports only when the test asks: what one report holds does not depend on a timer.
  emulator = await startStripeEmulator({ port: 0, webhookRetryBaseMs: 20, meterErrorReportMs: 0 });
  stripe = stripeClient(emulator.url, emulator.apiKey);
});
beforeEach(async () => {
  await emulator.admin.reset();
  receiver = await startReceiver();
});
afterEach(async () => {
  await receiver.close();
});
after(async () => {
  await emulator.stop();
});

async function destination(events = ['v1.billing.meter.error_report_triggered', 'v1.billing.meter.no_meter_found']) {
  const created = await stripe.v2.core.eventDestinations.create({
    name: 'gate',
    type: 'webhook_endpoint',
    event_payload: 'thin',
    enabled_events: events,
    webhook_endpoint: { url: receiver.url },
    include: ['webhook_endpoint.signing_secret'],
  });
  const secret = created.webhook_endpoint?.signing_secret;
  assert.match(secret ?? '', /^whsec_/);
  return { id: created.id, secret: secret! };
}

async function apiCallsMeter() {
  const customer = await stripe.customers.create({ name: 'Meter errors' });
  const meter = await stripe.billing.meters.create({
    display_name: 'API calls',
    event_name: 'api_call',
    default_aggregation: { formula: 'sum' },
    customer_mapping: { type: 'by_id', event_payload_key: 'stripe_customer_id' },
    value_settings: { event_payload_key: 'value' },
  });
  return { customer, meter };
}

describe('meter error reports (thin events)', () => {
  it('acknowledges invalid meter events, drops them and reports them per meter, signed, with the full event behind', async () => {
    const { secret } = await destination();
    const { customer, meter } = await apiCallsMeter();
    const before = (await emulator.admin.clock()).now;
    for (let i = 0; i < 3; i++) {
      const ack = await stripe.billing.meterEvents.create({
        event_name: 'api_call',
        payload: { value: '1' },
        identifier: `no-customer-${i}`,
      });
      assert.equal(ack.object, 'billing.meter_event');
    }
    await stripe.billing.meterEvents.create({
      event_name: 'api_call',
      payload: { stripe_customer_id: customer.id, value: '1234567890123456' },
      identifier: 'too-many-digits',
    });
    await stripe.billing.meterEvents.create({
      event_name: 'api_call',
      payload: { stripe_customer_id: customer.id, value: '123456789012345' },
      identifier: 'fifteen-digits',
    });
    await stripe.billing.meterEvents.create({
      event_name: 'no_such_meter',
      payload: { stripe_customer_id: customer.id },
    });
    assert.deepEqual(
      (await emulator.admin.meterEvents()).map((e) => e.identifier),
      ['fifteen-digits'],
    );
    // A rejected identifier is taken, as for an accepted event.
    await assert.rejects(
      stripe.billing.meterEvents.create({
        event_name: 'api_call',
        payload: { value: '1' },
        identifier: 'no-customer-0',
      }),
      (err: Stripe.errors.StripeError) => err.code === 'resource_already_exists',
    );

    const ids = await emulator.admin.reportMeterErrors();
    assert.equal(ids.length, 2);
    await receiver.waitFor((all) => all.length === 2);
    const notifications = receiver.received.map((r) =>
      stripe.parseEventNotification(r.body, r.headers['stripe-signature'] as string, secret),
    );
    const report = notifications.find((n) => n.type === 'v1.billing.meter.error_report_triggered');
    const noMeter = notifications.find((n) => n.type === 'v1.billing.meter.no_meter_found');
    assert.ok(report && noMeter);
    const thinBody = JSON.parse(receiver.received[notifications.indexOf(report)].body) as Record<string, unknown>;
    assert.equal(thinBody.object, 'v2.core.event');
    assert.equal(thinBody.data, undefined, 'a thin notification carries no data');
    assert.deepEqual(report.related_object, {
      id: meter.id,
      type: 'billing.meter',
      url: `/v1/billing/meters/${meter.id}`,
    });

    const full = await report.fetchEvent();
    assert.equal(full.id, report.id);
    assert.equal(full.data.reason.error_count, 4);
    assert.equal(full.data.developer_message_summary, 'There are 4 invalid events');
    const codes = Object.fromEntries(full.data.reason.error_types.map((t) => [t.code, t]));
    assert.equal(codes.meter_event_no_customer_defined.error_count, 3);
    assert.equal(
      codes.meter_event_no_customer_defined.sample_errors[0].error_message,
      'Customer mapping key stripe_customer_id not found in payload.',
    );
    assert.equal(codes.meter_event_no_customer_defined.sample_errors[0].request.identifier, 'no-customer-0');
    assert.equal(codes.meter_event_value_too_many_digits.error_count, 1);
    assert.match(codes.meter_event_value_too_many_digits.sample_errors[0].error_message, new RegExp(customer.id));
    assert.ok(Date.parse(full.data.validation_start) >= before * 1000);
    assert.ok(Date.parse(full.data.validation_end) > Date.parse(full.data.validation_start));

    const noMeterFull = await stripe.v2.core.events.retrieve(noMeter.id);
    assert.equal(noMeterFull.type, 'v1.billing.meter.no_meter_found');
    assert.equal(
      (noMeterFull as Stripe.Events.V1BillingMeterNoMeterFoundEvent).data.reason.error_types[0].code,
      'no_meter',
    );

    // Reported once: nothing new until more events are rejected.
    assert.deepEqual(await emulator.admin.reportMeterErrors(), []);
  });

  it('sends only the types a destination enabled, retries a failed delivery, and refuses a forged signature', async () => {
    const { secret } = await destination(['v1.billing.meter.error_report_triggered']);
    await apiCallsMeter();
    let answers = 0;
    receiver.respond = () => (++answers === 1 ? 500 : 200);
    await stripe.billing.meterEvents.create({ event_name: 'api_call', payload: { value: '1' } });
    await stripe.billing.meterEvents.create({ event_name: 'other', payload: { value: '1' } });
    await emulator.admin.reportMeterErrors();
    await receiver.waitFor((all) => all.length === 2);
    const [first, second] = receiver.received;
    assert.equal(first.body, second.body, 'the retry sends the same notification');
    const n = stripe.parseEventNotification(second.body, second.headers['stripe-signature'] as string, secret);
    assert.equal(n.type, 'v1.billing.meter.error_report_triggered');
    assert.throws(() =>
      stripe.parseEventNotification(second.body, second.headers['stripe-signature'] as string, 'whsec_forged'),
    );
  });

  it('answers v2 errors: unknown event, bad destination, missing key', async () => {
    await assert.rejects(
      stripe.v2.core.events.retrieve('evt_test_nope'),
      (err: Stripe.errors.StripeError) => err.statusCode === 404,
    );
    await assert.rejects(
      stripe.v2.core.eventDestinations.create({
        name: 'x',
        type: 'webhook_endpoint',
        event_payload: 'snapshot',
        enabled_events: ['v1.billing.meter.error_report_triggered'],
        webhook_endpoint: { url: receiver.url },
      }),
      (err: Stripe.errors.StripeError) => err.statusCode === 400,
    );
    const res = await fetch(`${emulator.url}/v2/core/events/evt_test_nope`);
    assert.equal(res.status, 401);
  });
});
