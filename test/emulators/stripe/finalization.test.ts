// Automatic finalization of drafts through the real `stripe` package: automatically_finalizes_at
// on renewal drafts, the API parameter (custom time, not moved by webhook failures), pausing and
// re-enabling, the grace period setting and the admin "finalize this draft N seconds from now".
import assert from 'node:assert/strict';
import { beforeEach, describe, it } from 'node:test';
import type Stripe from 'stripe';
import { startReceiver, useEmulatorWithReceiver } from './helpers';

const suite = useEmulatorWithReceiver();

beforeEach(async () => {
  await suite.emulator.admin.reset();
});

/** A customer's renewal draft with some usage: seed (with the suite's receiver) and close the first period. */
async function renewalDraft(after = 60): Promise<{ draft: Stripe.Invoice; customer: string }> {
  const seed = await suite.emulator.admin.seed({ webhook_url: suite.receiver.url });
  const item = seed.subscription.items.data[0];
  await suite.stripe.billing.meterEvents.create({
    event_name: seed.meter.event_name,
    payload: { stripe_customer_id: seed.customer.id, value: '7' },
    timestamp: (item.current_period_start as number) + 10,
  });
  await suite.emulator.admin.advanceClockTo((item.current_period_end as number) + after);
  const draft = (await suite.stripe.invoices.list({ customer: seed.customer.id, status: 'draft' })).data[0];
  assert.equal(draft.billing_reason, 'subscription_cycle');
  return { draft, customer: seed.customer.id };
}

async function eventsFor(invoiceId: string, type: string): Promise<Stripe.Event[]> {
  const list = await suite.stripe.events.list({ type, limit: 100 });
  return list.data.filter((e) => (e.data.object as Stripe.Invoice).id === invoiceId);
}

