// Slack is down (every Web API call answers 503) while a batch of invoices is gated, for 10 minutes of
// emulated time: the held invoices are paused in Stripe regardless (the alert never delays the safety),
// the alert activity keeps being retried with backoff, and once Slack is back each held invoice gets
// exactly one alert. Time is the Temporal engine's: skipTime fires the retry timers (and the timeouts)
// in order, so ten minutes of backoff take seconds.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { closeCohort, seedCohort } from '../support/cohort';
import { startGateHarness, type GateHarness } from '../support/gate-harness';
import { assertGateInvariants, gatedInvoices, waitForOutcomes } from './support/invariants';

const TEN_MINUTES = 10 * 60_000;
/** The Slack activity backs off to at most 10 minutes: after the outage one more retry comes within that. */
const NEXT_RETRY_WITHIN = 10 * 60_000;

describe('Slack down for 10 emulated minutes', () => {
  let h: GateHarness;
  before(async () => {
    h = await startGateHarness();
  });
  after(async () => {
    await h?.stop();
  });

  test('held invoices are paused meanwhile; each alert is delivered once after Slack is back', async (t) => {
    const began = Date.now();
    const step = (what: string) => t.diagnostic(`${((Date.now() - began) / 1000).toFixed(1)} s: ${what}`);
    const members = await seedCohort(h, { size: 12, divergingEvery: 3 });
    await h.slackEmulator.admin.clearRequests();
    await h.slackEmulator.admin.setFaults({ status: 503, count: 1_000_000 });
    const invoices = gatedInvoices(members, await closeCohort(h, members));
    step('cohort closed, Slack down');

    const held = invoices.filter((i) => i.member.diverging);
    // Paused in Stripe and waiting on Slack: the gate does not wait for the alert to protect the invoice.
    for (const { invoiceId } of held) {
      const state = await h.waitFor(invoiceId, (s) => s.status === 'held', 60_000);
      assert.equal(state.slackMessage, null);
      const invoice = await h.stripeEmulator.admin.invoice(invoiceId);
      assert.equal(invoice.auto_advance, false, `${invoiceId} is paused while Slack is down`);
    }
    step('held invoices paused');

    await h.temporal.skipTime(TEN_MINUTES);
    step('10 emulated minutes later');
    const failed = (await h.slackEmulator.admin.requests()).filter(
      (r) => r.apiMethod === 'chat.postMessage' && r.status === 503,
    );
    // At least the first attempt and a few backed-off retries per alert (each attempt is 3 calls with the client's own retries).
    assert.ok(failed.length >= held.length * 3 * 4, `${failed.length} failed chat.postMessage calls`);
    assert.deepEqual(await h.slackEmulator.admin.messages(), [], 'nothing reached Slack while it was down');

    // Emulated time runs ahead of the attempts in flight (a skip fires their 30 s timeout while the
    // client's own retries take real seconds): let them end before Slack comes back, as they would
    // long before 30 real seconds.
    await quiet(h, 3_000);
    await h.slackEmulator.admin.clearFaults();
    await h.temporal.skipTime(NEXT_RETRY_WITHIN);
    step('Slack back, next retry due');
    await waitForOutcomes(h, invoices, 60_000);
    await assertGateInvariants(h, invoices);
  });
});

/** Waits until Slack has seen no call for `ms`. */
async function quiet(h: GateHarness, ms: number): Promise<void> {
  for (;;) {
    const last = Math.max(0, ...(await h.slackEmulator.admin.requests()).map((r) => r.at));
    const idle = Date.now() - last;
    if (idle >= ms) return;
    await new Promise((resolve) => setTimeout(resolve, ms - idle));
  }
}
