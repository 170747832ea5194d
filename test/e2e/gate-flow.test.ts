import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { closePeriod, seedCustomer, startGateHarness, timestamps, type GateHarness } from '../support/gate-harness';
import { SLACK_EMULATOR_DEFAULTS } from '../../emulators/slack';

/** The Slack emulator's seeded review channel. */
const CHANNEL = SLACK_EMULATOR_DEFAULTS.channelId;

describe('invoice gate end to end', () => {
  let h: GateHarness;
  before(async () => {
    h = await startGateHarness();
  });
  after(async () => {
    await h?.stop();
  });

  test('a matching invoice passes: no pause, no Slack message, Stripe finalizes it later', async () => {
    const c = await seedCustomer(h, { name: 'Matching Co' });
    const usage = timestamps(c.periodStart + 10, 40);
    await h.addMeterEvents(c.customerId, c.eventName, usage);
    await h.addLedgerEvents(c.customerId, c.eventName, usage);
    const invoiceId = await closePeriod(h, c.periodEnd, c.customerId);

    const state = await h.waitForStatus(invoiceId, ['passed']);
    assert.equal(state.comparison?.lines[0].stripeQuantity, '40');
    assert.equal(state.comparison?.lines[0].ledgerQuantity, '40');
    const invoice = await h.stripe.invoices.retrieve(invoiceId);
    assert.equal(invoice.status, 'draft');
    assert.equal(invoice.auto_advance, true);
    assert.equal((await h.slackEmulator.admin.messages(CHANNEL)).length, 0);

    await h.stripeEmulator.admin.advanceClock(3601);
    assert.equal((await h.stripe.invoices.retrieve(invoiceId)).status, 'open');
    const run = await h.gate.audit.getRun(invoiceId);
    assert.equal(run?.outcome, 'passed');
  });
});
