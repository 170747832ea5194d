// Block Kit builders for the gate's alert, status updates and reminders.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  alertStatusFromState,
  buildHeldAlert,
  buildReminder,
  buildStatusMessage,
  decisionPossible,
  type AlertStatus,
} from '../../src/slack/alert-message';
import { formatMoneyMinor, formatPct, formatQuantity, formatDuration } from '../../src/slack/format';
import { alertInput, comparison, gateState, line } from './fixtures';

type AnyBlock = { type: string; text?: { text: string }; elements?: Array<Record<string, any>>; block_id?: string };

function allText(blocks: unknown[]): string {
  return JSON.stringify(blocks);
}

function actionsOf(blocks: unknown[]): Array<Record<string, any>> {
  return (blocks as AnyBlock[]).filter((b) => b.type === 'actions').flatMap((b) => b.elements ?? []);
}

describe('buildHeldAlert', () => {
  const alert = buildHeldAlert(alertInput());
  const text = allText(alert.blocks);

  test('names the customer (escaped), invoice, period and mode', () => {
    assert.match(text, /Acme &lt;Corp&gt; &amp; Co/);
    const mrkdwn = (alert.blocks as AnyBlock[])
      .filter((b) => b.type === 'section')
      .map((b) => b.text!.text)
      .join('\n');
    assert.ok(!mrkdwn.includes('Acme <Corp>'), 'data is escaped for mrkdwn');
    assert.equal(
      (alert.blocks[0] as AnyBlock).text!.text,
      'Invoice held: Acme <Corp> & Co',
      'plain_text header needs no escaping',
    );
    assert.match(text, /cus_acme/);
    assert.match(text, /in_1Test/);
    assert.match(text, /2025-10-01 – 2025-11-01 \(UTC\)/);
    assert.match(text, /test mode/);
    assert.match(
      alert.text,
      /^Invoice in_1Test for Acme &lt;Corp&gt; &amp; Co: held for review\. 1 metered line diverges from the ledger \(largest \+20 %\)/,
    );
  });

  test('lists only diverging lines with both counts, variance and impact', () => {
    assert.match(
      text,
      /API calls \(`api_call`\)\*: Stripe \*1,200\* · ledger \*1,000\* · \+200 \(\+20 %\) · impact \+USD 12\.35/,
    );
    assert.ok(!text.includes('Storage GB'), 'passing lines are not listed');
    assert.match(text, /1 of 2 metered lines/);
  });

  test('estimated impact in the invoice currency, decimal-exact', () => {
    assert.match(text, /\*Estimated impact:\* \+USD 12\.35 \(Stripe would bill more than the ledger counted\)/);
    assert.match(alert.text, /estimated impact \+USD 12\.35/);
  });

  test('links to the Stripe dashboard (test/) and the Temporal run', () => {
    assert.match(text, /https:\/\/dashboard\.stripe\.com\/test\/invoices\/in_1Test\|Invoice in Stripe/);
    assert.match(
      text,
      /http:\/\/localhost:8233\/namespaces\/default\/workflows\/invoice-gate-in_1Test\|Gate run in Temporal/,
    );
    const live = allText(buildHeldAlert(alertInput({ invoice: { ...alertInput().invoice, livemode: true } })).blocks);
    assert.match(live, /https:\/\/dashboard\.stripe\.com\/invoices\/in_1Test/);
  });

  test('no Temporal link without a Web UI (the embedded engine); the run page link when the gate signs one', () => {
    const embedded = allText(
      buildHeldAlert(
        alertInput({
          links: { temporalNamespace: 'default' },
          runPageUrl: 'http://gate.test/invoices/in_1Test?sig=1.ab',
        }),
      ).blocks,
    );
    assert.doesNotMatch(embedded, /Temporal/);
    assert.match(embedded, /<http:\/\/gate\.test\/invoices\/in_1Test\?sig=1\.ab\|Run page> · <https:\/\/dashboard/);
    assert.doesNotMatch(text, /Run page/, 'no link when none is given');
  });

  test('Release (primary; its modal asks for the reason) and Recount buttons carry the invoice id', () => {
    const buttons = actionsOf(alert.blocks);
    assert.deepEqual(
      buttons.map((b) => [b.action_id, b.value, b.style]),
      [
        ['gate_release', 'in_1Test', 'primary'],
        ['gate_recount', 'in_1Test', undefined],
      ],
    );
    assert.equal(buttons[0].text.text, 'Release');
    assert.equal(buttons[1].text.text, 'Recount');
    assert.equal(buttons[0].confirm, undefined, 'the reason modal is the confirmation');
  });

  test('awaiting a second approval: the alert names the first approver and the reason, and offers Approve release and Recount', () => {
    const message = buildStatusMessage(alertInput(), {
      kind: 'awaiting_second_approval',
      approvedBy: 'U0ALICE',
      reason: 'The ledger was late: batch ran at 03:00',
    });
    const buttons = actionsOf(message.blocks);
    assert.deepEqual(
      buttons.map((b) => [b.action_id, b.text.text]),
      [
        ['gate_approve', 'Approve release'],
        ['gate_recount', 'Recount'],
      ],
    );
    const text = allText(message.blocks);
    assert.match(text, /Released by <@U0ALICE>; a second reviewer must approve/);
    assert.match(text, /Reason:\* The ledger was late: batch ran at 03:00/);
  });

  test('released with a reason and a second approver; bypassed: no buttons, the words say what happened', () => {
    const released = allText(
      buildStatusMessage(alertInput(), {
        kind: 'released',
        reviewer: 'U0ALICE',
        approvedBy: 'U0BOB',
        at: new Date('2026-12-01T10:00:00Z'),
        reason: 'Contract exception',
      }).blocks,
    );
    assert.match(released, /Released by <@U0ALICE>\*, approved by <@U0BOB>,/);
    assert.match(released, /Reason:\* Contract exception/);
    const bypassed = buildStatusMessage(alertInput(), {
      kind: 'bypassed',
      reason: 'finalized outside the gate by request req_123',
    });
    assert.equal(actionsOf(bypassed.blocks).length, 0);
    assert.match(allText(bypassed.blocks), /Finalized outside the gate\.\* .*req_123/);
  });

  test('stays within Slack limits with many diverging lines', () => {
    const lines = Array.from({ length: 250 }, (_, i) =>
      line({ lineId: `il_${i}`, description: `Line ${i} ${'x'.repeat(200)}` }),
    );
    const big = buildHeldAlert(alertInput({ comparison: comparison({ lines }) }));
    assert.ok(big.blocks.length <= 50);
    for (const b of big.blocks as AnyBlock[]) if (b.type === 'section') assert.ok(b.text!.text.length <= 3000);
    assert.match(allText(big.blocks), /and 240 more diverging lines/);
  });

  test('a ledger of 0 and lines without a unit price', () => {
    const c = comparison({
      lines: [line({ ledgerQuantity: '0', difference: '1200', variancePct: null, estimatedImpactMinor: null })],
      maxVariancePct: '100',
      totalEstimatedImpactMinor: '0',
    });
    const t = allText(buildHeldAlert(alertInput({ comparison: c })).blocks);
    assert.match(t, /\+1,200 \(ledger is 0\)/);
    assert.ok(!t.includes('impact +'), 'no per-line impact without a unit price');
    assert.match(t, /\*Estimated impact:\* USD 0\.00 · largest variance \+100 %/);
  });
});

