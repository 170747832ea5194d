// The gate follows each invoice to the end, through the real webhook endpoint and the emulators:
// late usage reaching a passed draft, what Stripe finalizes, payment status delivered out of order, and
// the deadline hold when the check cannot finish in time.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { GateState } from '../../src/gate/types';
import { gateWorkflowId } from '../../src/workflows/definitions';
import { closePeriod, messageText, seedCustomer, startGateHarness, type GateHarness } from '../support/gate-harness';

describe('the gate follows the invoice to the end', () => {
  let h: GateHarness;
  before(async () => {
    h = await startGateHarness();
  });
  after(async () => {
    await h?.stop();
  });

  /** A customer on a `sum` meter whose period used `quantity`, in Stripe and in the ledger alike; the draft passed. */
  async function passedDraft(name: string, quantity: string) {
    const c = await seedCustomer(h, { name, formula: 'sum' });
    await h.addMeterEvents(c.customerId, c.eventName, [c.periodStart + 10], quantity);
    await h.addLedgerEvents(c.customerId, c.eventName, [c.periodStart + 10], quantity);
    const invoiceId = await closePeriod(h, c.periodEnd, c.customerId);
    const passed = await h.waitFor(invoiceId, (s) => s.status === 'passed' && s.phase === 'watching');
    assert.equal(passed.comparison?.lines[0].stripeQuantity, quantity);
    return { ...c, invoiceId };
  }

  const alertsAbout = async (invoiceId: string) =>
    (await h.slackEmulator.admin.messages('C0BILLING')).filter((m) => messageText(m).includes(invoiceId));

  test('late usage +30 % after a pass: paused and alerted with 1,300 vs 1,000; the ledger catches up: auto-released', async () => {
    const c = await passedDraft('Late Usage GmbH', '1000');
    await h.addMeterEvents(c.customerId, c.eventName, [c.periodStart + 20], '300');

    const held = await h.waitFor(
      c.invoiceId,
      (s) => s.status === 'held' && s.slackMessage !== null && s.phase === 'held',
    );
    assert.deepEqual(
      [held.comparison?.lines[0].stripeQuantity, held.comparison?.lines[0].ledgerQuantity],
      ['1300', '1000'],
    );
    const paused = await h.stripe.invoices.retrieve(c.invoiceId);
    assert.deepEqual([paused.status, paused.auto_advance], ['draft', false]);
    const [alert] = await alertsAbout(c.invoiceId);
    assert.match(messageText(alert), /1,300/);
    assert.match(messageText(alert), /Changed since the last check/);
    assert.match(messageText(alert), /gate_release/);

    // The ledger catches up, and Stripe sends another update (more late usage, counted on both sides).
    await h.addLedgerEvents(c.customerId, c.eventName, [c.periodStart + 20, c.periodStart + 30], '300');
    await h.ledger.query(
      `UPDATE billable_events SET value = 5 WHERE stripe_customer_id = $1 AND occurred_at = to_timestamp($2)`,
      [c.customerId, c.periodStart + 30],
    );
    await h.addMeterEvents(c.customerId, c.eventName, [c.periodStart + 30], '5');
    await h.temporal.skipTime(61_000); // at most one recheck a minute
    const released = await h.decision(c.invoiceId);
    assert.equal(released.status, 'auto_released');
    assert.equal((await h.stripe.invoices.retrieve(c.invoiceId)).status, 'open');
    const run = await h.gate.audit.getRun(c.invoiceId);
    assert.equal(run?.outcome, 'auto_released');
    assert.ok(run?.lines.some((l) => l.kind === 'late_usage' && l.stripeQuantity === '1300' && !l.passed));
  });

  test('Stripe finalizes a passed invoice with other quantities: one alert with both counts, no pause, an audit round', async () => {
    const c = await passedDraft('Finalized Differently Ltd', '100');
    await h.stripeEmulator.admin.setWebhookSettings({ hold: true });
    try {
      await h.addMeterEvents(c.customerId, c.eventName, [c.periodStart + 40], '30');
      await h.stripe.invoices.finalizeInvoice(c.invoiceId);
      await h.stripeEmulator.admin.clearRequests();
    } finally {
      await h.stripeEmulator.admin.setWebhookSettings({ hold: false });
    }

    const following = await h.waitFor(c.invoiceId, (s) => s.phase === 'following');
    assert.equal(following.status, 'passed');
    assert.deepEqual(
      [following.finalizedComparison?.lines[0].stripeQuantity, following.finalizedComparison?.lines[0].ledgerQuantity],
      ['130', '100'],
    );
    const alerts = await alertsAbout(c.invoiceId);
    assert.equal(alerts.length, 1);
    assert.match(messageText(alerts[0]), /Finalized invoice diverges/);
    assert.match(messageText(alerts[0]), /130/);
    assert.match(messageText(alerts[0]), /Suggested credit note/);
    assert.doesNotMatch(messageText(alerts[0]), /gate_release/);
    const writes = (await h.stripeEmulator.admin.requests()).filter(
      (r) => r.method === 'POST' && r.path === `/v1/invoices/${c.invoiceId}`,
    );
    assert.equal(writes.length, 0, 'no pause: a finalized invoice cannot be paused');
    const run = await h.gate.audit.getRun(c.invoiceId);
    assert.ok(run?.lines.some((l) => l.kind === 'finalized' && l.stripeQuantity === '130' && !l.passed));
    assert.equal(run?.invoiceStatus, 'open');
  });

  test('finalized -> paid, delivered twice and out of order: invoice_status ends paid and never goes back', async () => {
    const c = await passedDraft('Out Of Order SA', '50');
    await h.stripeEmulator.admin.setWebhookSettings({ hold: true });
    let finalizedId: string;
    let paidId: string;
    try {
      await h.stripe.invoices.finalizeInvoice(c.invoiceId);
      await h.stripe.invoices.pay(c.invoiceId, { paid_out_of_band: true });
      const events = (await h.stripeEmulator.admin.events()).filter((e) => e.data.object.id === c.invoiceId);
      finalizedId = events.find((e) => e.type === 'invoice.finalized')!.id;
      paidId = events.find((e) => e.type === 'invoice.paid')!.id;
      await h.stripeEmulator.admin.deliverEvents([paidId, finalizedId, paidId]);
    } finally {
      await h.stripeEmulator.admin.setWebhookSettings({ hold: false });
    }
    const result: GateState = await h.gate.client.workflow.getHandle(gateWorkflowId(c.invoiceId)).result();
    assert.deepEqual([result.invoiceStatus, result.phase], ['paid', 'ended']);
    const run = await h.gate.audit.getRun(c.invoiceId);
    assert.equal(run?.invoiceStatus, 'paid');
    assert.equal(run?.outcome, 'passed');
  });

  test('a payment failure is recorded before the invoice is paid', async () => {
    const c = await passedDraft('Card Declined Inc', '70');
    await h.stripe.invoices.finalizeInvoice(c.invoiceId);
    await h.waitFor(c.invoiceId, (s) => s.phase === 'following');
    await h.stripeEmulator.admin.failPayment(c.invoiceId);
    await h.waitFor(c.invoiceId, (s) => s.paymentFailures === 1);
    await h.stripe.invoices.pay(c.invoiceId, { paid_out_of_band: true });
    const result: GateState = await h.gate.client.workflow.getHandle(gateWorkflowId(c.invoiceId)).result();
    assert.equal(result.invoiceStatus, 'paid');
    const run = await h.gate.audit.getRun(c.invoiceId);
    assert.deepEqual([run?.invoiceStatus, run?.paymentFailures], ['paid', 1]);
  });
});

