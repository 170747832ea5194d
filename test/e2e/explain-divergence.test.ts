// A held invoice explains itself: the windows in time where Stripe's meter and the ledger differ
// (Slack alert and audit), what that costs in Stripe requests, and what happens when Stripe's meter
// event summaries fail (the hold stands, the alert says the breakdown is unavailable).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import Decimal from 'decimal.js';
import { SLACK_EMULATOR_DEFAULTS } from '../../emulators/slack';
import { bucketKey } from '../../src/gate/divergence-buckets';
import { formatWindow } from '../../src/slack/divergence-explanation';
import {
  closePeriod,
  messageText,
  seedCustomer,
  startGateHarness,
  timestamps,
  type GateHarness,
} from '../support/gate-harness';

const CHANNEL = SLACK_EMULATOR_DEFAULTS.channelId;
const H = 3600;
const D = 86400;

async function alertOf(h: GateHarness, invoiceId: string): Promise<string> {
  const [alert] = (await h.slackEmulator.admin.messages(CHANNEL)).filter((m) => messageText(m).includes(invoiceId));
  assert.ok(alert, `an alert names ${invoiceId}`);
  return messageText(await h.slackEmulator.admin.message(CHANNEL, alert.ts));
}

describe('a held invoice explains where in time it diverges', () => {
  let h: GateHarness;
  before(async () => {
    h = await startGateHarness();
  });
  after(async () => {
    await h?.stop();
  });

  test('a ledger missing one three-hour window: the alert names that window and no other', async () => {
    const c = await seedCustomer(h, { name: 'Outage Window Ltd' });
    const meterId = c.seeded.meter.id as string;
    // A whole UTC day inside the period; three events an hour from 10:00 to 20:00.
    const day = bucketKey(c.periodStart, 'day') + 2 * D;
    const usage = timestamps(day + 10 * H, 30, 20 * 60);
    await h.addMeterEvents(c.customerId, c.eventName, usage);
    const missing = (t: number) => t >= day + 13 * H && t < day + 16 * H;
    await h.addLedgerEvents(
      c.customerId,
      c.eventName,
      usage.filter((t) => !missing(t)),
    );
    await h.stripeEmulator.admin.clearRequests();
    const invoiceId = await closePeriod(h, c.periodEnd, c.customerId);

    const held = await h.waitFor(invoiceId, (s) => s.status === 'held' && s.explanation != null);
    assert.equal(held.comparison?.lines[0].stripeQuantity, '30');
    assert.equal(held.comparison?.lines[0].ledgerQuantity, '21');
    assert.equal(held.explanation?.status, 'explained');
    const text = await alertOf(h, invoiceId);
    const window = `${formatWindow(day + 13 * H, day + 16 * H)}: Stripe +9, ledger +0`;
    assert.match(window, /^\d{4}-\d{2}-\d{2} 13:00-16:00 UTC: Stripe \+9, ledger \+0$/);
    assert.ok(text.includes(window), `the alert shows ${window}`);
    assert.equal(text.match(/UTC: Stripe/g)?.length, 1, 'no other window');
    assert.match(text, /gate_release/, 'still a held alert with its buttons');

    // The audit holds every differing bucket (three hours), linked to the line and round; they add up.
    const buckets = await insights(h).listBuckets(invoiceId);
    assert.deepEqual(
      buckets.map((b) => [b.recount, b.grain, b.start - day, b.stripe, b.ledger]),
      [
        [0, 'hour', 13 * H, '3', '0'],
        [0, 'hour', 14 * H, '3', '0'],
        [0, 'hour', 15 * H, '3', '0'],
      ],
    );
    assert.equal(sum(buckets.map((b) => b.difference)), held.comparison?.lines[0].difference);

    // The cost in Stripe requests: the period starts and ends mid-day, so days are three requests
    // (head, the grouped middle, tail) and the one differing day is one hourly request.
    const summaries = await h.stripeEmulator.admin.requests(`/v1/billing/meters/${meterId}/event_summaries`);
    assert.equal(summaries.length, 4);
    assert.ok(summaries.every((r) => r.status === 200));
  });

  test('a decimal sum meter: exact windows, partial edges included, buckets add up to the difference', async () => {
    const c = await seedCustomer(h, { name: 'Decimal Storage SA', formula: 'sum', eventName: 'gb_stored' });
    const day = bucketKey(c.periodStart, 'day') + 2 * D;
    const usage = timestamps(day + 5 * H, 9, 20 * 60);
    await h.addMeterEvents(c.customerId, c.eventName, usage, '0.25');
    await h.addLedgerEvents(
      c.customerId,
      c.eventName,
      usage.filter((t) => t < day + 6 * H || t >= day + 7 * H),
      '0.25',
    );
    // One more in the period's first (partial) minute-aligned hour, which the ledger never saw: at the
    // period's first second, so it is in that hour whatever minute the period starts at (two minutes in
    // crossed into the next hour when the period started at :58 or :59).
    const early = c.periodStart;
    await h.addMeterEvents(c.customerId, c.eventName, [early], '0.125');
    const invoiceId = await closePeriod(h, c.periodEnd, c.customerId);

    const held = await h.waitFor(invoiceId, (s) => s.status === 'held' && s.explanation != null);
    assert.equal(held.comparison?.lines[0].difference, '0.875');
    const text = await alertOf(h, invoiceId);
    assert.ok(text.includes(`${formatWindow(day + 6 * H, day + 7 * H)}: Stripe +0.75, ledger +0`), text);
    const headStart = Math.floor(c.periodStart / 60) * 60;
    const headEnd = Math.min(Math.ceil((early + 1) / H) * H, bucketKey(early, 'day') + D);
    assert.ok(text.includes(`${formatWindow(headStart, headEnd)}: Stripe +0.125, ledger +0`), text);
    const buckets = await insights(h).listBuckets(invoiceId);
    assert.equal(sum(buckets.map((b) => b.difference)), '0.875');
    assert.equal(buckets[0].start, headStart, 'the partial edge bucket starts with the period');
  });

  test('summaries fail: the gate still holds with both counts and says the breakdown is unavailable', async () => {
    const c = await seedCustomer(h, { name: 'Summaries Down GmbH' });
    const meterId = c.seeded.meter.id as string;
    const usage = timestamps(c.periodStart + 600, 12, 600);
    await h.addMeterEvents(c.customerId, c.eventName, usage);
    await h.addLedgerEvents(c.customerId, c.eventName, usage.slice(0, 10));
    await h.stripeEmulator.admin.setFaults({
      pathPrefix: `/v1/billing/meters/${meterId}/event_summaries`,
      errorRate: 1,
    });
    try {
      const invoiceId = await closePeriod(h, c.periodEnd, c.customerId);
      const held = await h.waitFor(invoiceId, (s) => s.status === 'held' && s.slackMessage !== null);
      // Held and alerted with both counts before any explanation.
      assert.equal(held.comparison?.lines[0].stripeQuantity, '12');
      assert.equal(held.comparison?.lines[0].ledgerQuantity, '10');
      assert.equal((await h.stripe.invoices.retrieve(invoiceId)).auto_advance, false);
      const explained = await h.waitFor(invoiceId, (s) => s.explanation != null, 30_000);
      assert.equal(explained.explanation?.status, 'unavailable');
      assert.equal(explained.status, 'held');
      const text = await alertOf(h, invoiceId);
      assert.match(text, /Breakdown by time unavailable/);
      assert.match(text, /Stripe \*12\*/);
      assert.match(text, /ledger \*10\*/);
      assert.match(text, /gate_release/);
      assert.deepEqual(await insights(h).listBuckets(invoiceId), []);
    } finally {
      await h.stripeEmulator.admin.clearFaults();
    }
  });
});

function insights(h: GateHarness) {
  return h.gate.lineInsights;
}

function sum(values: string[]): string {
  return values.reduce((total, v) => total.plus(v), new Decimal(0)).toFixed();
}
