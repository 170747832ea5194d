// Who caused an event: every event carries `request: { id, idempotency_key }` of the API call that
// caused it (the `request-id` header of that call), a change made in the Dashboard carries a request
// of Stripe's own, and what Stripe does by itself (automatic finalization, payment by the clock) has
// `request.id: null`. This is what tells an app its own changes from anyone else's.
import assert from 'node:assert/strict';
import { beforeEach, describe, it } from 'node:test';
import type Stripe from 'stripe';
import { useEmulatorWithReceiver } from './helpers';

const suite = useEmulatorWithReceiver();

beforeEach(async () => {
  await suite.emulator.admin.reset();
});

/** A one-off draft with one line, auto_advance on, and a webhook endpoint listening to every event. */
async function draft(): Promise<{ invoice: Stripe.Invoice; secret: string }> {
  const endpoint = await suite.stripe.webhookEndpoints.create({ url: suite.receiver.url, enabled_events: ['*'] });
  const customer = await suite.stripe.customers.create({ name: 'Request Ids' });
  const invoice = await suite.stripe.invoices.create({ customer: customer.id, auto_advance: true });
  await suite.stripe.invoiceItems.create({ customer: customer.id, invoice: invoice.id, amount: 1250, currency: 'usd' });
  return { invoice, secret: endpoint.secret! };
}

async function eventsOf(invoiceId: string, type: string): Promise<Stripe.Event[]> {
  const list = await suite.stripe.events.list({ type, limit: 100 });
  return list.data.filter((e) => (e.data.object as Stripe.Invoice).id === invoiceId).reverse();
}

function previousAutoAdvance(event: Stripe.Event): boolean | undefined {
  return (event.data.previous_attributes as Partial<Stripe.Invoice> | undefined)?.auto_advance;
}

/** The event as the webhook endpoint received it, verified with the endpoint's secret. */
async function delivered(eventId: string, secret: string): Promise<Stripe.Event> {
  await suite.emulator.admin.waitForIdle();
  const r = suite.receiver.received.find((x) => x.body.includes(`"id": "${eventId}"`));
  assert.ok(r, `delivery of ${eventId}`);
  return suite.stripe.webhooks.constructEvent(r.body, r.headers['stripe-signature'] as string, secret);
}

