import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { DivergenceExplanation } from '../../src/gate/divergence-buckets';
import { judgeHistory } from '../../src/gate/history-jump';
import { buildHeldAlert, type AlertInput } from '../../src/slack/alert-message';
import { explanationBlocks, formatWindow, historyBlocks, windowText } from '../../src/slack/divergence-explanation';
import { buildHistoryHeadsUp } from '../../src/slack/history-heads-up';
import { compareInvoice } from '../../src/gate/compare';

const H = 3600;
/** 2026-11-14 00:00 UTC */
const DAY = Date.UTC(2026, 10, 14) / 1000;

const window = (start: number, end: number, stripe: string, ledger: string) => ({
  start,
  end,
  grain: 'hour' as const,
  stripe,
  ledger,
  difference: String(Number(stripe) - Number(ledger)),
});

describe('windows in the alert', () => {
  test('a window reads as the issue shows it', () => {
    assert.equal(
      windowText(window(DAY + 13 * H, DAY + 16 * H, '412', '0'), 'count'),
      '2026-11-14 13:00-16:00 UTC: Stripe +412, ledger +0',
    );
    assert.equal(formatWindow(DAY, DAY + 24 * H), '2026-11-14 00:00-24:00 UTC');
    assert.equal(formatWindow(DAY - 2 * H, DAY + 2 * H), '2026-11-13 22:00 – 2026-11-14 02:00 UTC');
    assert.equal(formatWindow(DAY + 13 * H + 27 * 60, DAY + 14 * H), '2026-11-14 13:27-14:00 UTC');
  });

  const explained: DivergenceExplanation = {
    status: 'explained',
    lines: [
      {
        lineId: 'il_1',
        eventName: 'api_call',
        formula: 'count',
        windows: [window(DAY + 13 * H, DAY + 16 * H, '412', '0'), window(DAY + 20 * H, DAY + 21 * H, '3', '1')],
        bucketCount: 5,
      },
      {
        lineId: 'il_2',
        eventName: 'seats_peak',
        formula: 'last',
        windows: [window(DAY + 9 * H, DAY + 10 * H, '7', '5')],
        bucketCount: 1,
        deciding: { stripe: { start: DAY + 9 * H, end: DAY + 10 * H, value: '7' }, ledger: null },
      },
    ],
  };

  test("the held alert shows the top windows per line, the bucket count, and a last meter's deciding event", () => {
    const input: AlertInput = {
      invoice: {
        invoiceId: 'in_1',
        customerId: 'cus_1',
        customerName: 'Acme',
        customerEmail: null,
        currency: 'usd',
        livemode: false,
        periodStart: DAY - 30 * 24 * H,
        periodEnd: DAY + 24 * H,
      },
      comparison: compareInvoice(
        [
          {
            lineId: 'il_1',
            description: null,
            priceId: 'price_1',
            meterId: 'mtr_1',
            eventName: 'api_call',
            formula: 'count',
            periodStart: DAY - 30 * 24 * H,
            periodEnd: DAY + 24 * H,
            stripeQuantity: '1530',
            unitAmountDecimal: null,
          },
        ],
        { il_1: '1500' },
        { pct: '1', abs: '0' },
      ),
      explanation: explained,
      workflowId: 'invoice-gate-in_1',
      links: { temporalUiUrl: 'http://localhost:8233', temporalNamespace: 'default' },
    };
    const text = JSON.stringify(buildHeldAlert(input).blocks);
    assert.ok(text.includes('2026-11-14 13:00-16:00 UTC: Stripe +412, ledger +0'));
    assert.ok(text.includes('2026-11-14 20:00-21:00 UTC: Stripe +3, ledger +1'));
    assert.match(text, /5 differing buckets in all/);
    assert.match(text, /latest value Stripe 7, ledger 5/);
    assert.match(text, /Deciding \(latest\) event: Stripe in 2026-11-14 09:00-10:00 UTC \(value 7\); ledger: none/);
    assert.match(text, /gate_release/);
  });

  test('unavailable: the alert says so; nothing before an explanation', () => {
    const [block] = explanationBlocks({ status: 'unavailable', reason: 'Stripe meter event summaries list failed' });
    assert.match(JSON.stringify(block), /Breakdown by time unavailable/);
    assert.deepEqual(explanationBlocks(undefined), []);
  });
});

describe('history in the alert and the heads-up', () => {
  const history = {
    jump: '5',
    action: 'alert' as const,
    lines: [
      judgeHistory(
        { lineId: 'il_1', eventName: 'api_call', quantity: '12000', previous: ['1200', '1200'], source: 'audit' },
        '5',
      ),
      judgeHistory({ lineId: 'il_2', eventName: 'storage', quantity: '10', previous: ['10'], source: 'audit' }, '5'),
    ],
  };

  test('only flagged lines are shown', () => {
    const text = JSON.stringify(historyBlocks(history));
    assert.match(text, /api_call` jumped: 12,000 against a median of 1,200 over 2 previous invoices \(10x\)/);
    assert.doesNotMatch(text, /storage/);
    assert.deepEqual(historyBlocks({ ...history, lines: [history.lines[1]] }), []);
  });

  test('the heads-up has no buttons', () => {
    const message = buildHistoryHeadsUp({
      invoice: {
        invoiceId: 'in_2',
        customerId: 'cus_1',
        customerName: null,
        customerEmail: null,
        currency: 'eur',
        livemode: true,
        periodStart: DAY,
        periodEnd: DAY + 30 * 24 * H,
      },
      comparison: null,
      history,
      workflowId: 'invoice-gate-in_2',
      links: { temporalUiUrl: 'http://localhost:8233', temporalNamespace: 'default' },
    });
    assert.match(message.text, /1 metered line is far from the customer's history/);
    assert.doesNotMatch(JSON.stringify(message.blocks), /"actions"/);
  });
});
