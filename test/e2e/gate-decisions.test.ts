import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  closePeriod,
  draftWithoutMeteredLines,
  messageText,
  seedDivergingCustomer,
  startGateHarness,
  type GateHarness,
} from '../support/gate-harness';
import { decisionSignal, gateWorkflowId } from '../../src/workflows/definitions';
import type { GateState } from '../../src/gate/types';
import { SLACK_EMULATOR_DEFAULTS } from '../../emulators/slack';

/** The Slack emulator's seeded review channel. */
const CHANNEL = SLACK_EMULATOR_DEFAULTS.channelId;

describe('held invoices', () => {
  let h: GateHarness;
  before(async () => {
    h = await startGateHarness();
  });
  after(async () => {
    await h?.stop();
  });

  test('a diverging invoice is paused, alerted with both counts, and released by the decision signal with a reason', async () => {
    const c = await seedDivergingCustomer(h, 'Diverging Ltd');
    const invoiceId = await closePeriod(h, c.periodEnd, c.customerId);

    const held = await h.waitFor(invoiceId, (s) => s.status === 'held' && s.slackMessage !== null);
    assert.equal(held.comparison?.passed, false);
    assert.equal(held.comparison?.lines[0].stripeQuantity, '120');
    assert.equal(held.comparison?.lines[0].ledgerQuantity, '100');
    assert.equal(held.comparison?.maxVariancePct, '20');
    const paused = await h.stripe.invoices.retrieve(invoiceId);
    assert.equal(paused.status, 'draft');
    assert.equal(paused.auto_advance, false);
    assert.equal(paused.metadata?.invoice_gate_status, 'held');

    const [alert] = (await h.slackEmulator.admin.messages(CHANNEL)).filter((m) => messageText(m).includes(invoiceId));
    assert.ok(alert, 'a Slack alert names the invoice');
    assert.match(messageText(alert), /120/);
    assert.match(messageText(alert), /100/);
    assert.match(messageText(alert), /gate_release/);
    assert.deepEqual(held.slackMessage, { channel: CHANNEL, ts: alert.ts });

    // Stripe's own finalization an hour later must not happen while held.
    await h.stripeEmulator.admin.advanceClock(2 * 3600);
    assert.equal((await h.stripe.invoices.retrieve(invoiceId)).status, 'draft');

    const handle = h.gate.client.workflow.getHandle(gateWorkflowId(invoiceId));
    // The legacy signal meets the same rules as the decide Update: a release without a reason is refused.
    await handle.signal(decisionSignal, { action: 'release', reviewer: 'U0ALICE', note: 'no reason given' });
    await handle.signal(decisionSignal, {
      action: 'release',
      reviewer: 'U0ALICE',
      reason: 'stripe_correct',
      note: 'checked with the customer',
    });
    const result: GateState = await h.decision(invoiceId);
    assert.equal(result.status, 'released');
    assert.equal(result.reviewer, 'U0ALICE');
    assert.equal(result.decision?.reason, 'stripe_correct');
    const finalized = await h.stripe.invoices.retrieve(invoiceId);
    assert.equal(finalized.status, 'open');
    assert.equal(finalized.metadata?.invoice_gate_status, 'released');
    assert.equal(finalized.metadata?.invoice_gate_released_by, 'U0ALICE');
    assert.match(finalized.metadata?.invoice_gate_reason ?? '', /Stripe is right: checked with the customer/);
    const logged = (await h.gate.decisions.forInvoice(invoiceId)).map((r) => [r.action, r.reason, r.accepted]);
    assert.deepEqual(logged, [
      ['release', null, false],
      ['release', 'stripe_correct', true],
    ]);

    const updated = await h.slackEmulator.admin.message(CHANNEL, alert.ts);
    assert.doesNotMatch(messageText(updated), /gate_release/, 'buttons are gone once decided');
    assert.match(messageText(updated), /U0ALICE/);

    const run = await h.gate.audit.getRun(invoiceId);
    assert.equal(run?.outcome, 'released');
    assert.equal(run?.reviewer, 'U0ALICE');
    assert.equal(run?.decisionNote, 'checked with the customer');
    assert.equal(run?.maxVariancePct, '20');
    assert.equal(run?.slack?.ts, alert.ts);
    assert.ok(run?.finishedAt && run.decidedAt);
    // The divergence as held, and the same quantities once more as Stripe finalized them.
    assert.deepEqual(
      run?.lines.map((l) => [l.kind, l.stripeQuantity, l.ledgerQuantity, l.passed]),
      [
        ['check', '120', '100', false],
        ['finalized', '120', '100', false],
      ],
    );
  });

  test('a recount after the late ledger rows arrive releases the invoice without a person', async () => {
    const c = await seedDivergingCustomer(h, 'Late Rows Inc');
    const invoiceId = await closePeriod(h, c.periodEnd, c.customerId);
    await h.waitForStatus(invoiceId, ['held']);

    await h.addLedgerEvents(c.customerId, c.eventName, c.usage.slice(100));
    const handle = h.gate.client.workflow.getHandle(gateWorkflowId(invoiceId));
    await handle.signal(decisionSignal, { action: 'recount', reviewer: 'U0ALICE' });
    const result: GateState = await h.decision(invoiceId);
    assert.equal(result.status, 'auto_released');
    assert.equal(result.recounts, 1);
    assert.equal(result.comparison?.lines[0].ledgerQuantity, '120');
    assert.equal((await h.stripe.invoices.retrieve(invoiceId)).status, 'open');
    const run = await h.gate.audit.getRun(invoiceId);
    assert.equal(run?.outcome, 'auto_released');
    assert.deepEqual(
      run?.lines.map((l) => [l.recount, l.kind, l.ledgerQuantity]),
      [
        [0, 'check', '100'],
        [1, 'recount', '120'],
        [2, 'finalized', '120'],
      ],
    );
  });

  test('a recount that still diverges keeps the invoice held', async () => {
    const c = await seedDivergingCustomer(h, 'Still Off GmbH');
    const invoiceId = await closePeriod(h, c.periodEnd, c.customerId);
    await h.waitForStatus(invoiceId, ['held']);
    const handle = h.gate.client.workflow.getHandle(gateWorkflowId(invoiceId));
    await handle.signal(decisionSignal, { action: 'recount', reviewer: 'U0ALICE' });
    const state = await h.waitFor(invoiceId, (s) => s.status === 'held' && s.recounts === 1);
    assert.equal(state.comparison?.lines[0].ledgerQuantity, '100');
    assert.equal((await h.stripe.invoices.retrieve(invoiceId)).auto_advance, false);
    // A malformed decision changes nothing.
    await handle.signal('decision', { action: 'approve', reviewer: '' });
    assert.equal((await h.gateState(invoiceId)).status, 'held');
    await handle.terminate('test cleanup');
  });

  // Stripe voids only finalized invoices: the finalize is not the gate's request, so the gate reports a bypass.
  test('an invoice finalized and voided in Stripe while held ends the wait, as finalized outside the gate', async () => {
    const c = await seedDivergingCustomer(h, 'Voided Co');
    const invoiceId = await closePeriod(h, c.periodEnd, c.customerId);
    await h.waitForStatus(invoiceId, ['held']);
    await h.stripe.invoices.finalizeInvoice(invoiceId, { auto_advance: false });
    await h.stripe.invoices.voidInvoice(invoiceId);
    const result: GateState = await h.decision(invoiceId);
    assert.equal(result.status, 'bypassed');
    assert.match(result.reason ?? '', /outside the gate/);
    assert.ok(['open', 'void'].includes(result.invoiceStatus ?? ''), result.invoiceStatus ?? 'null');
    assert.equal((await h.gate.audit.getRun(invoiceId))?.outcome, 'bypassed');
  });

  test('the same invoice.created delivered 5 times at once starts one workflow and posts one alert', async () => {
    const c = await seedDivergingCustomer(h, 'Duplicated Deliveries SA');
    await h.stripeEmulator.admin.setWebhookSettings({ duplicates: 5 });
    try {
      const invoiceId = await closePeriod(h, c.periodEnd, c.customerId);
      await h.waitForStatus(invoiceId, ['held']);
      await h.stripeEmulator.admin.waitForIdle();
      const created = (await h.stripeEmulator.admin.events('invoice.created')).find(
        (e) => e.data.object.id === invoiceId,
      );
      const [delivery] = await h.stripeEmulator.admin.deliveries({ eventId: created?.id });
      assert.equal(delivery.status, 'succeeded');
      assert.equal(delivery.attempts[0].copies, 5, JSON.stringify(delivery.attempts));
      assert.equal(delivery.attempts[0].status, 200, JSON.stringify(delivery.attempts));

      const runs = [];
      for await (const run of h.gate.client.workflow.list({ query: `WorkflowId = '${gateWorkflowId(invoiceId)}'` }))
        runs.push(run);
      assert.equal(runs.length, 1);
      const alerts = (await h.slackEmulator.admin.messages(CHANNEL)).filter((m) => messageText(m).includes(invoiceId));
      assert.equal(alerts.length, 1);
      await h.gate.client.workflow.getHandle(gateWorkflowId(invoiceId)).terminate('test cleanup');
    } finally {
      await h.stripeEmulator.admin.setWebhookSettings({ duplicates: 1 });
    }
  });

  test('an invoice already finalized when the gate reads it is too_late, and alerted without buttons', async () => {
    const c = await seedDivergingCustomer(h, 'Too Late Corp');
    const [endpoint] = await h.stripeEmulator.admin.webhookEndpoints();
    await h.stripe.webhookEndpoints.update(endpoint.id, { disabled: true });
    let invoiceId: string;
    try {
      invoiceId = await closePeriod(h, c.periodEnd, c.customerId);
      await h.stripe.invoices.finalizeInvoice(invoiceId);
    } finally {
      await h.stripe.webhookEndpoints.update(endpoint.id, { disabled: false });
    }
    const created = (await h.stripeEmulator.admin.events('invoice.created')).find(
      (e) => e.data.object.id === invoiceId,
    );
    assert.ok(created);
    await h.stripeEmulator.admin.redeliver(created.id, endpoint.id);
    const result: GateState = await (async () => {
      await h.waitForStatus(invoiceId, ['too_late']);
      return h.decision(invoiceId);
    })();
    assert.equal(result.status, 'too_late');
    const alert = (await h.slackEmulator.admin.messages(CHANNEL)).find((m) => messageText(m).includes(invoiceId));
    assert.ok(alert, 'the divergence is still reported');
    assert.doesNotMatch(messageText(alert), /gate_release/);
    assert.equal((await h.gate.audit.getRun(invoiceId))?.outcome, 'too_late');
  });

  test('an invoice with no metered lines is skipped', async () => {
    const invoiceId = await draftWithoutMeteredLines(h, 'Seats Only');
    const result: GateState = await (async () => {
      const state = await h.waitForStatus(invoiceId, ['skipped']);
      return state;
    })();
    assert.equal(result.status, 'skipped');
  });
});

