// The gate under Stripe trouble: 500s and rate limiting while a batch of invoices closes at once, and
// Stripe refusing a request outright (4xx), which must end the run (reported) instead of retrying forever.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { closeCohort, seedCohort } from '../support/cohort';
import { startGateHarness, type GateHarness } from '../support/gate-harness';
import { gateWorkflowId } from '../../src/workflows/definitions';
import type { GateState } from '../../src/gate/types';
import { SLACK_EMULATOR_DEFAULTS } from '../../emulators/slack';

/** The Slack emulator's seeded review channel. */
const CHANNEL = SLACK_EMULATOR_DEFAULTS.channelId;

/** Usually 4-16 s; the bound is loose for a busy CI machine. */
const SETTLE_MS = 70_000;

describe('the gate while Stripe fails and rate-limits', () => {
  let h: GateHarness;
  before(async () => {
    h = await startGateHarness();
  });
  after(async () => {
    await h?.stop();
  });

  test('10 invoices closing at once under 500s and a 4 req/s limit each reach the right outcome, held ones paused once', async () => {
    // Every third customer's ledger has 3 rows where Stripe's meter saw 5 events.
    const members = await seedCohort(h, { size: 10, divergingEvery: 3 });
    assert.equal(members.filter((m) => m.diverging).length, 3);
    await h.stripeEmulator.admin.clearRequests();
    // One prefix covers /v1/invoices, /v1/prices (and /v1/billing/meters): the emulator takes one fault rule.
    // 4 req/s: a gate reads an invoice with few lines in one request, so 10 gates must share a tight limit to hit it.
    await h.stripeEmulator.admin.setFaults({ pathPrefix: '/v1/', errorRate: 0.1, failNext: 4, rateLimitPerSecond: 4 });
    let invoices: Map<string, string>;
    try {
      invoices = await closeCohort(h, members);
      assert.equal(invoices.size, 10);
      const states = await Promise.all(
        members.map((m) => h.waitForStatus(invoices.get(m.customerId)!, ['passed', 'held'], SETTLE_MS)),
      );
      for (const [i, m] of members.entries()) {
        const state = states[i];
        assert.equal(state.status, m.diverging ? 'held' : 'passed', `${m.customerId}: ${JSON.stringify(state)}`);
        assert.deepEqual(
          state.comparison?.lines.map((l) => [l.stripeQuantity, l.ledgerQuantity, l.passed]),
          [[String(m.stripeCount), String(m.ledgerCount), !m.diverging]],
        );
      }
    } finally {
      await h.stripeEmulator.admin.clearFaults();
    }

    const requests = await h.stripeEmulator.admin.requests();
    const served = (status: (s: number) => boolean) => requests.filter((r) => status(r.status)).length;
    assert.ok(served((s) => s >= 500) >= 4, 'the injected 500s happened');
    assert.ok(served((s) => s === 429) > 0, 'the rate limit was hit');
    assert.deepEqual(
      requests.filter((r) => r.path.endsWith('/finalize')),
      [],
      'the gate finalizes nothing without a decision',
    );

    const pauses = await h.stripeEmulator.admin.events('invoice.updated');
    for (const m of members) {
      const invoiceId = invoices.get(m.customerId)!;
      const writes = requests.filter((r) => r.method !== 'GET' && r.path === `/v1/invoices/${invoiceId}`);
      const invoice = await h.stripe.invoices.retrieve(invoiceId);
      assert.equal(invoice.status, 'draft');
      if (!m.diverging) {
        assert.deepEqual(writes, [], `${invoiceId} passed and was not touched`);
        assert.equal(invoice.auto_advance, true);
        continue;
      }
      // Every attempt (429s, 500s, retries) carries the one key; Stripe applied exactly one of them.
      const key = `invoice-gate-pause-${invoiceId}`;
      assert.ok(writes.length >= 1);
      assert.deepEqual([...new Set(writes.map((w) => w.idempotency_key))], [key]);
      assert.equal(writes.filter((w) => w.status === 200 && !w.idempotent_replayed).length, 1, JSON.stringify(writes));
      const applied = pauses.filter((e) => e.data.object.id === invoiceId && e.request?.idempotency_key === key);
      assert.equal(applied.length, 1, 'one invoice.updated from the pause');
      assert.equal(invoice.auto_advance, false);
      assert.equal(invoice.metadata?.invoice_gate_status, 'held');
    }

    const mentions = (m: { text?: string; blocks?: unknown[] }, id: string) =>
      `${m.text ?? ''} ${JSON.stringify(m.blocks ?? [])}`.includes(id);
    for (const m of members.filter((x) => x.diverging)) {
      const invoiceId = invoices.get(m.customerId)!;
      await h.waitFor(invoiceId, (s) => s.slackMessage !== null, SETTLE_MS);
      const alerts = (await h.slackEmulator.admin.messages(CHANNEL)).filter((msg) => mentions(msg, invoiceId));
      assert.equal(alerts.length, 1, `one alert for ${invoiceId}`);
      await h.gate.client.workflow.getHandle(gateWorkflowId(invoiceId)).terminate('test cleanup');
    }
  });

  test('an invoice deleted between the webhook and the read: one 404, no retry, resolved_in_stripe', async () => {
    const endpoint = await disableEndpoint(h);
    let invoiceId: string;
    try {
      const customer = await h.stripe.customers.create({ name: 'Deleted Draft Ltd' });
      await h.stripe.invoiceItems.create({
        customer: customer.id,
        amount: 5000,
        currency: 'usd',
        description: 'Setup',
      });
      const draft = await h.stripe.invoices.create({
        customer: customer.id,
        pending_invoice_items_behavior: 'include',
      });
      invoiceId = draft.id!;
      await h.stripe.invoices.del(invoiceId);
    } finally {
      await h.stripe.webhookEndpoints.update(endpoint.id, { disabled: false });
    }
    await h.stripeEmulator.admin.clearRequests();
    await deliverInvoiceCreated(h, invoiceId, endpoint.id);

    const handle = h.gate.client.workflow.getHandle(gateWorkflowId(invoiceId));
    const result: GateState = await withTimeout(handle.result(), SETTLE_MS);
    assert.equal(result.status, 'resolved_in_stripe');
    assert.equal(result.invoiceStatus, 'deleted');
    assert.equal(result.reason, 'the invoice no longer exists in Stripe');
    assert.equal((await handle.describe()).status.name, 'COMPLETED');

    const reads = (await h.stripeEmulator.admin.requests()).filter((r) =>
      r.path.startsWith(`/v1/invoices/${invoiceId}`),
    );
    assert.deepEqual(
      reads.map((r) => [r.method, r.path, r.status, r.error_code]),
      [['GET', `/v1/invoices/${invoiceId}`, 404, 'resource_missing']],
    );
    const run = await h.gate.audit.getRun(invoiceId);
    assert.equal(run?.outcome, 'resolved_in_stripe');
    assert.ok(run?.finishedAt);
  });

  test('a refused pause (400 idempotency_error) is not retried; the gate reports it in Slack and the audit', async () => {
    const [member] = await seedCohort(h, { size: 1, divergingEvery: 1 });
    const endpoint = await disableEndpoint(h);
    let invoiceId: string;
    try {
      [invoiceId] = [...(await closeCohort(h, [member])).values()];
    } finally {
      await h.stripe.webhookEndpoints.update(endpoint.id, { disabled: false });
    }
    // Someone else already used the gate's pause key for another change: Stripe refuses the gate's pause.
    const key = `invoice-gate-pause-${invoiceId}`;
    await h.stripe.invoices.update(invoiceId, { metadata: { note: 'not the gate' } }, { idempotencyKey: key });
    await h.stripeEmulator.admin.clearRequests();
    await deliverInvoiceCreated(h, invoiceId, endpoint.id);

    const result = await h.decision(invoiceId, SETTLE_MS);
    assert.equal(result.status, 'too_late');
    assert.match(result.reason ?? '', /Stripe refused to pause the invoice/);

    const writes = (await h.stripeEmulator.admin.requests()).filter(
      (r) => r.method === 'POST' && r.path === `/v1/invoices/${invoiceId}`,
    );
    assert.deepEqual(
      writes.map((w) => [w.status, w.error_code, w.idempotency_key]),
      [[400, 'idempotency_error', key]],
      'one attempt, not retried',
    );
    // The invoice is not paused, so Stripe finalizes it on schedule: the reviewers are told so.
    const invoice = await h.stripe.invoices.retrieve(invoiceId);
    assert.equal(invoice.auto_advance, true);
    const alerts = (await h.slackEmulator.admin.messages(CHANNEL)).filter((m) =>
      `${m.text ?? ''} ${JSON.stringify(m.blocks ?? [])}`.includes(invoiceId),
    );
    assert.equal(alerts.length, 1);
    assert.doesNotMatch(JSON.stringify(alerts[0].blocks), /gate_release/);
    const { rows } = await h.ledger.query(`select outcome, reason from invoice_gate.gate_runs where invoice_id = $1`, [
      invoiceId,
    ]);
    assert.equal(rows[0].outcome, 'too_late');
    assert.match(rows[0].reason, /refused to pause/);
  });
});

