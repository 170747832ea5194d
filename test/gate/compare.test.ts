import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { compareInvoice, compareLine } from '../../src/gate/compare';
import type { MeteredLine } from '../../src/gate/types';

function line(stripeQuantity: string, overrides: Partial<MeteredLine> = {}): MeteredLine {
  return {
    lineId: 'il_1',
    description: 'API calls',
    priceId: 'price_1',
    meterId: 'mtr_1',
    eventName: 'api_call',
    formula: 'count',
    periodStart: 1_700_000_000,
    periodEnd: 1_702_592_000,
    stripeQuantity,
    unitAmountDecimal: '2',
    ...overrides,
  };
}
const exact = { pct: '0', abs: '0' };

describe('compareLine', () => {
  test('equal quantities pass with zero variance', () => {
    const result = compareLine(line('1000'), '1000', exact);
    assert.equal(result.passed, true);
    assert.equal(result.difference, '0');
    assert.equal(result.variancePct, '0');
    assert.equal(result.estimatedImpactMinor, '0');
  });

  test('the percentage tolerance is inclusive at its boundary', () => {
    const onePct = { pct: '1', abs: '0' };
    assert.equal(compareLine(line('1010'), '1000', onePct).passed, true);
    assert.equal(compareLine(line('990'), '1000', onePct).passed, true);
    assert.equal(compareLine(line('1010.000001'), '1000', onePct).passed, false);
  });

  test('the absolute tolerance applies when it is larger than the percentage', () => {
    const tolerance = { pct: '1', abs: '5' };
    assert.equal(compareLine(line('105'), '100', tolerance).passed, true);
    assert.equal(compareLine(line('106'), '100', tolerance).passed, false);
  });

  test('a ledger of zero with Stripe billing usage never passes, whatever the tolerance', () => {
    const result = compareLine(line('3'), '0', { pct: '50', abs: '10' });
    assert.equal(result.passed, false);
    assert.equal(result.variancePct, null);
  });

  test('both zero passes', () => {
    const result = compareLine(line('0'), '0', exact);
    assert.equal(result.passed, true);
    assert.equal(result.variancePct, null);
  });

  test('decimal quantities are compared exactly, not as floats', () => {
    // 0.1 + 0.2 is 0.30000000000000004 in floating point.
    assert.equal(compareLine(line('0.3'), '0.3', exact).passed, true);
    const result = compareLine(line('0.30000000000000004'), '0.3', exact);
    assert.equal(result.passed, false);
    assert.equal(result.difference, '4e-17');
  });

  test('variance and money impact are signed: Stripe over the ledger costs the customer', () => {
    const over = compareLine(line('1200', { unitAmountDecimal: '0.5' }), '1000', exact);
    assert.equal(over.variancePct, '20');
    assert.equal(over.estimatedImpactMinor, '100');
    const under = compareLine(line('800'), '1000', exact);
    assert.equal(under.variancePct, '-20');
    assert.equal(under.estimatedImpactMinor, '-400');
  });

  test('no unit price means no money estimate', () => {
    assert.equal(compareLine(line('5', { unitAmountDecimal: null }), '4', exact).estimatedImpactMinor, null);
  });
});

describe('compareInvoice', () => {
  test('one diverging line holds the invoice and sets the maximum variance', () => {
    const result = compareInvoice(
      [line('100', { lineId: 'il_a' }), line('150', { lineId: 'il_b' })],
      { il_a: '100', il_b: '100' },
      { pct: '1', abs: '0' },
    );
    assert.equal(result.passed, false);
    assert.deepEqual(
      result.lines.map((l) => l.passed),
      [true, false],
    );
    assert.equal(result.maxVariancePct, '50');
    assert.equal(result.totalEstimatedImpactMinor, '100');
  });

  test('a line missing from the ledger counts as zero and reports 100 % variance', () => {
    const result = compareInvoice([line('7')], {}, { pct: '1', abs: '0' });
    assert.equal(result.passed, false);
    assert.equal(result.lines[0].ledgerQuantity, '0');
    assert.equal(result.maxVariancePct, '100');
  });

  test('all lines within tolerance pass', () => {
    const result = compareInvoice([line('100.5')], { il_1: '100' }, { pct: '1', abs: '0' });
    assert.equal(result.passed, true);
    assert.equal(result.maxVariancePct, '0.5');
  });
});

