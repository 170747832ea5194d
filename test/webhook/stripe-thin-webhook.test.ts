// POST /webhooks/stripe/thin through the real server and the Stripe emulator's event destination:
// meter events the emulator rejects come back as thin error reports, which the gate verifies with the
// SDK, fetches in full and stores per meter; a forged or malformed notification gets 400, stores nothing.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import Stripe from 'stripe';
import { startGateHarness, type GateHarness } from '../support/gate-harness';

interface StoredReport {
  event_id: string;
  event_type: string;
  meter_id: string | null;
  event_name: string | null;
  error_count: number;
  error_types: Array<{ code: string; count: number; sampleMessages: string[] }>;
  customer_ids: string[];
  validation_start: Date;
  validation_end: Date;
}

describe('POST /webhooks/stripe/thin', () => {
  let h: GateHarness;
  const thinUrl = () => `${h.gate.url}/webhooks/stripe/thin`;
  const stored = async () =>
    (
      await h.ledger.query<StoredReport>(
        'select * from invoice_gate.meter_error_reports order by validation_start, event_id',
      )
    ).rows;
  const waitForReports = async (n: number) => {
    const deadline = Date.now() + 10_000;
    for (;;) {
      const rows = await stored();
      if (rows.length >= n) return rows;
      if (Date.now() > deadline) throw new Error(`only ${rows.length} of ${n} reports stored`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };

  before(async () => {
    h = await startGateHarness({ worker: false });
  });
  after(async () => {
    await h?.stop();
  });

  test('stores each meter error report once, per meter, with codes, counts, samples, window and the customers named', async () => {
    const customer = await h.stripe.customers.create({ name: 'Rejected usage' });
    const meter = await h.stripe.billing.meters.create({
      display_name: 'API calls',
      event_name: 'api_call',
      default_aggregation: { formula: 'sum' },
      customer_mapping: { type: 'by_id', event_payload_key: 'stripe_customer_id' },
      value_settings: { event_payload_key: 'value' },
    });
    const clockBefore = (await h.stripeEmulator.admin.clock()).now;
    for (let i = 0; i < 4; i++) {
      await h.stripe.billing.meterEvents.create({ event_name: 'api_call', payload: { value: '1' } });
    }
    await h.stripe.billing.meterEvents.create({
      event_name: 'api_call',
      payload: { stripe_customer_id: customer.id, value: '12345678901234567' },
    });
    await h.stripe.billing.meterEvents.create({ event_name: 'api_calls_typo', payload: { value: '1' } });
    const ids = await h.stripeEmulator.admin.reportMeterErrors();
    assert.equal(ids.length, 2);

    const rows = await waitForReports(2);
    const report = rows.find((r) => r.event_type === 'v1.billing.meter.error_report_triggered');
    const noMeter = rows.find((r) => r.event_type === 'v1.billing.meter.no_meter_found');
    assert.ok(report && noMeter);
    assert.equal(report.meter_id, meter.id);
    assert.equal(report.event_name, 'api_call', "the meter's event_name, read with the report");
    assert.equal(report.error_count, 5);
    assert.deepEqual(
      report.error_types.map((t) => [t.code, t.count]),
      [
        ['meter_event_no_customer_defined', 4],
        ['meter_event_value_too_many_digits', 1],
      ],
    );
    assert.equal(
      report.error_types[0].sampleMessages[0],
      'Customer mapping key stripe_customer_id not found in payload.',
    );
    assert.deepEqual(report.customer_ids, [customer.id], 'the too-many-digits sample names the customer');
    assert.ok(report.validation_start.getTime() >= clockBefore * 1000);
    assert.ok(report.validation_end > report.validation_start);
    assert.equal(noMeter.meter_id, null);
    assert.equal(noMeter.event_name, null);
    assert.deepEqual(noMeter.customer_ids, [], 'a report that names nobody stores no customer');

    // A redelivery of the same notification (signed as the destination signs) stores nothing new.
    const full = (await (
      await fetch(`${h.stripeEmulator.url}/v2/core/events/${ids[0]}`, {
        headers: { authorization: `Bearer ${h.stripeEmulator.apiKey}` },
      })
    ).json()) as Record<string, unknown>;
    const { data: _data, ...envelope } = full;
    const again = JSON.stringify(envelope);
    const redelivered = await fetch(thinUrl(), {
      method: 'POST',
      body: again,
      headers: {
        'content-type': 'application/json',
        'stripe-signature': new Stripe('sk_test_x').webhooks.generateTestHeaderString({
          payload: again,
          secret: h.gate.services.stripe.thinWebhookSecret!,
        }),
      },
    });
    assert.equal(redelivered.status, 200);
    assert.equal((await stored()).length, 2);
  });

  test('refuses a forged, unsigned or malformed thin event with 400 and stores nothing', async () => {
    const before = (await stored()).length;
    const thin = JSON.stringify({
      id: 'evt_test_forged',
      object: 'v2.core.event',
      type: 'v1.billing.meter.error_report_triggered',
      created: new Date().toISOString(),
      livemode: false,
      related_object: { id: 'mtr_x', type: 'billing.meter', url: '/v1/billing/meters/mtr_x' },
    });
    const post = (body: string, headers: Record<string, string>) =>
      fetch(thinUrl(), { method: 'POST', body, headers: { 'content-type': 'application/json', ...headers } });

    const forgedSignature = new Stripe('sk_test_x').webhooks.generateTestHeaderString({
      payload: thin,
      secret: 'whsec_not_the_destinations',
    });
    const forged = await post(thin, { 'stripe-signature': forgedSignature });
    assert.equal(forged.status, 400);
    assert.equal(((await forged.json()) as { error: string }).error, 'invalid_signature');

    const unsigned = await post(thin, {});
    assert.equal(unsigned.status, 400);
    assert.equal(((await unsigned.json()) as { error: string }).error, 'missing_signature');

    // Signed with the right secret, but not a thin event: a v1 event, and JSON that is not an object.
    const secret = h.gate.services.stripe.thinWebhookSecret!;
    const signed = (payload: string) => new Stripe('sk_test_x').webhooks.generateTestHeaderString({ payload, secret });
    const v1 = JSON.stringify({ id: 'evt_1', object: 'event', type: 'invoice.created' });
    const wrongKind = await post(v1, { 'stripe-signature': signed(v1) });
    assert.equal(wrongKind.status, 400);
    assert.equal(((await wrongKind.json()) as { error: string }).error, 'invalid_event');
    const notJson = '{"id": ';
    const broken = await post(notJson, { 'stripe-signature': signed(notJson) });
    assert.equal(broken.status, 400);

    // Signed and well-formed, but Stripe has no such event behind it: nothing to store, Stripe retries.
    const unknown = await post(thin, { 'stripe-signature': signed(thin) });
    assert.equal(unknown.status, 503);

    assert.equal((await stored()).length, before);
  });
});