async function disableEndpoint(h: GateHarness) {
  const [endpoint] = await h.stripeEmulator.admin.webhookEndpoints();
  await h.stripe.webhookEndpoints.update(endpoint.id, { disabled: true });
  return endpoint;
}

/** Stripe signs and delivers the invoice's (earlier, undelivered) invoice.created to the gate. */
async function deliverInvoiceCreated(h: GateHarness, invoiceId: string, endpointId: string): Promise<void> {
  const created = (await h.stripeEmulator.admin.events('invoice.created')).find((e) => e.data.object.id === invoiceId);
  assert.ok(created, `invoice.created for ${invoiceId}`);
  const [delivery] = await h.stripeEmulator.admin.redeliver(created.id, endpointId);
  assert.ok(delivery);
  assert.ok(await h.stripeEmulator.admin.waitForIdle(10_000));
  const [done] = await h.stripeEmulator.admin.deliveries({ eventId: created.id });
  assert.equal(done.status, 'succeeded', JSON.stringify(done.attempts));
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`not settled within ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

describe('the gate at the Stripe test-mode rate limit', () => {
  let h: GateHarness;
  before(async () => {
    h = await startGateHarness();
  });
  after(async () => {
    await h?.stop();
  });

  // Without the client-side cap (the harness runs the gate as for the emulator), 20 gates at once hit
  // the limit: their rate-limited reads must come back spread out (jittered), not all in the same second
  // of Temporal's backoff, or the gates keep colliding for minutes (see bench/README.md).
  test('20 invoices closing at once under a 25 req/s limit all settle within 20 s', async () => {
    const members = await seedCohort(h, { size: 20, divergingEvery: 10 });
    await h.stripeEmulator.admin.clearRequests();
    await h.stripeEmulator.admin.setFaults({ rateLimitPerSecond: 25 });
    const started = Date.now();
    let settled: Array<{ invoice_id: string; outcome: string }> = [];
    try {
      await closeCohort(h, members);
      while (Date.now() - started < 20_000) {
        ({ rows: settled } = await h.ledger.query(
          `select invoice_id, outcome from invoice_gate.gate_runs where outcome in ('passed', 'held')`,
        ));
        if (settled.length === members.length) break;
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
    } finally {
      await h.stripeEmulator.admin.clearFaults();
    }
    const requests = await h.stripeEmulator.admin.requests();
    const rateLimited = requests.filter((r) => r.status === 429).length;
    assert.equal(
      settled.length,
      members.length,
      `${settled.length} of ${members.length} gates settled in 20 s; ${requests.length} Stripe requests, ${rateLimited} x 429`,
    );
    assert.equal(settled.filter((s) => s.outcome === 'held').length, 2);
  });
});
