// What billing sees in the Temporal Web UI: a held invoice is found by the visibility query
// `InvoiceGateStatus="held"` (ListWorkflowExecutions / CountWorkflowExecutions), and its run shows
// the gate's search attributes and a static summary. Runs the real app on the Temporal emulator.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { WorkflowExecutionInfo } from '@temporalio/client';
import { gateWorkflowId } from '../../src/workflows/definitions';
import {
  GateVariancePctKey,
  InvoiceGateStatusKey,
  StripeCustomerIdKey,
  StripeInvoiceIdKey,
} from '../../src/temporal/search-attribute-keys';
import { closePeriod, seedCustomer, startGateHarness, timestamps, type GateHarness } from '../support/gate-harness';

const HELD = 'InvoiceGateStatus="held"';

async function list(h: GateHarness, query: string): Promise<WorkflowExecutionInfo[]> {
  const runs: WorkflowExecutionInfo[] = [];
  for await (const run of h.gate.client.workflow.list({ query })) runs.push(run);
  return runs;
}

describe('search attributes of gate runs', () => {
  let h: GateHarness;
  let held: { invoiceId: string; customerId: string };
  let passed: { invoiceId: string; customerId: string };

  before(async () => {
    h = await startGateHarness();
    // One invoice that passes and one that diverges by 20 % (120 in Stripe, 100 in the ledger).
    const matching = await seedCustomer(h, { name: 'Passing Co' });
    const diverging = await seedCustomer(h, { name: 'Held Ltd' });
    const usage = timestamps(matching.periodStart + 10, 120);
    await h.addMeterEvents(matching.customerId, matching.eventName, usage.slice(0, 100));
    await h.addLedgerEvents(matching.customerId, matching.eventName, usage.slice(0, 100));
    await h.addMeterEvents(diverging.customerId, diverging.eventName, usage);
    await h.addLedgerEvents(diverging.customerId, diverging.eventName, usage.slice(0, 100));
    const passedInvoice = await closePeriod(h, matching.periodEnd, matching.customerId);
    const heldInvoice = await closePeriod(h, diverging.periodEnd, diverging.customerId);
    await h.waitForStatus(passedInvoice, ['passed']);
    await h.waitFor(heldInvoice, (s) => s.status === 'held' && s.slackMessage !== null);
    passed = { invoiceId: passedInvoice, customerId: matching.customerId };
    held = { invoiceId: heldInvoice, customerId: diverging.customerId };
  });
  after(async () => {
    await h?.stop();
  });

  test('the gate registered its search attributes on the namespace', async () => {
    const response = await h.gate.client.connection.operatorService.listSearchAttributes({ namespace: 'default' });
    const custom = response.customAttributes ?? {};
    for (const key of [InvoiceGateStatusKey, StripeCustomerIdKey, StripeInvoiceIdKey, GateVariancePctKey]) {
      assert.ok(key.name in custom, `${key.name} is registered: ${JSON.stringify(Object.keys(custom))}`);
    }
  });

  test('InvoiceGateStatus="held" finds exactly the held run', async () => {
    const runs = await list(h, HELD);
    assert.deepEqual(
      runs.map((r) => r.workflowId),
      [gateWorkflowId(held.invoiceId)],
    );
    assert.equal(runs[0].status.name, 'RUNNING');
    assert.equal(runs[0].typedSearchAttributes.get(InvoiceGateStatusKey), 'held');
    assert.equal(runs[0].typedSearchAttributes.get(StripeInvoiceIdKey), held.invoiceId);

    // The other gates are found by their own status, and combined filters work as in the Web UI.
    assert.deepEqual(
      (await list(h, 'InvoiceGateStatus="passed"')).map((r) => r.workflowId),
      [gateWorkflowId(passed.invoiceId)],
    );
    assert.deepEqual(
      (await list(h, `${HELD} AND StripeCustomerId="${held.customerId}"`)).map((r) => r.workflowId),
      [gateWorkflowId(held.invoiceId)],
    );
    assert.deepEqual(await list(h, `${HELD} AND StripeCustomerId="${passed.customerId}"`), []);
    assert.deepEqual(
      (await list(h, 'GateVariancePct > 10')).map((r) => r.workflowId),
      [gateWorkflowId(held.invoiceId)],
    );
  });

  test('describe() shows the search attributes and the static summary', async () => {
    const description = await h.gate.client.workflow.getHandle(gateWorkflowId(held.invoiceId)).describe();
    const attributes = description.typedSearchAttributes;
    assert.equal(attributes.get(InvoiceGateStatusKey), 'held');
    assert.equal(attributes.get(StripeInvoiceIdKey), held.invoiceId);
    assert.equal(attributes.get(StripeCustomerIdKey), held.customerId);
    assert.equal(attributes.get(GateVariancePctKey), 20);
    const summary = await description.staticSummary();
    assert.ok(summary, 'a static summary is set');
    assert.match(summary, new RegExp(held.invoiceId));
    assert.match(summary, new RegExp(held.customerId));
  });

  test('count() counts held runs', async () => {
    assert.equal((await h.gate.client.workflow.count(HELD)).count, 1);
    assert.equal((await h.gate.client.workflow.count(`${HELD} AND StripeCustomerId="${passed.customerId}"`)).count, 0);
    const all = await h.gate.client.workflow.count('WorkflowType="invoiceGate"');
    assert.ok(all.count >= 2, `every gate run is counted: ${all.count}`);
  });
});