describe('the request behind an event', () => {
  it("updating auto_advance on a draft: invoice.updated with previous_attributes and the call's request", async () => {
    const { invoice, secret } = await draft();
    const paused = await suite.stripe.invoices.update(
      invoice.id,
      { auto_advance: false },
      { idempotencyKey: `pause-${invoice.id}` },
    );
    const pauseRequest = paused.lastResponse.requestId;
    assert.match(pauseRequest, /^req_/);
    const [updated] = await eventsOf(invoice.id, 'invoice.updated');
    assert.deepEqual(updated.request, { id: pauseRequest, idempotency_key: `pause-${invoice.id}` });
    assert.equal(previousAutoAdvance(updated), true);
    assert.equal((updated.data.object as Stripe.Invoice).auto_advance, false);
    assert.deepEqual((await delivered(updated.id, secret)).request, updated.request);

    // Turning it back on is another request (with the key stripe-node made up for its retries).
    const resumed = await suite.stripe.invoices.update(invoice.id, { auto_advance: true });
    const events = await eventsOf(invoice.id, 'invoice.updated');
    assert.equal(events.length, 2);
    assert.match(resumed.lastResponse.idempotencyKey ?? '', /^stripe-node-retry-/);
    assert.deepEqual(events[1].request, {
      id: resumed.lastResponse.requestId,
      idempotency_key: resumed.lastResponse.idempotencyKey,
    });
    assert.equal(previousAutoAdvance(events[1]), false);

    // A retry with the same key replays the answer and causes no new event.
    const replay = await suite.stripe.invoices.update(
      invoice.id,
      { auto_advance: false },
      { idempotencyKey: `pause-${invoice.id}` },
    );
    assert.equal(replay.lastResponse.headers['original-request'], pauseRequest);
    assert.equal((await eventsOf(invoice.id, 'invoice.updated')).length, 2);
  });

  it("POST /v1/invoices/:id/finalize: invoice.finalized carries that call's request id", async () => {
    const { invoice, secret } = await draft();
    const finalized = await suite.stripe.invoices.finalizeInvoice(invoice.id, {}, { idempotencyKey: 'fin-1' });
    const [event] = await eventsOf(invoice.id, 'invoice.finalized');
    assert.deepEqual(event.request, { id: finalized.lastResponse.requestId, idempotency_key: 'fin-1' });
    assert.deepEqual((await delivered(event.id, secret)).request, event.request);
    const log = await suite.emulator.admin.requests('/v1/invoices');
    assert.equal(log.find((r) => r.request_id === event.request?.id)?.path, `/v1/invoices/${invoice.id}/finalize`);
  });

  it('automatic finalization and the payment that follows have request.id null', async () => {
    const { invoice, secret } = await draft();
    const now = (await suite.emulator.admin.clock()).now;
    await suite.emulator.admin.finalizeDraftAt(invoice.id, now + 60);
    await suite.emulator.admin.advanceClockTo(now + 60);
    const [finalized] = await eventsOf(invoice.id, 'invoice.finalized');
    assert.deepEqual(finalized.request, { id: null, idempotency_key: null });
    assert.deepEqual((await delivered(finalized.id, secret)).request, { id: null, idempotency_key: null });
    // Stripe then charges the customer by itself, one hour later.
    await suite.emulator.admin.advanceClock(3600);
    const [paid] = await eventsOf(invoice.id, 'invoice.paid');
    assert.deepEqual(paid.request, { id: null, idempotency_key: null });
  });

  it('a change made in the Dashboard carries a request of its own, not one the app sent', async () => {
    const { invoice } = await draft();
    const paused = await suite.stripe.invoices.update(invoice.id, { auto_advance: false }, { idempotencyKey: 'gate' });

    // Someone turns auto-advance back on in the Dashboard, then finalizes the invoice there.
    const resumed = await suite.emulator.admin.dashboard(`/v1/invoices/${invoice.id}`, { auto_advance: true });
    assert.equal(resumed.result.auto_advance, true);
    const finalized = await suite.emulator.admin.dashboard(`/v1/invoices/${invoice.id}/finalize`);
    assert.equal(finalized.result.status, 'open');
    for (const { request } of [resumed, finalized]) {
      assert.match(request.id, /^req_/);
      assert.notEqual(request.id, paused.lastResponse.requestId);
      assert.match(request.idempotency_key ?? '', /^[0-9a-f-]{36}$/);
    }
    const updates = await eventsOf(invoice.id, 'invoice.updated');
    assert.deepEqual(
      updates.map((e) => [e.request?.id, previousAutoAdvance(e)]),
      [
        [paused.lastResponse.requestId, true],
        [resumed.request.id, false],
      ],
    );
    const [finalizedEvent] = await eventsOf(invoice.id, 'invoice.finalized');
    assert.deepEqual(finalizedEvent.request, finalized.request);

    const log = await suite.emulator.admin.requests('/v1/invoices');
    const dashboardCalls = log.filter((r) => r.source === 'dashboard');
    assert.deepEqual(
      dashboardCalls.map((r) => [r.request_id, r.method, r.path, r.status]),
      [
        [resumed.request.id, 'POST', `/v1/invoices/${invoice.id}`, 200],
        [finalized.request.id, 'POST', `/v1/invoices/${invoice.id}/finalize`, 200],
      ],
    );
    // Dashboard changes follow the API's rules: a second finalization is refused (and logged).
    await assert.rejects(
      suite.emulator.admin.dashboard(`/v1/invoices/${invoice.id}/finalize`),
      /400 .*invoice_not_editable/,
    );
    assert.equal((await eventsOf(invoice.id, 'invoice.finalized')).length, 1);
    assert.equal((await suite.emulator.admin.requests('/v1/invoices')).filter((r) => r.source).length, 3);
  });
});
