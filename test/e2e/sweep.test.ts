// A missed webhook: the draft's invoice.created never reaches the gate (the endpoint is disabled when
// the period closes), and the sweep for missed webhooks gates it anyway, the way the webhook would have.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { WorkflowNotFoundError } from '@temporalio/client';
import { gateWorkflowId } from '../../src/workflows/definitions';
import { INVOICE_SWEEPER_WORKFLOW_ID } from '../../src/workflows/sweeper-definitions';
import { closePeriod, seedCustomer, startGateHarness, timestamps, type GateHarness } from '../support/gate-harness';

/** A round every 2 s: usually within a few seconds; the bound is loose for a busy CI machine. */
const SWEPT_WITHIN_MS = 60_000;

/** Polls `read` until it returns something (not undefined), at most `timeoutMs`. */
async function eventually<T>(
  what: string,
  read: () => Promise<T | undefined>,
  timeoutMs = SWEPT_WITHIN_MS,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const value = await read();
    if (value !== undefined) return value;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`${what}: not within ${timeoutMs} ms`);
}

describe('the sweep for missed webhooks', () => {
  let h: GateHarness;
  before(async () => {
    h = await startGateHarness({ env: { GATE_SWEEP_EVERY: '2s' } });
  });
  after(async () => {
    await h?.stop();
  });

  test('a draft whose invoice.created was never delivered is gated by the sweep, started by "sweep"', async () => {
    const sweeper = await h.gate.client.workflow.getHandle(INVOICE_SWEEPER_WORKFLOW_ID).describe();
    assert.equal(sweeper.status.name, 'RUNNING', 'the worker started the sweeper');

    const c = await seedCustomer(h, { name: 'Missed Webhook Inc' });
    const usage = timestamps(c.periodStart + 10, 20);
    await h.addMeterEvents(c.customerId, c.eventName, usage);
    await h.addLedgerEvents(c.customerId, c.eventName, usage);
    const [endpoint] = await h.stripeEmulator.admin.webhookEndpoints();
    await h.stripe.webhookEndpoints.update(endpoint.id, { disabled: true });
    const invoiceId = await closePeriod(h, c.periodEnd, c.customerId);

    const created = (await h.stripeEmulator.admin.events('invoice.created')).find(
      (e) => e.data.object.id === invoiceId,
    );
    assert.ok(created, 'Stripe emitted invoice.created');
    assert.deepEqual(await h.stripeEmulator.admin.deliveries({ eventId: created.id }), [], 'and never delivered it');

    // A draft younger than a minute is left to its webhook; Stripe's clock moves past that.
    await h.stripeEmulator.admin.advanceClock(2 * 60);
    const handle = h.gate.client.workflow.getHandle(gateWorkflowId(invoiceId));
    const description = await eventually('the gate exists', async () => {
      try {
        return await handle.describe();
      } catch (error) {
        if (error instanceof WorkflowNotFoundError) return undefined;
        throw error;
      }
    });
    assert.equal(description.memo?.startedBy, 'sweep');
    assert.equal(description.memo?.customerId, c.customerId);
    assert.equal(description.memo?.stripeEventId, undefined);

    const run = await eventually('the audit row', async () => {
      const row = await h.gate.audit.getRun(invoiceId);
      return row?.startedBy === 'sweep' ? row : undefined;
    });
    assert.equal(run.invoiceId, invoiceId);

    // From here it is an ordinary gate: the draft matches the ledger and passes.
    const decided = await h.waitForStatus(invoiceId, ['passed', 'held'], SWEPT_WITHIN_MS);
    assert.equal(decided.status, 'passed');

    const metrics = await (await fetch(`${h.gate.url}/metrics`)).text();
    assert.match(metrics, /^invoice_gate_sweep_found_total 1$/m, 'counted once as a missed webhook');
  });
});
