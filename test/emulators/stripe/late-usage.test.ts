// Late usage: a meter event for the period of a renewal draft's metered line updates the draft
// (quantity, quantity_decimal, amount, totals) and sends invoice.updated with previous_attributes;
// finalized invoices never change.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type Stripe from 'stripe';
import { eventTypes, useEmulatorWithReceiver } from './helpers';

const suite = useEmulatorWithReceiver();

describe('late usage', () => {
  it('updates the draft line and totals and sends invoice.updated', async () => {
    const { stripe, emulator, receiver } = suite;
    const seed = await emulator.admin.seed({ webhook_url: receiver.url, metered_unit_amount_decimal: '2.5' });
    const customer = seed.customer.id as string;
    const start = seed.subscription.items.data[0].current_period_start as number;
    const end = seed.subscription.items.data[0].current_period_end as number;
    const usage = (value: string, timestamp: number) =>
      stripe.billing.meterEvents.create({
        event_name: 'api_requests',
        payload: { stripe_customer_id: customer, value },
        timestamp,
      });
    await usage('10', start + 100);
    await emulator.admin.advanceClockTo(end + 60);
    const draft = (await stripe.invoices.list({ customer, status: 'draft' })).data[0];
    const [line] = (await stripe.invoices.listLineItems(draft.id)).data;
    assert.equal(line.quantity_decimal?.toString(), '10');
    assert.equal(line.amount, 25);
    assert.equal(draft.total, 25);

    // Usage for the closed period, reported while the invoice is still a draft.
    await usage('3.3', end - 30);
    const updated = await stripe.invoices.retrieve(draft.id);
    const [newLine] = (await stripe.invoices.listLineItems(draft.id)).data;
    assert.equal(newLine.id, line.id);
    assert.equal(newLine.quantity_decimal?.toString(), '13.3');
    assert.equal(newLine.quantity, 13);
    assert.equal(newLine.amount, 33); // 13.3 x 2.5 = 33.25 -> 33
    assert.deepEqual(
      [updated.subtotal, updated.total, updated.amount_due, updated.amount_remaining, updated.status],
      [33, 33, 33, 33, 'draft'],
    );
    const events = (await stripe.events.list({ type: 'invoice.updated' })).data.filter(
      (e) => (e.data.object as Stripe.Invoice).id === draft.id,
    );
    assert.equal(events.length, 1);
    const prev = events[0].data.previous_attributes as Record<string, unknown> & {
      lines: { data: Array<{ id: string; quantity: number; amount: number; quantity_decimal: string }> };
    };
    assert.deepEqual(
      {
        amount_due: prev.amount_due,
        amount_remaining: prev.amount_remaining,
        subtotal: prev.subtotal,
        total: prev.total,
      },
      { amount_due: 25, amount_remaining: 25, subtotal: 25, total: 25 },
    );
    // Arrays are shown whole, with their previous values.
    assert.deepEqual(
      prev.lines.data.map((l) => [l.id, l.quantity, l.quantity_decimal, l.amount]),
      [[line.id, 10, '10', 25]],
    );
    assert.deepEqual(Object.keys(prev.lines), ['data']);
    assert.equal((events[0].data.object as Stripe.Invoice).total, 33);
    assert.deepEqual(events[0].request, { id: null, idempotency_key: null });
    await emulator.admin.waitForIdle();
    assert.ok(eventTypes(receiver.received).includes('invoice.updated'));

    // Usage outside the line's period (the next period) does not touch the draft.
    await usage('100', end + 5);
    assert.equal((await stripe.invoices.retrieve(draft.id)).total, 33);

    // Once finalized, the invoice never changes.
    await stripe.invoices.finalizeInvoice(draft.id);
    const updatesBefore = (await stripe.events.list({ type: 'invoice.updated' })).data.length;
    await usage('50', end - 20);
    const finalized = await stripe.invoices.retrieve(draft.id);
    assert.equal(finalized.status, 'open');
    assert.equal(finalized.total, 33);
    assert.equal((await stripe.events.list({ type: 'invoice.updated' })).data.length, updatesBefore);
  });
});