describe('the deadline hold (fail closed)', () => {
  let h: GateHarness;
  before(async () => {
    // Stripe finalizes 20 s after the webhook; the gate must have decided 10 s after it.
    h = await startGateHarness({ env: { GATE_DECIDE_MARGIN: '3590s' } });
    await h.stripeEmulator.admin.setBillingSettings({ gracePeriodSeconds: 20 });
  });
  after(async () => {
    await h?.stop();
  });

  test('Stripe reads fail for good, finalization 20 s away: paused before it finalizes, and the alert says why; reads recover: auto-advance on again', async () => {
    // A one-off draft on a metered price, so Stripe's clock stays on real time like the engine's.
    const now = (await h.stripeEmulator.admin.clock()).now;
    const customer = await h.stripe.customers.create({ name: 'Stripe Is Down Co' });
    const meter = await h.stripe.billing.meters.create({
      display_name: 'Deadline API calls',
      event_name: 'deadline_api_call',
      default_aggregation: { formula: 'sum' },
      customer_mapping: { type: 'by_id', event_payload_key: 'stripe_customer_id' },
      value_settings: { event_payload_key: 'value' },
    });
    const price = await h.stripe.prices.create({
      currency: 'usd',
      unit_amount: 2,
      recurring: { interval: 'month', usage_type: 'metered', meter: meter.id },
      product_data: { name: 'Deadline API calls' },
    });
    await h.stripe.invoiceItems.create({
      customer: customer.id,
      pricing: { price: price.id },
      quantity: 40,
      period: { start: now - 86_400, end: now - 3_600 },
    } as never);
    await h.addLedgerEvents(customer.id, 'deadline_api_call', [now - 7_200], '40');
    await h.stripeEmulator.admin.setFaults({ errorRate: 1, pathPrefix: '/v1/invoices/', method: 'GET' });
    let invoiceId: string;
    try {
      const draft = await h.stripe.invoices.create({
        customer: customer.id,
        pending_invoice_items_behavior: 'include',
        auto_advance: true,
      });
      invoiceId = draft.id!;
      const held = await h.waitFor(invoiceId, (s) => s.heldBecause === 'deadline' && s.slackMessage !== null, 30_000);
      assert.match(held.reason ?? '', /could not complete before Stripe's deadline: Stripe has not answered/);
      const paused = await h.stripeEmulator.admin.invoice(invoiceId);
      assert.deepEqual(
        [paused.status, paused.auto_advance, paused.metadata.invoice_gate_status],
        ['draft', false, 'held'],
      );
      const alert = await h.slackEmulator.admin.message(held.slackMessage!.channel, held.slackMessage!.ts);
      assert.match(messageText(alert), /Held: the check could not complete/);

      // Stripe's 20 s pass: the paused draft is not finalized.
      await new Promise((resolve) => setTimeout(resolve, 12_000));
      assert.equal((await h.stripeEmulator.admin.invoice(invoiceId)).status, 'draft');
    } finally {
      await h.stripeEmulator.admin.clearFaults();
    }

    const passed = await h.waitFor(invoiceId, (s) => s.phase === 'watching', 60_000);
    assert.equal(passed.status, 'passed');
    assert.equal((await h.stripeEmulator.admin.invoice(invoiceId)).auto_advance, true);
    const updated = await h.slackEmulator.admin.message(passed.slackMessage!.channel, passed.slackMessage!.ts);
    assert.match(messageText(updated), /Check completed: within tolerance/);
    assert.match(messageText(updated), /Auto-advance is on again/);
    assert.doesNotMatch(messageText(updated), /gate_release/);
    const run = await h.gate.audit.getRun(invoiceId);
    assert.equal(run?.outcome, 'passed');
  });
});
