import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { GateState } from '../../src/gate/types';
import { decisionSignal, gateWorkflowId } from '../../src/workflows/definitions';
import {
  closePeriod,
  messageText,
  seedDivergingCustomer,
  startGateHarness,
  type GateHarness,
} from '../support/gate-harness';

describe('a gate that cannot count the ledger fails closed', () => {
  let h: GateHarness;
  before(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gate-config-'));
    const configPath = join(dir, 'invoice-gate.config.json');
    writeFileSync(configPath, JSON.stringify({ ledger: { table: 'usage_that_does_not_exist' } }));
    h = await startGateHarness({ env: { INVOICE_GATE_CONFIG: configPath } });
  });
  after(async () => {
    await h?.stop();
  });

  test('the invoice is held unverified, alerted with the reason, and can still be released by a person', async () => {
    const c = await seedDivergingCustomer(h, 'Misconfigured Ledger Co', 10, 10);
    const invoiceId = await closePeriod(h, c.periodEnd, c.customerId);

    const held = await h.waitFor(invoiceId, (s) => s.status === 'held' && s.slackMessage !== null);
    assert.equal(held.comparison, null);
    assert.match(held.reason ?? '', /ledger could not be counted.*usage_that_does_not_exist/);
    const invoice = await h.stripe.invoices.retrieve(invoiceId);
    assert.equal(invoice.auto_advance, false, 'paused: an unverifiable invoice is not let through');
    const alert = await h.slackEmulator.admin.message(held.slackMessage!.channel, held.slackMessage!.ts);
    assert.match(messageText(alert), /Could not verify against the ledger/);
    assert.match(messageText(alert), /gate_release/);

    const handle = h.gate.client.workflow.getHandle(gateWorkflowId(invoiceId));
    await handle.signal(decisionSignal, { action: 'recount', reviewer: 'U0ALICE' });
    await h.waitFor(invoiceId, (s) => s.status === 'held' && s.recounts === 1);
    await handle.signal(decisionSignal, {
      action: 'release',
      reviewer: 'U0ALICE',
      reason: 'other',
      note: 'counted by hand',
    });
    const result: GateState = await h.decision(invoiceId);
    assert.equal(result.status, 'released');
    assert.equal((await h.stripe.invoices.retrieve(invoiceId)).status, 'open');
  });
});
