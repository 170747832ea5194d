// The Slack messages of observe mode: the button-less "Would have held" alert (both counts per line, as
// the held alert shows them) and the daily digest.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { alertStatusFromState, buildStatusMessage, decisionPossible } from '../../src/slack/alert-message';
import { buildObserveDigest } from '../../src/slack/digest-message';
import { alertInput, gateState } from './fixtures';

const text = (m: { text: string; blocks: unknown[] }) => `${m.text} ${JSON.stringify(m.blocks)}`;
const AT = new Date('2025-11-02T10:00:00Z');

test('would_hold: "Would have held", both counts per line, no buttons', () => {
  const status = alertStatusFromState(gateState({ status: 'would_hold', mode: 'observe', heldSince: null }), AT);
  assert.deepEqual(status, { kind: 'would_hold' });
  assert.equal(decisionPossible(status!), false);
  const message = buildStatusMessage(alertInput(), status!);
  assert.equal(message.blocks[0].type, 'header');
  assert.match(JSON.stringify(message.blocks[0]), /Would have held: Acme <Corp> & Co/);
  assert.match(text(message), /Stripe \*1,200\* · ledger \*1,000\*/);
  assert.match(text(message), /Nothing was paused; Stripe finalizes it as scheduled/);
  assert.ok(!message.blocks.some((b) => b.type === 'actions'), 'no Release / Recount');
  assert.match(message.text, /would have held \(observe mode; nothing paused\)/);
});

test('would_hold without a comparison: what enforce would do, and no advice to click', () => {
  const status = { kind: 'would_hold' } as const;
  const unverified = text(
    buildStatusMessage(alertInput({ comparison: null, unverifiedReason: 'no table billing.usage' }), status),
  );
  assert.match(unverified, /Would have held: could not verify against the ledger/);
  assert.match(unverified, /fix the ledger mapping \(INVOICE_GATE_CONFIG\) before switching to enforce/);
  assert.doesNotMatch(unverified, /click/i);
  const deadline = text(
    buildStatusMessage(
      alertInput({ comparison: null, unverifiedReason: 'Stripe is slow', stillChecking: true }),
      status,
    ),
  );
  assert.match(deadline, /Would have held: the check could not complete/);
  assert.match(deadline, /Enforce mode would have paused it/);
});

test('an observed gate that passes after all: the message says so without claiming a resume', () => {
  const state = gateState({ status: 'passed', mode: 'observe', slackMessage: { channel: 'C1', ts: '1.0' } });
  const status = alertStatusFromState(state, AT);
  assert.deepEqual(status, { kind: 'resumed', at: AT, reason: undefined, observed: true });
  const message = text(buildStatusMessage(alertInput(), status!));
  assert.match(message, /Within tolerance now/);
  assert.doesNotMatch(message, /Auto-advance is on again/);
  const enforced = alertStatusFromState({ ...state, mode: 'enforce' }, AT);
  assert.deepEqual(enforced, { kind: 'resumed', at: AT, reason: undefined });
});

test('the digest: the day, the counts, money per currency over and under', () => {
  const message = buildObserveDigest({
    period: { from: Date.parse('2025-11-01T09:00:00Z'), to: Date.parse('2025-11-02T09:00:00Z') },
    checked: 12,
    wouldHold: 1,
    money: [
      { currency: 'eur', overMinor: '0', underMinor: '250', linesWithoutPrice: 0 },
      { currency: 'usd', overMinor: '1234567.5', underMinor: '300', linesWithoutPrice: 2 },
    ],
  });
  assert.equal(
    message.text,
    'Invoice gate daily digest (2025-11-01 09:00 UTC – 2025-11-02 09:00 UTC): 12 invoices checked, 1 would have been held. ' +
      'Money at stake: EUR 0.00 over, EUR 2.50 under; USD 12,345.68 over, USD 3.00 under.',
  );
  const all = text(message);
  assert.match(all, /\*EUR\*: EUR 0.00 billed over the ledger · EUR 2.50 under/);
  assert.match(all, /\*USD\*: USD 12,345.68 billed over the ledger · USD 3.00 under · 2 lines without a unit price/);
  assert.ok(!message.blocks.some((b) => b.type === 'actions'));
  const quiet = buildObserveDigest({ period: { from: 0, to: 86_400_000 }, checked: 1, wouldHold: 0, money: [] });
  assert.match(text(quiet), /1 invoice checked, 0 would have been held/);
  assert.match(text(quiet), /Money at stake:\* none/);
});
