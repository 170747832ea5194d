// GET /v1/invoices through the real `stripe` package: status, customer and created filters
// (=ts, gt, gte, lt, lte) combined, newest first, starting_after paging and auto-pagination.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type Stripe from 'stripe';
import { useEmulatorWithReceiver } from './helpers';

const suite = useEmulatorWithReceiver();

describe('invoice listing', () => {
  it('filters by status, customer and created, newest first, and pages', async () => {
    const { stripe, emulator } = suite;
    const a = await stripe.customers.create({ name: 'A' });
    const b = await stripe.customers.create({ name: 'B' });
    // 100 emulated seconds apart, so every invoice has its own `created`.
    const a1 = await stripe.invoices.create({ customer: a.id });
    await emulator.admin.advanceClock(100);
    const a2 = await stripe.invoices.create({ customer: a.id });
    await emulator.admin.advanceClock(100);
    const b1 = await stripe.invoices.create({ customer: b.id });
    await emulator.admin.advanceClock(100);
    const a3 = await stripe.invoices.create({ customer: a.id });
    await stripe.invoiceItems.create({ customer: a.id, invoice: a3.id, amount: 500, currency: 'usd' });
    await stripe.invoices.finalizeInvoice(a3.id);
    assert.ok(a1.created < a2.created && a2.created < b1.created && b1.created < a3.created);
    const ids = (list: Stripe.ApiList<Stripe.Invoice>) => list.data.map((i) => i.id);

    assert.deepEqual(ids(await stripe.invoices.list()), [a3.id, b1.id, a2.id, a1.id]);
    assert.deepEqual(ids(await stripe.invoices.list({ status: 'draft' })), [b1.id, a2.id, a1.id]);
    assert.deepEqual(ids(await stripe.invoices.list({ status: 'open' })), [a3.id]);
    assert.deepEqual(ids(await stripe.invoices.list({ customer: a.id, status: 'draft' })), [a2.id, a1.id]);
    assert.deepEqual(ids(await stripe.invoices.list({ created: a2.created })), [a2.id]);
    assert.deepEqual(ids(await stripe.invoices.list({ created: { gte: a2.created } })), [a3.id, b1.id, a2.id]);
    assert.deepEqual(ids(await stripe.invoices.list({ created: { gt: a2.created } })), [a3.id, b1.id]);
    assert.deepEqual(ids(await stripe.invoices.list({ created: { lte: a2.created } })), [a2.id, a1.id]);
    assert.deepEqual(ids(await stripe.invoices.list({ created: { lt: a2.created } })), [a1.id]);
    assert.deepEqual(ids(await stripe.invoices.list({ created: { gt: a1.created, lt: a3.created } })), [b1.id, a2.id]);
    assert.deepEqual(ids(await stripe.invoices.list({ status: 'draft', created: { gte: a2.created } })), [
      b1.id,
      a2.id,
    ]);
    assert.deepEqual(
      ids(await stripe.invoices.list({ customer: a.id, status: 'draft', created: { gte: a2.created } })),
      [a2.id],
    );
    assert.deepEqual(ids(await stripe.invoices.list({ customer: b.id, created: { lt: a1.created } })), []);

    // Pages of one, newest first, with starting_after.
    const first = await stripe.invoices.list({ status: 'draft', limit: 1 });
    assert.deepEqual([ids(first), first.has_more], [[b1.id], true]);
    const second = await stripe.invoices.list({ status: 'draft', limit: 1, starting_after: b1.id });
    assert.deepEqual([ids(second), second.has_more], [[a2.id], true]);
    const last = await stripe.invoices.list({ status: 'draft', limit: 1, starting_after: a2.id });
    assert.deepEqual([ids(last), last.has_more], [[a1.id], false]);

    // The SDK's auto-pagination (for await) walks every page.
    const seen: string[] = [];
    for await (const invoice of stripe.invoices.list({ status: 'draft', created: { gte: a1.created }, limit: 2 })) {
      assert.equal(invoice.status, 'draft');
      seen.push(invoice.id);
    }
    assert.deepEqual(seen, [b1.id, a2.id, a1.id]);
    const pages = (await emulator.admin.requests('/v1/invoices')).filter(
      (r) => r.method === 'GET' && r.query.includes('created'),
    );
    assert.ok(
      pages.some((r) => r.query.includes('starting_after')),
      'auto-pagination asked for a second page',
    );

    await assert.rejects(
      stripe.invoices.list({ status: 'pending' as Stripe.InvoiceListParams.Status }),
      (err: Stripe.errors.StripeError) => {
        assert.equal(err.statusCode, 400);
        assert.equal(err.param, 'status');
        return true;
      },
    );
    await assert.rejects(
      stripe.invoices.list({ created: { after: 1 } as Stripe.RangeQueryParam }),
      (err: Stripe.errors.StripeError) => {
        assert.equal(err.statusCode, 400);
        assert.equal(err.param, 'created[after]');
        return true;
      },
    );
  });

  it("lists one customer's invoices only, newest first, without the ones deleted", async () => {
    const { stripe, emulator } = suite;
    const c = await stripe.customers.create({ name: 'C' });
    const d = await stripe.customers.create({ name: 'D' });
    const c1 = await stripe.invoices.create({ customer: c.id });
    await emulator.admin.advanceClock(100);
    const d1 = await stripe.invoices.create({ customer: d.id });
    const c2 = await stripe.invoices.create({ customer: c.id });
    await emulator.admin.advanceClock(100);
    const c3 = await stripe.invoices.create({ customer: c.id });
    const ids = (list: Stripe.ApiList<Stripe.Invoice>) => list.data.map((i) => i.id);

    assert.deepEqual(ids(await stripe.invoices.list({ customer: c.id })), [c3.id, c2.id, c1.id]);
    assert.deepEqual(ids(await stripe.invoices.list({ customer: d.id })), [d1.id]);
    await stripe.invoices.del(c2.id);
    assert.deepEqual(ids(await stripe.invoices.list({ customer: c.id })), [c3.id, c1.id]);
    assert.deepEqual(ids(await stripe.invoices.list({ customer: c.id, limit: 1, starting_after: c3.id })), [c1.id]);
    const e = await stripe.customers.create({ name: 'E' });
    assert.deepEqual(ids(await stripe.invoices.list({ customer: e.id })), []);
  });
});