describe('money tolerance', () => {
  const tiered = {
    billingScheme: 'tiered',
    currency: 'usd',
    billedCurrency: 'usd',
    unitAmountDecimal: null,
    transformQuantity: null,
    tiersMode: 'graduated',
    tiers: [
      { upTo: '1000', unitAmountDecimal: '10', flatAmountDecimal: null },
      { upTo: null, unitAmountDecimal: '5', flatAmountDecimal: null },
    ],
    customUnitAmount: false,
  };
  // Quantity rule: 5 %; money rule: USD 10.00.
  const tolerance = { pct: '5', abs: '0', money: '1000' };

  test('a 3 % variance on a cheap line passes, a 0.5 % variance on an expensive line is held', () => {
    const cheap = compareLine(line('103', { unitAmountDecimal: '4' }), '100', tolerance);
    assert.equal(cheap.estimatedImpactMinor, '12');
    assert.equal(cheap.passed, true);
    const expensive = compareLine(line('1005', { unitAmountDecimal: '9000' }), '1000', tolerance);
    assert.equal(expensive.variancePct, '0.5');
    assert.equal(expensive.estimatedImpactMinor, '45000');
    assert.equal(expensive.passed, false);
  });

  test('the limit is inclusive and applies to the absolute impact (under-billing too)', () => {
    assert.equal(compareLine(line('1005', { unitAmountDecimal: '200' }), '1000', tolerance).passed, true);
    assert.equal(compareLine(line('995', { unitAmountDecimal: '200' }), '1000', tolerance).passed, true);
    assert.equal(compareLine(line('995', { unitAmountDecimal: '200.0002' }), '1000', tolerance).passed, false);
  });

  test('every configured limit must pass: the quantity rule still holds a cheap line beyond it', () => {
    const result = compareLine(line('110', { unitAmountDecimal: '1' }), '100', tolerance);
    assert.equal(result.estimatedImpactMinor, '10');
    assert.equal(result.passed, false);
  });

  test('the impact follows the price shape (graduated tiers)', () => {
    // 1,100 vs 1,000: the extra 100 units are in the 5-cent tier, USD 5.00: within USD 10.00.
    const result = compareLine(line('1100', { unitAmountDecimal: null, pricing: tiered }), '1050', tolerance);
    assert.equal(result.estimatedImpactMinor, '250');
    assert.equal(result.impactUnavailableReason, null);
    assert.equal(result.passed, true);
    const beyond = compareLine(line('1100', { unitAmountDecimal: null, pricing: tiered }), '1000', {
      ...tolerance,
      money: '499',
    });
    assert.equal(beyond.estimatedImpactMinor, '500');
    assert.equal(beyond.passed, false);
  });

  test('an impact that cannot be computed fails the money rule (fail closed) and says why', () => {
    const unknown = { ...tiered, tiers: null };
    const result = compareLine(line('1001', { unitAmountDecimal: null, pricing: unknown }), '1000', tolerance);
    assert.equal(result.estimatedImpactMinor, null);
    assert.equal(result.impactUnavailableReason, 'Stripe did not send the price tiers');
    assert.equal(result.passed, false);
    // Without a money limit the same line is judged on quantities alone, as before.
    const noMoney = compareLine(line('1001', { unitAmountDecimal: null, pricing: unknown }), '1000', {
      pct: '5',
      abs: '0',
    });
    assert.equal(noMoney.passed, true);
    assert.equal(noMoney.impactUnavailableReason, 'Stripe did not send the price tiers');
  });

  test('equal quantities pass whatever the price', () => {
    const unknown = { ...tiered, billingScheme: 'matrix' };
    assert.equal(compareLine(line('10', { pricing: unknown }), '10', tolerance).passed, true);
  });

  test('compareInvoice keeps the money limit in the comparison and sums the known impacts', () => {
    const result = compareInvoice(
      [
        line('103', { lineId: 'il_a', unitAmountDecimal: '4' }),
        line('1005', { lineId: 'il_b', unitAmountDecimal: '9000' }),
      ],
      { il_a: '100', il_b: '1000' },
      tolerance,
    );
    assert.equal(result.passed, false);
    assert.deepEqual(result.tolerance, tolerance);
    assert.equal(result.totalEstimatedImpactMinor, '45012');
  });
});
