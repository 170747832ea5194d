// Observe mode through the real endpoint and the emulators: a diverging invoice is never paused (Stripe
// finalizes it on its own schedule), the audit says would_hold, and the channel gets exactly one message,
// without buttons. A customer the config file keeps on enforce is still held.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SLACK_EMULATOR_DEFAULTS } from '../../emulators/slack';
import {
  closePeriod,
  messageText,
  seedDivergingCustomer,
  startGateHarness,
  timestamps,
  type GateHarness,
} from '../support/gate-harness';

const CHANNEL = SLACK_EMULATOR_DEFAULTS.channelId;

describe('observe mode (GATE_MODE=observe)', () => {
  let h: GateHarness;
  /** A customer the config file keeps on enforce, seeded before the gate reads its configuration. */
  let enforced: { customerId: string; periodStart: number; periodEnd: number };

  before(async () => {
    h = await startGateHarness({
      env: { GATE_MODE: 'observe' },
      beforeStart: async ({ stripeEmulator }) => {
        const seeded = await stripeEmulator.admin.seed({
          customer: { name: 'Enforced Inc', email: 'billing@enforced.test' },
          meter: { event_name: 'api_call', formula: 'count' },
          metered_unit_amount_decimal: '2',
          interval: 'month',
        });
        const item = seeded.subscription.items.data[0];
        enforced = {
          customerId: seeded.customer.id as string,
          periodStart: item.current_period_start as number,
          periodEnd: item.current_period_end as number,
        };
        const path = join(mkdtempSync(join(tmpdir(), 'observe-mode-')), 'invoice-gate.config.json');
        writeFileSync(path, JSON.stringify({ customers: { [enforced.customerId]: { mode: 'enforce' } } }));
        return { INVOICE_GATE_CONFIG: path };
      },
    });
  });
  after(async () => {
    await h?.stop();
  });

  const messagesAbout = async (invoiceId: string) =>
    (await h.slackEmulator.admin.messages(CHANNEL)).filter((m) => messageText(m).includes(invoiceId));

  // First: the other test moves Stripe's clock past this customer's period.
  test('a customer the config file keeps on enforce is paused and held, with buttons', async () => {
    const usage = timestamps(enforced.periodStart + 10, 50);
    await h.addMeterEvents(enforced.customerId, 'api_call', usage);
    await h.addLedgerEvents(enforced.customerId, 'api_call', usage.slice(0, 40));
    const invoiceId = await closePeriod(h, enforced.periodEnd, enforced.customerId);

    const held = await h.waitFor(invoiceId, (s) => s.status === 'held' && s.slackMessage !== null);
    assert.equal(held.mode, 'enforce');
    const paused = await h.stripe.invoices.retrieve(invoiceId);
    assert.equal(paused.auto_advance, false);
    const [alert] = await messagesAbout(invoiceId);
    assert.match(messageText(alert), /gate_release/);
    assert.equal((await h.gate.audit.getRun(invoiceId))?.outcome, 'held');
  });

  test('a diverging invoice is never paused: would_hold, one button-less message, Stripe finalizes it', async () => {
    const c = await seedDivergingCustomer(h, 'Observed Ltd');
    const invoiceId = await closePeriod(h, c.periodEnd, c.customerId);

    const observed = await h.decision(invoiceId);
    assert.equal(observed.status, 'would_hold');
    assert.equal(observed.mode, 'observe');
    assert.equal(observed.phase, 'watching');
    const draft = await h.stripe.invoices.retrieve(invoiceId);
    assert.equal(draft.status, 'draft');
    assert.equal(draft.auto_advance, true, 'never paused');

    const [message, ...more] = await messagesAbout(invoiceId);
    assert.ok(message, 'the channel is told');
    assert.equal(more.length, 0);
    assert.deepEqual(observed.slackMessage, { channel: CHANNEL, ts: message.ts });
    const text = messageText(message);
    assert.match(text, /Would have held/);
    assert.match(text, /Stripe \*120\* · ledger \*100\*/, 'both counts on the line');
    assert.doesNotMatch(text, /gate_release|gate_recount|"actions"/, 'no buttons');

    const run = await h.gate.audit.getRun(invoiceId);
    assert.equal(run?.outcome, 'would_hold');
    assert.equal(run?.mode, 'observe');
    assert.ok(run?.wouldHoldAt instanceof Date);
    assert.equal(run?.slack?.ts, message.ts);

    // Stripe finalizes it on its own schedule; the gate follows it as usual and compares it once more.
    await h.stripeEmulator.admin.advanceClock(2 * 3600);
    const following = await h.waitFor(invoiceId, (s) => s.phase === 'following' || s.phase === 'ended');
    assert.equal(following.status, 'would_hold');
    assert.notEqual((await h.stripe.invoices.retrieve(invoiceId)).status, 'draft', 'finalized by Stripe');
    const finalRun = await h.gate.audit.getRun(invoiceId);
    assert.deepEqual(
      finalRun?.lines.map((l) => [l.kind, l.stripeQuantity, l.ledgerQuantity]),
      [
        ['check', '120', '100'],
        ['finalized', '120', '100'],
      ],
    );
    assert.equal((await messagesAbout(invoiceId)).length, 1, 'still exactly one message');

    // Nothing but reads: the gate never wrote to this invoice.
    const writes = (await h.stripeEmulator.admin.requests(`/v1/invoices/${invoiceId}`)).filter(
      (r) => r.method !== 'GET',
    );
    assert.deepEqual(writes, []);
  });
});
