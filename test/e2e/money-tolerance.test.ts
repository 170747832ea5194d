// Money-based tolerance end to end: GATE_TOLERANCE_MONEY lets a small variance on a cheap line through
// and holds a tiny variance on an expensive one, with per-unit, package and tiered prices billed by
// the Stripe emulator as Stripe bills them, and the impact in the state, the alert and the audit.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type Stripe from 'stripe';
import { messageText, startGateHarness, type GateHarness } from '../support/gate-harness';
import type { GateState } from '../../src/gate/types';
import { SLACK_EMULATOR_DEFAULTS } from '../../emulators/slack';

const CHANNEL = SLACK_EMULATOR_DEFAULTS.channelId;

interface Case {
  name: string;
  price: Omit<Stripe.PriceCreateParams, 'currency' | 'product' | 'recurring'>;
  stripeUsage: string;
  ledgerUsage: string;
  outcome: 'passed' | 'held';
  impactMinor: string;
  variancePct: string;
}

describe('money tolerance (GATE_TOLERANCE_PCT=5, GATE_TOLERANCE_MONEY=1000: USD 10.00 per line)', () => {
  let h: GateHarness;
  before(async () => {
    h = await startGateHarness({ env: { GATE_TOLERANCE_PCT: '5', GATE_TOLERANCE_MONEY: '1000' } });
  });
  after(async () => {
    await h?.stop();
  });

  test('cheap variances pass and expensive ones are held, whatever the price shape', async () => {
    const d = (v: string) => h.stripe.Decimal.from(v);
    const cases: Case[] = [
      // 3 % at 4 cents a unit: USD 0.12.
      {
        name: 'per-unit cheap',
        price: { unit_amount: 4 },
        stripeUsage: '103',
        ledgerUsage: '100',
        outcome: 'passed',
        impactMinor: '12',
        variancePct: '3',
      },
      // 0.5 % at USD 90 a unit: USD 450.
      {
        name: 'per-unit expensive',
        price: { unit_amount: 9000 },
        stripeUsage: '1005',
        ledgerUsage: '1000',
        outcome: 'held',
        impactMinor: '45000',
        variancePct: '0.5',
      },
      // USD 500 per started 1,000 units: 0.3 % inside the 101st package costs nothing.
      {
        name: 'package within a package',
        price: { unit_amount: 50000, transform_quantity: { divide_by: 1000, round: 'up' } },
        stripeUsage: '100400',
        ledgerUsage: '100100',
        outcome: 'passed',
        impactMinor: '0',
        variancePct: '0.2997',
      },
      // 0.1 % that starts a 101st package: USD 500.
      {
        name: 'package across a boundary',
        price: { unit_amount: 50000, transform_quantity: { divide_by: 1000, round: 'up' } },
        stripeUsage: '100100',
        ledgerUsage: '100000',
        outcome: 'held',
        impactMinor: '50000',
        variancePct: '0.1',
      },
      // Graduated: the first 1,000 at USD 1, then 1 cent: 3 % above 10,000 costs USD 3.00.
      {
        name: 'graduated cheap tail',
        price: {
          billing_scheme: 'tiered',
          tiers_mode: 'graduated',
          tiers: [
            { up_to: 1000, unit_amount: 100 },
            { up_to: 'inf', unit_amount: 1 },
          ],
        },
        stripeUsage: '10300',
        ledgerUsage: '10000',
        outcome: 'passed',
        impactMinor: '300',
        variancePct: '3',
      },
      // Volume: 1,001 units fall into the second tier (8 cents + USD 5 flat) while 996 are all at 10 cents:
      // 0.5 % more usage bills USD 14.52 less.
      {
        name: 'volume tier change',
        price: {
          billing_scheme: 'tiered',
          tiers_mode: 'volume',
          tiers: [
            { up_to: 1000, unit_amount_decimal: d('10') },
            { up_to: 'inf', unit_amount: 8, flat_amount_decimal: d('500') },
          ],
        },
        stripeUsage: '1001',
        ledgerUsage: '996',
        outcome: 'held',
        impactMinor: '-1452',
        variancePct: '0.502',
      },
    ];

    // One customer, meter and metered price per case, all on the same monthly cycle.
    const product = await h.stripe.products.create({ name: 'Usage' });
    const seeded = [];
    for (const [i, c] of cases.entries()) {
      const eventName = `usage_${i}`;
      const meter = await h.stripe.billing.meters.create({
        display_name: c.name,
        event_name: eventName,
        default_aggregation: { formula: 'sum' },
      });
      const price = await h.stripe.prices.create({
        ...c.price,
        currency: 'usd',
        product: product.id,
        recurring: { interval: 'month', usage_type: 'metered', meter: meter.id },
      } as Stripe.PriceCreateParams);
      const customer = await h.stripe.customers.create({ name: c.name });
      const subscription = await h.stripe.subscriptions.create({ customer: customer.id, items: [{ price: price.id }] });
      const item = subscription.items.data[0];
      seeded.push({
        c,
        eventName,
        customerId: customer.id,
        start: item.current_period_start,
        end: item.current_period_end,
      });
    }
    for (const s of seeded) {
      await h.addMeterEvents(s.customerId, s.eventName, [s.start + 60], s.c.stripeUsage);
      await h.addLedgerEvents(s.customerId, s.eventName, [s.start + 60], s.c.ledgerUsage);
    }
    await h.stripeEmulator.admin.advanceClockTo(Math.max(...seeded.map((s) => s.end)) + 1);

    const results = await Promise.all(
      seeded.map(async (s) => {
        const [draft] = (await h.stripeEmulator.admin.invoices(s.customerId)).filter(
          (inv) => inv.billing_reason === 'subscription_cycle',
        );
        assert.ok(draft, `${s.c.name}: a cycle draft`);
        const state: GateState = await h.waitFor(
          draft.id as string,
          (st) => st.status === 'passed' || (st.status === 'held' && st.slackMessage !== null),
          30_000,
        );
        return { ...s, invoiceId: draft.id as string, state };
      }),
    );

    for (const r of results) {
      const line = r.state.comparison?.lines[0];
      assert.ok(line, r.c.name);
      assert.equal(r.state.status, r.c.outcome, `${r.c.name}: ${JSON.stringify(line)}`);
      assert.equal(line.estimatedImpactMinor, r.c.impactMinor, r.c.name);
      assert.equal(line.impactUnavailableReason, null, r.c.name);
      assert.equal(line.variancePct, r.c.variancePct, r.c.name);
      assert.deepEqual(r.state.comparison?.tolerance, { pct: '5', abs: '0', money: '1000' });
      const invoice = await h.stripe.invoices.retrieve(r.invoiceId);
      assert.equal(invoice.auto_advance, r.c.outcome === 'passed', `${r.c.name}: paused only when held`);
    }

    // The alert shows the money limit and the line's impact.
    const messages = await h.slackEmulator.admin.messages(CHANNEL);
    const volumeHeld = results.find((r) => r.c.name === 'volume tier change')!;
    const alert = messages.find((m) => messageText(m).includes(volumeHeld.invoiceId));
    assert.ok(alert, 'the held volume invoice has an alert');
    assert.match(messageText(alert), /impact within USD 10\.00/);
    assert.match(messageText(alert), /impact -USD 14\.52/);
    for (const r of results.filter((x) => x.c.outcome === 'passed')) {
      assert.ok(!messages.some((m) => messageText(m).includes(r.invoiceId)), `${r.c.name}: no alert`);
    }

    // The audit keeps the impact per line and the money limit per run (written right after the comparison).
    const auditRows = () =>
      h.ledger.query<{ invoice_id: string; impact: string; reason: string | null; money: string }>(
        `select r.invoice_id, l.estimated_impact_minor::text as impact, l.impact_unavailable_reason as reason,
                r.tolerance_money::text as money
           from invoice_gate.gate_lines l join invoice_gate.gate_runs r on r.id = l.run_id`,
      );
    let audit = await auditRows();
    for (let i = 0; i < 100 && audit.rows.length < results.length; i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      audit = await auditRows();
    }
    for (const r of results) {
      const row = audit.rows.find((a) => a.invoice_id === r.invoiceId);
      assert.ok(row, `${r.c.name}: audited`);
      assert.equal(row.impact, r.c.impactMinor, r.c.name);
      assert.equal(row.reason, null);
      assert.equal(row.money, '1000');
    }
  });
});