describe('automatic finalization', () => {
  it('finalizes a renewal draft when the clock passes automatically_finalizes_at, unless paused', async () => {
    const { draft } = await renewalDraft();
    // One hour after invoice.created was answered with a 2xx (webhooks_delivered_at).
    assert.ok(draft.webhooks_delivered_at);
    assert.equal(draft.automatically_finalizes_at, draft.webhooks_delivered_at + 3600);
    await suite.emulator.admin.advanceClockTo(draft.automatically_finalizes_at! - 1);
    assert.equal((await suite.stripe.invoices.retrieve(draft.id)).status, 'draft');
    await suite.emulator.admin.advanceClockTo(draft.automatically_finalizes_at!);
    const open = await suite.stripe.invoices.retrieve(draft.id);
    assert.equal(open.status, 'open');
    assert.equal(open.automatically_finalizes_at, null);
    assert.equal(open.status_transitions.finalized_at, draft.automatically_finalizes_at);
    const [finalized] = await eventsFor(draft.id, 'invoice.finalized');
    assert.equal((finalized.data.object as Stripe.Invoice).status, 'open');
    assert.deepEqual(finalized.request, { id: null, idempotency_key: null });

    // A paused draft is never finalized automatically; re-enabling schedules one grace period later.
    const second = await renewalDraft();
    const paused = await suite.stripe.invoices.update(second.draft.id, { auto_advance: false });
    assert.equal(paused.automatically_finalizes_at, null);
    await suite.emulator.admin.advanceClock(10 * 86400);
    assert.equal((await suite.stripe.invoices.retrieve(second.draft.id)).status, 'draft');
    const now = (await suite.emulator.admin.clock()).now;
    const resumed = await suite.stripe.invoices.update(second.draft.id, { auto_advance: true });
    assert.ok(
      resumed.automatically_finalizes_at! >= now + 3600 && resumed.automatically_finalizes_at! <= now + 3600 + 5,
    );
    assert.equal(resumed.status, 'draft');
    await suite.emulator.admin.advanceClockTo(resumed.automatically_finalizes_at!);
    assert.equal((await suite.stripe.invoices.retrieve(second.draft.id)).status, 'open');
  });

  it('takes automatically_finalizes_at as an API parameter, not moved by webhook failures', async (context) => {
    const { draft } = await renewalDraft();
    const now = (await suite.emulator.admin.clock()).now;
    const moved = await suite.stripe.invoices.update(draft.id, { automatically_finalizes_at: now + 600 });
    assert.equal(moved.automatically_finalizes_at, now + 600);
    const [updated] = await eventsFor(draft.id, 'invoice.updated');
    assert.deepEqual(updated.data.previous_attributes, {
      automatically_finalizes_at: draft.automatically_finalizes_at,
    });
    await suite.emulator.admin.advanceClockTo(now + 599);
    assert.equal((await suite.stripe.invoices.retrieve(draft.id)).status, 'draft');
    await suite.emulator.admin.advanceClockTo(now + 600);
    assert.equal((await suite.stripe.invoices.retrieve(draft.id)).status, 'open');

    const invalid = async (params: Stripe.InvoiceUpdateParams, invoice: string) =>
      assert.rejects(suite.stripe.invoices.update(invoice, params), (err: Stripe.errors.StripeError) => {
        assert.equal(err.statusCode, 400);
        assert.equal(err.param, 'automatically_finalizes_at');
        return true;
      });
    const other = await renewalDraft();
    const t = (await suite.emulator.admin.clock()).now;
    await invalid({ automatically_finalizes_at: t - 10 }, other.draft.id);
    await invalid({ automatically_finalizes_at: t + 6 * 366 * 86400 }, other.draft.id);
    await invalid({ auto_advance: false, automatically_finalizes_at: t + 60 }, other.draft.id);
    // A refused update changes nothing.
    assert.equal((await suite.stripe.invoices.retrieve(other.draft.id)).auto_advance, true);
    await assert.rejects(
      suite.stripe.invoices.update(draft.id, { automatically_finalizes_at: t + 60 }),
      (err: Stripe.errors.StripeError) => {
        assert.equal(err.code, 'invoice_not_editable');
        return true;
      },
    );

    // At creation: an endpoint that never answers invoice.created with a 2xx does not delay it.
    const down = await startReceiver();
    // Closed however the test ends: a receiver left listening keeps the test process alive.
    context.after(() => down.close());
    down.respond = () => 500;
    await suite.emulator.admin.setWebhookSettings({ maxAttempts: 2, retryBaseMs: 5 });
    await suite.stripe.webhookEndpoints.create({ url: down.url, enabled_events: ['invoice.created'] });
    const customer = await suite.stripe.customers.create({ name: 'Scheduled' });
    const t2 = (await suite.emulator.admin.clock()).now;
    const scheduled = await suite.stripe.invoices.create({
      customer: customer.id,
      auto_advance: true,
      automatically_finalizes_at: t2 + 300,
    });
    await suite.stripe.invoiceItems.create({
      customer: customer.id,
      invoice: scheduled.id,
      amount: 400,
      currency: 'usd',
    });
    assert.equal(scheduled.automatically_finalizes_at, t2 + 300);
    await suite.emulator.admin.waitForIdle();
    assert.equal((await suite.stripe.invoices.retrieve(scheduled.id)).automatically_finalizes_at, t2 + 300);
    await suite.emulator.admin.advanceClockTo(t2 + 300);
    assert.equal((await suite.stripe.invoices.retrieve(scheduled.id)).status, 'open');
  });

  it('uses the configured grace period', async () => {
    const settings = await suite.emulator.admin.setBillingSettings({ gracePeriodSeconds: 5 });
    assert.deepEqual(settings, {
      gracePeriodSeconds: 5,
      noWebhookResponseFinalizeSeconds: 72 * 3600,
      autoPayDelaySeconds: 3600,
    });
    const { draft } = await renewalDraft(1);
    assert.equal(draft.automatically_finalizes_at, draft.webhooks_delivered_at! + 5);
    await suite.emulator.admin.advanceClockTo(draft.automatically_finalizes_at!);
    assert.equal((await suite.stripe.invoices.retrieve(draft.id)).status, 'open');
    await suite.emulator.admin.reset();
    assert.equal((await suite.emulator.admin.billingSettings()).gracePeriodSeconds, 3600);
  });

  it('finalizes a draft N seconds from now through the admin API, in real time too', async () => {
    const { draft } = await renewalDraft();
    const now = (await suite.emulator.admin.clock()).now;
    // Deterministic: at an emulated time, reached by advancing the clock. No event is sent.
    const updatesBefore = (await eventsFor(draft.id, 'invoice.updated')).length;
    const scheduled = await suite.emulator.admin.finalizeDraftAt(draft.id, now + 120);
    assert.equal(scheduled.automatically_finalizes_at, now + 120);
    assert.equal((await eventsFor(draft.id, 'invoice.updated')).length, updatesBefore);
    await suite.emulator.admin.advanceClockTo(now + 120);
    assert.equal((await suite.stripe.invoices.retrieve(draft.id)).status, 'open');
    await assert.rejects(suite.emulator.admin.finalizeDraftIn(draft.id, 1), /Only drafts/);

    // Real time: one second from now, with no clock advancing; the background ticker finalizes it.
    const other = await renewalDraft();
    const before = (await suite.emulator.admin.clock()).now;
    const soon = await suite.emulator.admin.finalizeDraftIn(other.draft.id, 1);
    assert.ok(soon.automatically_finalizes_at >= before + 1 && soon.automatically_finalizes_at <= before + 2);
    const deadline = Date.now() + 10_000;
    let status = 'draft';
    while (status === 'draft' && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
      status = (await suite.stripe.invoices.retrieve(other.draft.id)).status!;
    }
    assert.equal(status, 'open');
    assert.equal((await eventsFor(other.draft.id, 'invoice.finalized')).length, 1);

    const third = await renewalDraft();
    await suite.stripe.invoices.update(third.draft.id, { auto_advance: false });
    await assert.rejects(suite.emulator.admin.finalizeDraftIn(third.draft.id, 5), /auto_advance=false/);
  });
});
