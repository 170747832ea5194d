import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { isDecision } from '../../src/gate/decision';
import { stripeResolution } from '../../src/gate/stripe-resolution';
import { describeGate } from '../../src/gate/describe-gate';

describe('isDecision', () => {
  test('accepts release, recount and approve with a reviewer (the rules then decide)', () => {
    assert.equal(isDecision({ action: 'release', reviewer: 'U1' }), true);
    assert.equal(isDecision({ action: 'release', reviewer: 'U1', reason: 'ledger_late' }), true);
    assert.equal(isDecision({ action: 'recount', reviewer: 'U1', note: 'late events' }), true);
    assert.equal(isDecision({ action: 'approve', reviewer: 'U1' }), true);
  });
  test('rejects anything else', () => {
    for (const bad of [
      null,
      'release',
      {},
      { action: 'finalize', reviewer: 'U1' },
      { action: 'release' },
      { action: 'release', reviewer: 'U1', reason: 7 },
      { action: 'release', reviewer: '  ' },
      { action: 'release', reviewer: 'U1', note: 5 },
    ]) {
      assert.equal(isDecision(bad), false, JSON.stringify(bad));
    }
  });
});

describe('stripeResolution', () => {
  test('settling events end the wait with a reason', () => {
    assert.deepEqual(stripeResolution([{ eventId: 'evt_1', type: 'invoice.voided', invoiceStatus: 'void' }]), {
      reason: 'the invoice was voided in Stripe (evt_1)',
      invoiceStatus: 'void',
    });
    assert.match(
      stripeResolution([{ eventId: 'evt_2', type: 'invoice.finalized', invoiceStatus: 'open' }])?.reason ?? '',
      /finalized/,
    );
    assert.deepEqual(
      stripeResolution([{ eventId: 'evt_3', type: 'invoice.deleted', invoiceStatus: null }])?.invoiceStatus,
      'deleted',
    );
  });
  test('an update that leaves the invoice a draft keeps the gate waiting', () => {
    assert.equal(stripeResolution([{ eventId: 'evt_4', type: 'invoice.updated', invoiceStatus: 'draft' }]), null);
    assert.equal(stripeResolution([]), null);
  });
  test('an update that shows the invoice left draft settles it', () => {
    assert.match(
      stripeResolution([{ eventId: 'evt_5', type: 'invoice.updated', invoiceStatus: 'open' }])?.reason ?? '',
      /became open/,
    );
  });
});

test('describeGate summarises status, variance and reviewer', () => {
  const text = describeGate({
    invoiceId: 'in_1',
    customerId: 'cus_1',
    status: 'released',
    invoiceStatus: 'open',
    heldSince: 0,
    decision: { action: 'release', reviewer: 'U0ALICE' },
    reviewer: 'U0ALICE',
    slackMessage: null,
    recounts: 0,
    reason: 'released by U0ALICE',
    comparison: {
      lines: [],
      passed: false,
      maxVariancePct: '20',
      totalEstimatedImpactMinor: '0',
      tolerance: { pct: '1', abs: '0' },
    },
  });
  assert.match(text, /\*\*released\*\* · invoice in_1 · customer cus_1 · max variance 20%/);
  assert.match(text, /decided by U0ALICE/);
});
