import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { decideBy } from '../../src/gate/deadline';
import { isSettled, laterStatus, mayChangeQuantities, statusOfEvent } from '../../src/gate/lifecycle';

const MIN = 60_000;
const start = Date.UTC(2026, 10, 1, 0, 0, 0);
const s = (ms: number) => ms / 1000;

describe('decideBy', () => {
  test("Stripe's time as read from the invoice, less the margin", () => {
    assert.equal(
      decideBy(
        { readFinalizesAt: s(start + 60 * MIN), announcedFinalizesAt: null, createdAt: null, gateStartedAtMs: start },
        15 * MIN,
      ),
      start + 45 * MIN,
    );
  });
  test('a read invoice Stripe will not finalize by itself has no deadline', () => {
    assert.equal(
      decideBy(
        { readFinalizesAt: null, announcedFinalizesAt: s(start + 10 * MIN), createdAt: null, gateStartedAtMs: start },
        15 * MIN,
      ),
      Infinity,
    );
  });
  test('before a read: the announced time, but never later than an hour after the webhook', () => {
    const announced72h = s(start + 72 * 60 * MIN);
    assert.equal(
      decideBy({ announcedFinalizesAt: announced72h, createdAt: s(start - 5 * MIN), gateStartedAtMs: start }, 15 * MIN),
      start + 45 * MIN,
    );
    assert.equal(
      decideBy({ announcedFinalizesAt: s(start + 20 * MIN), createdAt: s(start), gateStartedAtMs: start }, 15 * MIN),
      start + 5 * MIN,
    );
    assert.equal(
      decideBy({ announcedFinalizesAt: null, createdAt: null, gateStartedAtMs: start }, 15 * MIN),
      start + 45 * MIN,
    );
  });
});

describe('invoice lifecycle', () => {
  test("events say the status; the object's own status wins; a deleted draft is deleted", () => {
    assert.equal(statusOfEvent({ type: 'invoice.paid', invoiceStatus: null }), 'paid');
    assert.equal(statusOfEvent({ type: 'invoice.payment_failed', invoiceStatus: 'open' }), 'open');
    assert.equal(statusOfEvent({ type: 'invoice.updated', invoiceStatus: 'draft' }), 'draft');
    assert.equal(statusOfEvent({ type: 'invoice.deleted', invoiceStatus: 'draft' }), 'deleted');
    assert.equal(statusOfEvent({ type: 'invoice.sent', invoiceStatus: null }), null);
  });
  test('a status never moves back', () => {
    assert.equal(laterStatus('paid', 'open'), 'paid');
    assert.equal(laterStatus('open', 'paid'), 'paid');
    assert.equal(laterStatus('uncollectible', 'paid'), 'paid');
    assert.equal(laterStatus('void', 'paid'), 'void', 'the first final status stays');
    assert.equal(laterStatus(null, 'draft'), 'draft');
  });
  test('settled statuses', () => {
    assert.deepEqual(
      ['draft', 'open', 'paid', 'uncollectible', 'void', 'deleted', null].map((x) => isSettled(x as never)),
      [false, false, true, true, true, true, false],
    );
  });
  test("the gate's own writes do not count as late usage", () => {
    assert.equal(mayChangeQuantities(['auto_advance', 'metadata']), false);
    assert.equal(mayChangeQuantities(['lines', 'amount_due']), true);
    assert.equal(mayChangeQuantities(undefined), true);
  });
});