describe('the Stripe webhook endpoint', () => {
  let h: GateHarness;
  before(async () => {
    h = await startGateHarness();
  });
  after(async () => {
    await h?.stop();
  });

  async function post(body: string, headers: Record<string, string>) {
    const response = await fetch(`${h.gate.url}/webhooks/stripe`, {
      method: 'POST',
      body,
      headers: { 'content-type': 'application/json', ...headers },
    });
    return { status: response.status, body: (await response.json()) as { error?: string } };
  }
  const event = (invoiceId: string) =>
    JSON.stringify({
      id: `evt_${invoiceId}`,
      object: 'event',
      type: 'invoice.created',
      created: 1,
      data: { object: { id: invoiceId, object: 'invoice', status: 'draft', customer: 'cus_x' } },
    });

  test('a forged, missing or expired signature is refused with 400 and starts nothing', async () => {
    const [endpoint] = await h.stripeEmulator.admin.webhookEndpoints();
    const body = event('in_forged');
    const forged = await post(body, {
      'stripe-signature': h.stripe.webhooks.generateTestHeaderString({ payload: body, secret: 'whsec_wrong' }),
    });
    assert.equal(forged.status, 400);
    assert.equal(forged.body.error, 'invalid_signature');
    const missing = await post(body, {});
    assert.equal(missing.status, 400);
    assert.equal(missing.body.error, 'missing_signature');
    const expired = await post(body, {
      'stripe-signature': h.stripe.webhooks.generateTestHeaderString({
        payload: body,
        secret: endpoint.secret,
        timestamp: Math.floor(Date.now() / 1000) - 3600,
      }),
    });
    assert.equal(expired.status, 400);
    await assert.rejects(h.gate.client.workflow.getHandle(gateWorkflowId('in_forged')).describe(), /not found/i);
  });

  test('a signed event that is not an invoice is refused; unknown types are acknowledged and ignored', async () => {
    const [endpoint] = await h.stripeEmulator.admin.webhookEndpoints();
    const sign = (payload: string) => h.stripe.webhooks.generateTestHeaderString({ payload, secret: endpoint.secret });
    const notInvoice = JSON.stringify({
      id: 'evt_bad',
      type: 'invoice.created',
      data: { object: { id: 'cus_1', object: 'customer' } },
    });
    assert.equal((await post(notInvoice, { 'stripe-signature': sign(notInvoice) })).status, 400);
    const unknown = JSON.stringify({
      id: 'evt_other',
      type: 'customer.created',
      data: { object: { id: 'cus_1', object: 'customer' } },
    });
    const ignored = await post(unknown, { 'stripe-signature': sign(unknown) });
    assert.equal(ignored.status, 200);
  });
});
