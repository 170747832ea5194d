// Stripe's meter error reports name the likely cause of an under-billing: usage Stripe rejected on the
// line's meter in its period. Through the real server, worker and emulators: the Stripe emulator
// rejects meter events, reports them as thin events to POST /webhooks/stripe/thin, and the alert of
// the held invoice says what was rejected.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { SLACK_EMULATOR_DEFAULTS } from '../../emulators/slack';
import {
  closePeriod,
  messageText,
  seedCustomer,
  startGateHarness,
  timestamps,
  type GateHarness,
} from '../support/gate-harness';

const CHANNEL = SLACK_EMULATOR_DEFAULTS.channelId;

/** The alert (the gate shows `held` just before it posts it). */
async function alertOf(h: GateHarness, invoiceId: string): Promise<string> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const [alert] = (await h.slackEmulator.admin.messages(CHANNEL)).filter((m) => messageText(m).includes(invoiceId));
    if (alert) return messageText(await h.slackEmulator.admin.message(CHANNEL, alert.ts));
    assert.ok(Date.now() < deadline, `an alert names ${invoiceId}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function waitForStoredReports(h: GateHarness, n: number): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    const { rows } = await h.ledger.query<{ n: string }>('select count(*) as n from invoice_gate.meter_error_reports');
    if (Number(rows[0].n) >= n) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`fewer than ${n} meter error reports stored`);
}

describe('meter error reports in the alert of a held invoice', () => {
  let h: GateHarness;
  before(async () => {
    h = await startGateHarness();
  });
  after(async () => {
    await h?.stop();
  });

  test('events Stripe rejected on the line meter, in its period: the alert names count, window and cause', async () => {
    const eventName = 'rejected_call';
    const c = await seedCustomer(h, { name: 'Rejected Usage Ltd', eventName });
    const usage = timestamps(c.periodStart + 3600, 10);
    // The ledger has all ten; Stripe counted six: four arrived without the customer key and were dropped.
    await h.addLedgerEvents(c.customerId, eventName, usage);
    await h.addMeterEvents(c.customerId, eventName, usage.slice(0, 6));
    for (const timestamp of usage.slice(6)) {
      await h.stripe.billing.meterEvents.create({ event_name: eventName, timestamp, payload: { value: '1' } });
    }
    assert.equal((await h.stripeEmulator.admin.reportMeterErrors()).length, 1);
    await waitForStoredReports(h, 1);

    const invoiceId = await closePeriod(h, c.periodEnd, c.customerId);
    const held = await h.waitForStatus(invoiceId, ['held']);
    assert.equal(held.comparison?.lines[0].stripeQuantity, '6');
    assert.equal(held.comparison?.lines[0].ledgerQuantity, '10');

    const text = await alertOf(h, invoiceId);
    assert.match(
      text,
      new RegExp(
        `Stripe rejected 4 \`${eventName}\` events between \\d{4}-\\d{2}-\\d{2} \\d{2}:\\d{2} and \\d{4}-\\d{2}-\\d{2} \\d{2}:\\d{2} UTC: meter_event_no_customer_defined \\(4\\)`,
      ),
    );
    assert.match(text, /gate_release/, 'still a held alert with its buttons');

    // The run page, opened from the alert's signed link, says the same.
    const runPage = /<(http[^|>]+\/invoices\/[^|>]+)\|Run page>/.exec(text)?.[1];
    assert.ok(runPage, 'the alert links the run page');
    const page = await (await fetch(runPage.replaceAll('&amp;', '&'))).text();
    assert.match(page, /id="meter-errors"/);
    assert.match(
      page,
      new RegExp(`Stripe rejected 4 .${eventName}. events between .*meter_event_no_customer_defined \\(4\\)`),
    );
  });

  test('a report about another meter, or outside the period, is not mentioned', async () => {
    const c = await seedCustomer(h, { name: 'Clean Usage Ltd', eventName: 'clean_call' });
    const usage = timestamps(c.periodStart + 3600, 5);
    await h.addLedgerEvents(c.customerId, 'clean_call', usage);
    await h.addMeterEvents(c.customerId, 'clean_call', usage.slice(0, 4));
    // Rejected on another meter (the first test's), in this period.
    await h.stripe.billing.meterEvents.create({ event_name: 'rejected_call', payload: { value: '1' } });
    await h.stripeEmulator.admin.reportMeterErrors();
    await waitForStoredReports(h, 2);

    const invoiceId = await closePeriod(h, c.periodEnd, c.customerId);
    await h.waitForStatus(invoiceId, ['held']);
    const text = await alertOf(h, invoiceId);
    assert.doesNotMatch(text, /Stripe rejected/);
    const runPage = /<(http[^|>]+\/invoices\/[^|>]+)\|Run page>/.exec(text)?.[1];
    assert.ok(runPage);
    assert.doesNotMatch(await (await fetch(runPage)).text(), /id="meter-errors"/);
  });
});
