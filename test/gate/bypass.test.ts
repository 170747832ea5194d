import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isBypass, type InvoiceEventOrigin } from '../../src/gate/bypass';

const holding = { holding: true, ownRequestIds: ['req_pause'] };
const finalized = (over: Partial<InvoiceEventOrigin> = {}): InvoiceEventOrigin => ({
  type: 'invoice.finalized',
  invoiceStatus: 'open',
  requestId: 'req_dashboard',
  idempotencyKey: null,
  ...over,
});

test('a held invoice finalized by another request is a bypass', () => {
  assert.equal(isBypass(finalized(), holding), true);
});

test('a finalization with no request while the gate holds the invoice is a bypass', () => {
  assert.equal(isBypass(finalized({ requestId: null }), holding), true);
});

test("the gate's own requests are not a bypass, by request id or by its idempotency key", () => {
  assert.equal(isBypass(finalized({ requestId: 'req_pause' }), holding), false);
  assert.equal(
    isBypass(finalized({ requestId: 'req_new', idempotencyKey: 'invoice-gate-finalize-in_1' }), holding),
    false,
  );
});

test('auto-advance turned back on by someone else is a bypass; other updates are not', () => {
  const updated = (over: Partial<InvoiceEventOrigin>) =>
    finalized({ type: 'invoice.updated', invoiceStatus: 'draft', ...over });
  assert.equal(isBypass(updated({ changedFields: ['auto_advance'], autoAdvance: true }), holding), true);
  assert.equal(isBypass(updated({ changedFields: ['auto_advance'], autoAdvance: false }), holding), false);
  assert.equal(isBypass(updated({ changedFields: ['metadata'], autoAdvance: false }), holding), false);
});

test('nothing is a bypass while the gate does not hold the invoice', () => {
  assert.equal(isBypass(finalized(), { holding: false, ownRequestIds: [] }), false);
});
