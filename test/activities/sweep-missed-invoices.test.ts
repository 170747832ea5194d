// The sweep for missed webhooks against the Stripe emulator, with a fake gate client: which drafts it
// lists, which it leaves alone (already gated, too young for their webhook to have failed), and what it
// starts the others with.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger, type LogEntry } from '@temporalio/worker';
import type Stripe from 'stripe';
import { startStripeEmulator, type StripeEmulator } from '../../emulators/stripe';
import {
  createSweepActivities,
  SWEEP_MIN_AGE_SECONDS,
  SWEEP_WINDOW_SECONDS,
  type SweepResult,
  type GateSweepPort,
} from '../../src/activities/sweep-missed-invoices';
import type { InvoiceToGate, StartResult } from '../../src/gate/types';
import { FailureType, GateError } from '../../src/gate/failures';
import { createMetrics } from '../../src/observability/metrics';
import { createStripeClient } from '../../src/stripe/client';

const MINUTE = 60;

/** A gate client that remembers which invoices have a gate, and what it was asked to start. */
class FakeGates implements GateSweepPort {
  readonly gated = new Set<string>();
  readonly described: string[] = [];
  readonly started: Array<{ invoice: InvoiceToGate; stripeEventId: string | undefined }> = [];

  async hasGate(invoiceId: string): Promise<boolean> {
    this.described.push(invoiceId);
    return this.gated.has(invoiceId);
  }

  async startGate(invoice: InvoiceToGate, stripeEventId?: string): Promise<StartResult> {
    this.started.push({ invoice, stripeEventId });
    if (this.gated.has(invoice.id)) return 'already_gated';
    this.gated.add(invoice.id);
    return 'started';
  }
}

describe('sweepMissedInvoices', () => {
  let emulator: StripeEmulator;
  let stripe: Stripe;
  const stripeNow = async () => (await emulator.admin.clock()).now;

  before(async () => {
    emulator = await startStripeEmulator({ port: 0 });
    stripe = createStripeClient({ secretKey: emulator.apiKey, apiUrl: emulator.url });
  });
  after(async () => {
    await emulator?.stop();
  });

  async function sweep(gates: FakeGates, sweepEveryMs: number | null = 5 * 60_000) {
    const metrics = createMetrics({ defaultMetrics: false });
    const logs: LogEntry[] = [];
    const env = new MockActivityEnvironment(undefined, {
      logger: new DefaultLogger('DEBUG', (entry) => void logs.push(entry)),
    });
    const activities = createSweepActivities({ stripe, gates, config: { sweepEveryMs }, metrics, stripeNow });
    const result: SweepResult = await env.run(() => activities.sweepMissedInvoices());
    const found = /^invoice_gate_sweep_found_total (\S+)$/m.exec((await metrics.render()).body);
    return { result, logs, foundMetric: Number(found?.[1]) };
  }

  test('gates every draft of the last two hours old enough and without a gate, over several pages', async () => {
    const customer = await stripe.customers.create({ name: 'Sweep Ltd' });
    const tooOld = await stripe.invoices.create({ customer: customer.id });
    await emulator.admin.advanceClock(SWEEP_WINDOW_SECONDS + 10 * MINUTE);

    // More than one page (the SDK pages 100 at a time): 118 missed, 2 already gated by their webhook.
    const windowDrafts: Stripe.Invoice[] = [];
    for (let i = 0; i < 120; i += 1) windowDrafts.push(await stripe.invoices.create({ customer: customer.id }));
    const finalized = await stripe.invoices.finalizeInvoice(
      (await stripe.invoices.create({ customer: customer.id })).id!,
    );
    assert.notEqual(finalized.status, 'draft');
    const scheduled = await stripe.invoices.create({ customer: customer.id, auto_advance: true });
    assert.ok(scheduled.automatically_finalizes_at, 'Stripe announced when it finalizes the draft');
    await emulator.admin.advanceClock(5 * MINUTE);
    // Its invoice.created is normally still on its way: the webhook's to gate.
    const young = await stripe.invoices.create({ customer: customer.id });

    const gates = new FakeGates();
    const [gatedA, gatedB] = [windowDrafts[3].id!, windowDrafts[110].id!];
    gates.gated.add(gatedA).add(gatedB);

    const { result, logs, foundMetric } = await sweep(gates);

    const missed = [...windowDrafts.map((d) => d.id!), scheduled.id!].filter((id) => id !== gatedA && id !== gatedB);
    assert.equal(
      result.listed,
      122,
      'the 120 drafts, the scheduled one and the young one; not the old or the open one',
    );
    assert.deepEqual([...result.found].sort(), [...missed].sort());
    assert.equal(result.nextSweepInMs, 5 * 60_000);
    assert.equal(foundMetric, 119);

    assert.ok(!gates.described.includes(young.id!), 'a young draft is not even looked up');
    assert.ok(!gates.described.includes(tooOld.id!));
    assert.ok(!gates.described.includes(finalized.id!));
    const startedIds = gates.started.map((s) => s.invoice.id);
    assert.ok(!startedIds.includes(gatedA) && !startedIds.includes(gatedB), 'a gated draft is never started again');
    assert.equal(startedIds.length, 119);

    const start = gates.started.find((s) => s.invoice.id === scheduled.id)!;
    assert.deepEqual(start, {
      invoice: {
        id: scheduled.id,
        customerId: customer.id,
        createdAt: scheduled.created,
        automaticallyFinalizesAt: scheduled.automatically_finalizes_at,
        currency: scheduled.currency,
        livemode: false,
        startedBy: 'sweep',
      },
      stripeEventId: undefined,
    });
    assert.ok(gates.started.every((s) => s.invoice.startedBy === 'sweep' && s.invoice.customerId === customer.id));

    const warned = logs.filter((l) => l.level === 'WARN').map((l) => l.meta?.invoiceId);
    assert.deepEqual([...warned].sort(), [...missed].sort(), 'one warning per missed webhook, with the invoice id');

    // The next round finds nothing new: every draft has its gate now.
    const again = await sweep(gates);
    assert.deepEqual(again.result.found, []);
    assert.equal(again.result.listed, 122);
    assert.equal(again.foundMetric, 0);
    assert.ok(young.created > (await stripeNow()) - SWEEP_MIN_AGE_SECONDS, 'the young draft was still young');
  });

  test('off: no listing at all, and the sweeper is told to end', async () => {
    await emulator.admin.clearRequests();
    const gates = new FakeGates();
    const { result } = await sweep(gates, null);
    assert.deepEqual(result, { found: [], listed: 0, nextSweepInMs: null });
    assert.deepEqual(await emulator.admin.requests('/v1/invoices'), []);
    assert.deepEqual(gates.described, []);
  });

  test('Stripe refusing the list fails the round as Stripe failures do (retryable 5xx)', async () => {
    await emulator.admin.setFaults({ pathPrefix: '/v1/invoices', failNext: 1 });
    try {
      const env = new MockActivityEnvironment();
      const activities = createSweepActivities({
        stripe,
        gates: new FakeGates(),
        config: { sweepEveryMs: 60_000 },
        metrics: createMetrics({ defaultMetrics: false }),
        stripeNow,
      });
      await assert.rejects(
        env.run(() => activities.sweepMissedInvoices()),
        (error: unknown) => {
          assert.ok(error instanceof GateError);
          assert.equal(error.retryable, true);
          assert.equal(error.type, `${FailureType.stripeRetryable}:StripeAPIError`);
          assert.match(error.message, /Stripe invoice list failed/);
          return true;
        },
      );
    } finally {
      await emulator.admin.clearFaults();
    }
  });
});
