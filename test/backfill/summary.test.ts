import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { BackfillReportLine } from '../../src/backfill/report-line';
import { formatBackfillSummary, formatMoney, summarizeBackfill } from '../../src/backfill/summary';

const at = new Date('2026-02-01T00:00:00Z');
function line(customerId: string, currency: string, impact: string | null, passed: boolean): BackfillReportLine {
  return {
    invoiceId: 'in_1',
    customerId,
    invoiceStatus: 'paid',
    created: at,
    lineId: 'il_1',
    eventName: 'api_call',
    periodStart: at,
    periodEnd: at,
    stripeQuantity: '1',
    ledgerQuantity: '1',
    difference: '0',
    variancePct: '0',
    estimatedImpactMinor: impact,
    currency,
    passed,
  };
}

test('sums over- and under-billing per currency, exactly, and ranks customers by absolute impact', () => {
  const summary = summarizeBackfill(
    [
      line('cus_a', 'usd', '0.1', true),
      line('cus_a', 'usd', '0.2', true),
      line('cus_b', 'usd', '-1500.5', false),
      line('cus_b', 'usd', '500', false),
      line('cus_c', 'eur', '12.25', false),
      line('cus_c', 'eur', null, false),
      line('cus_d', 'usd', '0', true),
    ],
    { done: 5, failed: 1 },
  );
  assert.deepEqual(summary, {
    invoices: 5,
    invoicesFailed: 1,
    lines: 7,
    divergingLines: 4,
    currencies: [
      {
        currency: 'eur',
        overBilledMinor: '12.25',
        underBilledMinor: '0',
        netMinor: '12.25',
        lines: 2,
        divergingLines: 2,
        linesWithoutImpact: 1,
      },
      {
        currency: 'usd',
        overBilledMinor: '500.3',
        underBilledMinor: '1500.5',
        netMinor: '-1000.2',
        lines: 5,
        divergingLines: 2,
        linesWithoutImpact: 0,
      },
    ],
    topCustomers: [
      {
        customerId: 'cus_b',
        currency: 'usd',
        absoluteImpactMinor: '2000.5',
        netImpactMinor: '-1000.5',
        lines: 2,
        divergingLines: 2,
      },
      {
        customerId: 'cus_c',
        currency: 'eur',
        absoluteImpactMinor: '12.25',
        netImpactMinor: '12.25',
        lines: 2,
        divergingLines: 2,
      },
      {
        customerId: 'cus_a',
        currency: 'usd',
        absoluteImpactMinor: '0.3',
        netImpactMinor: '0.3',
        lines: 2,
        divergingLines: 0,
      },
    ],
  });
});

test('top customers stop at ten, ties by customer id', () => {
  const lines = Array.from({ length: 12 }, (_, i) => line(`cus_${String(i).padStart(2, '0')}`, 'usd', '5', false));
  const top = summarizeBackfill(lines, { done: 12, failed: 0 }).topCustomers;
  assert.equal(top.length, 10);
  assert.deepEqual(
    top.map((c) => c.customerId),
    Array.from({ length: 10 }, (_, i) => `cus_${String(i).padStart(2, '0')}`),
  );
});

test("money in the currency's major unit, exact, with the currency's own decimals", () => {
  assert.equal(formatMoney('123456', 'usd'), 'USD 1,234.56');
  assert.equal(formatMoney('1234.5', 'usd'), 'USD 12.345');
  assert.equal(formatMoney('-5', 'eur'), '-EUR 0.05');
  assert.equal(formatMoney('1500', 'jpy'), 'JPY 1,500');
  assert.equal(formatMoney('1500', 'kwd'), 'KWD 1.500');
  assert.equal(formatMoney('0', 'usd'), 'USD 0.00');
});

test('prints the tables', () => {
  const text = formatBackfillSummary(
    summarizeBackfill([line('cus_b', 'usd', '-1500.5', false), line('cus_a', 'usd', '25', true)], {
      done: 2,
      failed: 0,
    }),
  );
  assert.equal(
    text,
    [
      'invoices  not comparable  lines  diverging lines',
      '--------  --------------  -----  ---------------',
      '       2               0      2                1',
      '',
      'Money (every compared line, at its unit price; over = Stripe billed more than the ledger counted):',
      'currency  over-billed  under-billed          net  lines  diverging  unpriced',
      '--------  -----------  ------------  -----------  -----  ---------  --------',
      'USD          USD 0.25    USD 15.005  -USD 14.755      2          1         0',
      '',
      'Top 10 customers by absolute impact:',
      'customer  absolute impact   net impact  lines  diverging',
      '--------  ---------------  -----------  -----  ---------',
      'cus_b          USD 15.005  -USD 15.005      1          1',
      'cus_a            USD 0.25     USD 0.25      1          0',
      '',
    ].join('\n'),
  );
});
