// Stripe answers 30 % of the gate's requests with 500 and rate-limits the rest in bursts (429 beyond
// 10 requests a second) while 40 invoices close at once: every gate still decides right, none is lost,
// and each held invoice is paused exactly once (one idempotency key, applied once). Retry backoffs
// pass in emulated time (the Temporal engine's clock); the rate limit's window is real time.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { closeCohort, seedCohort } from '../support/cohort';
import { startGateHarness, type GateHarness } from '../support/gate-harness';
import { assertGateInvariants, gatedInvoices, waitForOutcomes } from './support/invariants';

describe('Stripe failing 30 % of requests and rate-limiting in bursts', () => {
  let h: GateHarness;
  before(async () => {
    // As an operator runs it: the gate's own cap under Stripe's limit (its burst of 10 still meets
    // the limit at the start). Without it, backoffs that pass in emulated time become a retry storm
    // against a limit measured in real time, which no real deployment sees.
    h = await startGateHarness({ env: { STRIPE_MAX_REQUESTS_PER_SECOND: '8' } });
  });
  after(async () => {
    await h?.stop();
  });

  test('40 invoices: every gate decides right, 0 lost, each held invoice paused once', async (t) => {
    const began = Date.now();
    const step = (what: string) => t.diagnostic(`${((Date.now() - began) / 1000).toFixed(1)} s: ${what}`);
    const members = await seedCohort(h, { size: 40, divergingEvery: 4 });
    await h.stripeEmulator.admin.clearRequests();
    // The API only (/v1/): the test's own admin calls and Stripe's webhook deliveries are not affected.
    await h.stripeEmulator.admin.setFaults({ pathPrefix: '/v1/', errorRate: 0.3, rateLimitPerSecond: 10 });
    let invoices;
    try {
      invoices = gatedInvoices(members, await closeCohort(h, members));
      step('cohort closed');
      // 30 % of 500s make some reads fail 6-8 times in a row; Temporal's backoff then waits up to a
      // minute between attempts. That time is emulated: 15 s a poll, well within the gate's deadline (45 min).
      await waitForOutcomes(h, invoices, 75_000, { skipEachPollMs: 15_000 });
      step('every gate decided');
    } finally {
      await h.stripeEmulator.admin.clearFaults();
    }

    const requests = await h.stripeEmulator.admin.requests();
    const count = (status: number) => requests.filter((r) => r.status === status).length;
    t.diagnostic(`${requests.length} Stripe requests: ${count(500)} x 500, ${count(429)} x 429`);
    assert.ok(count(500) > 0, 'the injected 500s happened');
    assert.ok(count(429) > 0, 'the rate limit was hit');
    for (const { invoiceId, member } of invoices) {
      const writes = requests.filter((r) => r.method === 'POST' && r.path === `/v1/invoices/${invoiceId}`);
      const applied = writes.filter((w) => w.status === 200 && !w.idempotent_replayed);
      assert.equal(applied.length, member.diverging ? 1 : 0, `${invoiceId}: ${JSON.stringify(writes)}`);
      assert.ok(new Set(writes.map((w) => w.idempotency_key)).size <= 1, `${invoiceId}: one idempotency key`);
    }
    await assertGateInvariants(h, invoices);
  });
});