describe('money tolerance in the alert', () => {
  test('the tolerance names the money limit and a line without an impact says why', () => {
    const c = comparison({
      tolerance: { pct: '5', abs: '0', money: '1000' },
      lines: [
        line({ estimatedImpactMinor: '45000' }),
        line({
          lineId: 'il_custom',
          description: 'Custom <deal>',
          estimatedImpactMinor: null,
          impactUnavailableReason: "billing_scheme 'x<y>' is not known to the gate",
        }),
      ],
    });
    const t = allText(buildHeldAlert(alertInput({ comparison: c })).blocks);
    assert.match(t, /tolerance: max\(0, 5 % of ledger\) and impact within USD 10\.00/);
    assert.match(t, /impact \+USD 450\.00/);
    assert.match(t, /impact unavailable: billing_scheme 'x&lt;y&gt;' is not known to the gate/);
  });

  test('without a money limit the tolerance reads as before', () => {
    const t = allText(buildHeldAlert(alertInput()).blocks);
    assert.match(t, /tolerance: max\(0, 1 % of ledger\)\)/);
    assert.ok(!t.includes('impact within'));
  });
});

describe('buildStatusMessage', () => {
  const input = alertInput();
  const at = new Date('2025-11-01T10:15:00Z');
  const cases: Array<[AlertStatus, RegExp, boolean]> = [
    [{ kind: 'held' }, /Held\./, true],
    [{ kind: 'recounting', requestedBy: 'U0ALICE' }, /Recounting…\* \(requested by <@U0ALICE>\)/, false],
    [
      { kind: 'released', reviewer: 'U0ALICE', at },
      /Released by <@U0ALICE>\* at <!date\^1761992100\^\{date_short_pretty\} at \{time\}\|2025-11-01 10:15 UTC>/,
      false,
    ],
    [{ kind: 'auto_released', at }, /Auto-released after recount/, false],
    [{ kind: 'finalized_in_stripe', at }, /Finalized in Stripe meanwhile/, false],
    [{ kind: 'voided_in_stripe' }, /Voided in Stripe/, false],
    [{ kind: 'deleted_in_stripe' }, /Deleted in Stripe/, false],
    [{ kind: 'still_diverging', recounts: 2, comparison: comparison() }, /Still diverging after recount #2/, true],
    [{ kind: 'too_late' }, /Too late to hold/, false],
  ];
  for (const [status, re, buttons] of cases) {
    test(`${status.kind}: says so; buttons ${buttons ? 'shown' : 'gone'}`, () => {
      const m = buildStatusMessage(input, status);
      assert.match(allText(m.blocks), re);
      assert.equal(actionsOf(m.blocks).length > 0, buttons);
      assert.equal(decisionPossible(status), buttons);
      assert.ok(m.text.length > 0);
    });
  }

  test('released: plain text names the reviewer and time', () => {
    const m = buildStatusMessage(input, { kind: 'released', reviewer: 'U0ALICE', at });
    assert.match(m.text, /released by <@U0ALICE> at 2025-11-01 10:15 UTC/);
    assert.match((m.blocks[0] as AnyBlock).text!.text, /^Invoice released:/);
  });

  test('still diverging shows the new counts', () => {
    const recount = comparison({
      lines: [line({ stripeQuantity: '1300', ledgerQuantity: '1100', difference: '200', variancePct: '18.1818' })],
      maxVariancePct: '18.1818',
    });
    const t = allText(buildStatusMessage(input, { kind: 'still_diverging', recounts: 1, comparison: recount }).blocks);
    assert.match(t, /Diverging lines after recount/);
    assert.match(t, /Stripe \*1,300\* · ledger \*1,100\* · \+200 \(\+18\.18 %\)/);
    assert.match(t, /Still diverging after recount\./);
  });
});

describe('buildReminder', () => {
  test('says how long the invoice has been held', () => {
    const heldSince = new Date('2025-11-01T00:00:00Z');
    const r = buildReminder(alertInput(), heldSince, new Date('2025-11-01T04:00:00Z'));
    assert.match(r.text, /invoice in_1Test for Acme &lt;Corp&gt; &amp; Co has been held for 4 h\./);
    assert.match(allText(r.blocks), /held for \*4 h\*/);
    assert.match(buildReminder(alertInput(), heldSince, new Date('2025-11-02T04:30:00Z')).text, /held for 28 h 30 min/);
    assert.equal(actionsOf(r.blocks).length, 0);
  });

  test('links the run page when the gate signs one', () => {
    const at = new Date('2025-11-01T04:00:00Z');
    const r = buildReminder(alertInput({ runPageUrl: 'http://gate.test/invoices/in_1Test?sig=1.ab' }), at, at);
    assert.match(allText(r.blocks), /<http:\/\/gate\.test\/invoices\/in_1Test\?sig=1\.ab\|Run page>/);
  });
});

describe('format', () => {
  test('money is exact in minor units, per currency exponent', () => {
    assert.equal(formatMoneyMinor('123456789012345678.5', 'usd'), 'USD 1,234,567,890,123,456.79');
    assert.equal(formatMoneyMinor('-0.4', 'usd', { signed: true }), 'USD 0.00');
    assert.equal(formatMoneyMinor('-250', 'eur', { signed: true }), '-EUR 2.50');
    assert.equal(formatMoneyMinor('1500', 'jpy'), 'JPY 1,500');
    assert.equal(formatMoneyMinor('1500', 'kwd'), 'KWD 1.500');
    assert.equal(formatMoneyMinor('0.1', 'usd'), 'USD 0.00');
    assert.equal(formatMoneyMinor('30', 'usd'), 'USD 0.30');
  });

  test('quantities, percentages, durations', () => {
    assert.equal(formatQuantity('1234567.125'), '1,234,567.125');
    assert.equal(formatQuantity('0.1'), '0.1');
    assert.equal(formatPct('-3.14159'), '-3.14 %');
    assert.equal(formatPct('0'), '0 %');
    assert.equal(formatPct(null), 'n/a');
    assert.equal(formatDuration(5 * 60_000), '5 min');
    assert.equal(formatDuration(3 * 86_400_000 + 2 * 3_600_000), '3 d 2 h');
  });
});

describe('alertStatusFromState', () => {
  const at = new Date('2025-11-01T10:15:00Z');
  test('maps each gate status the workflow reports', () => {
    assert.deepEqual(alertStatusFromState(gateState(), at), { kind: 'held' });
    const recounted = alertStatusFromState(gateState({ recounts: 2 }), at);
    assert.equal(recounted?.kind, 'still_diverging');
    assert.deepEqual(
      alertStatusFromState(
        gateState({ status: 'recounting', decision: { action: 'recount', reviewer: 'U0ALICE' } }),
        at,
      ),
      { kind: 'recounting', requestedBy: 'U0ALICE' },
    );
    assert.deepEqual(
      alertStatusFromState(
        gateState({ status: 'released', reviewer: 'U0ALICE', decision: { action: 'release', reviewer: 'U0ALICE' } }),
        at,
      ),
      { kind: 'released', reviewer: 'U0ALICE', at },
    );
    assert.equal(alertStatusFromState(gateState({ status: 'auto_released' }), at)?.kind, 'auto_released');
    assert.equal(
      alertStatusFromState(
        gateState({
          status: 'resolved_in_stripe',
          invoiceStatus: 'void',
          reason: 'the invoice was voided in Stripe (evt_1)',
        }),
        at,
      )?.kind,
      'voided_in_stripe',
    );
    assert.equal(
      alertStatusFromState(
        gateState({
          status: 'resolved_in_stripe',
          invoiceStatus: 'deleted',
          reason: 'the invoice was deleted in Stripe (evt_1)',
        }),
        at,
      )?.kind,
      'deleted_in_stripe',
    );
    assert.equal(
      alertStatusFromState(
        gateState({
          status: 'resolved_in_stripe',
          invoiceStatus: 'void',
          reason: 'the invoice became void in Stripe (evt_2)',
        }),
        at,
      )?.kind,
      'voided_in_stripe',
    );
    assert.deepEqual(
      alertStatusFromState(
        gateState({ status: 'resolved_in_stripe', reason: 'the invoice was paid in Stripe (evt_1)' }),
        at,
      ),
      { kind: 'finalized_in_stripe', at, reason: 'the invoice was paid in Stripe (evt_1)' },
    );
    assert.deepEqual(
      alertStatusFromState(gateState({ status: 'too_late', reason: 'the invoice was already open' }), at),
      { kind: 'too_late', reason: 'the invoice was already open' },
    );
    for (const status of ['reading', 'counting', 'passed', 'skipped'] as const)
      assert.equal(alertStatusFromState(gateState({ status }), at), null);
  });

  test('a Stripe-side resolution shows its reason', () => {
    const m = buildStatusMessage(alertInput(), {
      kind: 'finalized_in_stripe',
      reason: 'the invoice was paid in Stripe (evt_1)',
    });
    assert.match(
      allText(m.blocks),
      /Finalized in Stripe meanwhile\*; no decision needed any more\. The invoice was paid in Stripe \(evt_1\)\./,
    );
  });
});
