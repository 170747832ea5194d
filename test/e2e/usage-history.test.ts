// The history check: a customer at 10x its previous invoices, with Stripe and the ledger agreeing, is
// flagged (GATE_HISTORY_ACTION=alert: a button-less heads-up, the invoice passes) or held (=hold), from
// the gate's own audit or, for a customer the gate has not seen, from Stripe's finalized invoices.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { SLACK_EMULATOR_DEFAULTS } from '../../emulators/slack';
import { gateWorkflowId } from '../../src/workflows/definitions';
import { messageText, seedCustomer, startGateHarness, timestamps, type GateHarness } from '../support/gate-harness';

const CHANNEL = SLACK_EMULATOR_DEFAULTS.channelId;

/** Two billing periods: `first` events in the first, `second` in the next, the same on both sides. */
async function twoPeriods(h: GateHarness, name: string, first: number, second: number) {
  const c = await seedCustomer(h, { name });
  const subscriptionId = c.seeded.subscription.id as string;
  const meterId = c.seeded.meter.id as string;
  const usage1 = timestamps(c.periodStart + 600, first, 60);
  await h.addMeterEvents(c.customerId, c.eventName, usage1);
  await h.addLedgerEvents(c.customerId, c.eventName, usage1);
  const firstInvoice = await closeCycle(h, c.periodEnd, c.customerId, []);
  await h.waitForStatus(firstInvoice, ['passed']);

  const renewed = await h.stripe.subscriptions.retrieve(subscriptionId);
  const periodEnd = renewed.items.data[0].current_period_end;
  const usage2 = timestamps(c.periodEnd + 600, second, 60);
  await h.addMeterEvents(c.customerId, c.eventName, usage2);
  await h.addLedgerEvents(c.customerId, c.eventName, usage2);
  return {
    ...c,
    meterId,
    firstInvoice,
    closeSecond: () => closeCycle(h, periodEnd, c.customerId, [firstInvoice]),
  };
}

async function closeCycle(h: GateHarness, periodEnd: number, customerId: string, seen: string[]): Promise<string> {
  await h.stripeEmulator.admin.advanceClockTo(periodEnd + 1);
  const draft = (await h.stripeEmulator.admin.invoices(customerId)).find(
    (i) => i.billing_reason === 'subscription_cycle' && !seen.includes(i.id as string),
  );
  if (!draft) throw new Error(`no new cycle invoice for ${customerId}`);
  return draft.id as string;
}

async function messagesFor(h: GateHarness, invoiceId: string): Promise<string[]> {
  return (await h.slackEmulator.admin.messages(CHANNEL)).map(messageText).filter((t) => t.includes(invoiceId));
}

describe('history check, alert mode (the default)', () => {
  let h: GateHarness;
  before(async () => {
    h = await startGateHarness();
  });
  after(async () => {
    await h?.stop();
  });

  test('10x the previous invoice with matching counts: passes, flagged in a button-less heads-up and the audit', async () => {
    const c = await twoPeriods(h, 'Retry Storm Inc', 10, 100);
    assert.deepEqual(await messagesFor(h, c.firstInvoice), [], 'the first invoice has no history: no heads-up');
    await h.stripeEmulator.admin.clearRequests();
    const invoiceId = await c.closeSecond();

    const passed = await h.waitFor(invoiceId, (s) => s.status === 'passed' && s.phase === 'watching');
    assert.equal(passed.comparison?.passed, true);
    assert.equal(passed.history?.lines[0].flag, 'jump');
    assert.equal(passed.history?.lines[0].baseline, '10');
    assert.equal(passed.history?.lines[0].ratio, '10');
    assert.equal((await h.stripe.invoices.retrieve(invoiceId)).auto_advance, true, 'not paused');

    let texts: string[] = [];
    for (let i = 0; i < 100 && texts.length === 0; i++) {
      texts = await messagesFor(h, invoiceId);
      if (texts.length === 0) await new Promise((resolve) => setTimeout(resolve, 50));
    }
    assert.equal(texts.length, 1);
    assert.match(texts[0], /Usage far from history/);
    assert.match(texts[0], /jumped: 100 against a median of 10 over 1 previous invoice \(10x\)/);
    assert.doesNotMatch(texts[0], /gate_release|gate_recount/);

    assert.deepEqual(await h.gate.lineInsights.listHistory(invoiceId), [
      { lineId: passed.comparison!.lines[0].lineId, quantity: '100', baseline: '10', flag: 'jump', source: 'audit' },
    ]);
    // Only diverging invoices spend meter event summary requests.
    assert.deepEqual(await h.stripeEmulator.admin.requests(`/v1/billing/meters/${c.meterId}/event_summaries`), []);
  });
});

describe('history check, GATE_HISTORY_ACTION=hold', () => {
  let h: GateHarness;
  before(async () => {
    h = await startGateHarness({ env: { GATE_HISTORY_ACTION: 'hold', GATE_HISTORY_JUMP: '5x' } });
  });
  after(async () => {
    await h?.stop();
  });

  test('10x the history of a customer the gate has not seen: held with buttons, history from Stripe', async () => {
    const c = await twoPeriods(h, 'Double Writes Ltd', 10, 100);
    // The gate has not seen this customer: its first invoice is only in Stripe (finalized meanwhile).
    await h.gate.client.workflow.getHandle(gateWorkflowId(c.firstInvoice)).terminate('test: forget this gate');
    await h.ledger.query(`DELETE FROM invoice_gate.gate_runs WHERE invoice_id = $1`, [c.firstInvoice]);
    assert.notEqual((await h.stripe.invoices.retrieve(c.firstInvoice)).status, 'draft');
    await h.stripeEmulator.admin.clearRequests();
    const invoiceId = await c.closeSecond();

    const held = await h.waitFor(invoiceId, (s) => s.status === 'held' && s.slackMessage !== null);
    assert.equal(held.comparison?.passed, true, 'Stripe and the ledger agree');
    assert.equal(held.heldBecause, 'history');
    assert.equal(held.history?.lines[0].source, 'stripe');
    assert.equal(held.history?.lines[0].flag, 'jump');
    assert.equal((await h.stripe.invoices.retrieve(invoiceId)).auto_advance, false, 'paused');
    const [text] = await messagesFor(h, invoiceId);
    assert.match(text, /Against this customer's history/);
    assert.match(text, /jumped: 100 against a median of 10/);
    assert.match(text, /gate_release/);
    assert.equal((await h.gate.lineInsights.listHistory(invoiceId))[0].flag, 'jump');
    // The history from Stripe is one invoice list: each listed invoice embeds its few lines, and their
    // prices are the ones this invoice's read already knows.
    const historyReads = (await h.stripeEmulator.admin.requests()).filter(
      (r) =>
        r.method === 'GET' &&
        (r.path === '/v1/invoices' || r.path.endsWith('/lines') || r.path.startsWith('/v1/prices')),
    );
    assert.deepEqual(
      historyReads.map((r) => r.path),
      ['/v1/invoices'],
    );
  });
});
