import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { amountAt, lineMoneyImpact } from '../../src/gate/money-impact';
import type { LinePricing, PriceTier } from '../../src/gate/types';

function pricing(overrides: Partial<LinePricing> = {}): LinePricing {
  return {
    billingScheme: 'per_unit',
    currency: 'usd',
    billedCurrency: 'usd',
    unitAmountDecimal: '2',
    transformQuantity: null,
    tiersMode: null,
    tiers: null,
    customUnitAmount: false,
    ...overrides,
  };
}

const tier = (upTo: string | null, unit: string | null, flat: string | null = null): PriceTier => ({
  upTo,
  unitAmountDecimal: unit,
  flatAmountDecimal: flat,
});

/** 1-10 at 5, 11-100 at 3 + 200 flat, 101+ at 1 + 500 flat (cents). */
const TIERS = [tier('10', '5'), tier('100', '3', '200'), tier(null, '1', '500')];
const graduated = pricing({ billingScheme: 'tiered', unitAmountDecimal: null, tiersMode: 'graduated', tiers: TIERS });
const volume = pricing({ billingScheme: 'tiered', unitAmountDecimal: null, tiersMode: 'volume', tiers: TIERS });

function amount(p: LinePricing, quantity: string): string {
  const result = amountAt(p, quantity);
  assert.ok('minor' in result, `expected an amount, got ${JSON.stringify(result)}`);
  return result.minor.toFixed();
}

function impact(p: LinePricing, stripe: string, ledger: string) {
  return lineMoneyImpact({ pricing: p, unitAmountDecimal: p.unitAmountDecimal }, stripe, ledger);
}

describe('per-unit prices', () => {
  test('the impact is the difference at the unit amount, exact with decimals', () => {
    assert.deepEqual(impact(pricing(), '1030', '1000'), { impactMinor: '60', unavailable: null });
    assert.deepEqual(impact(pricing({ unitAmountDecimal: '0.0125' }), '0.3', '0.1'), {
      impactMinor: '0.0025',
      unavailable: null,
    });
    assert.deepEqual(impact(pricing(), '990', '1000'), { impactMinor: '-20', unavailable: null });
  });

  test('a price without a unit amount has no impact to report', () => {
    assert.deepEqual(impact(pricing({ unitAmountDecimal: null }), '2', '1'), {
      impactMinor: null,
      unavailable: 'the price has no unit amount',
    });
  });
});

describe('package pricing (transform_quantity)', () => {
  const perThousandUp = pricing({ unitAmountDecimal: '500', transformQuantity: { divideBy: 1000, round: 'up' } });
  const perThousandDown = pricing({ unitAmountDecimal: '500', transformQuantity: { divideBy: 1000, round: 'down' } });

  test('round up bills every started package', () => {
    assert.equal(amount(perThousandUp, '0'), '0');
    assert.equal(amount(perThousandUp, '1'), '500');
    assert.equal(amount(perThousandUp, '1000'), '500');
    assert.equal(amount(perThousandUp, '1000.5'), '1000');
    assert.equal(amount(perThousandUp, '2001'), '1500');
  });

  test('round down bills complete packages only', () => {
    assert.equal(amount(perThousandDown, '999.999'), '0');
    assert.equal(amount(perThousandDown, '1000'), '500');
    assert.equal(amount(perThousandDown, '2999'), '1000');
  });

  test('a difference inside one package costs nothing; crossing a package boundary costs a package', () => {
    assert.deepEqual(impact(perThousandUp, '1900', '1500'), { impactMinor: '0', unavailable: null });
    assert.deepEqual(impact(perThousandUp, '2001', '2000'), { impactMinor: '500', unavailable: null });
    assert.deepEqual(impact(perThousandDown, '2000', '1999'), { impactMinor: '500', unavailable: null });
  });

  test('an unknown rounding or divisor is reported, not guessed', () => {
    assert.deepEqual(impact(pricing({ transformQuantity: { divideBy: 10, round: 'nearest' } }), '11', '10'), {
      impactMinor: null,
      unavailable: "transform_quantity.round 'nearest' is neither up nor down",
    });
    assert.match(
      impact(pricing({ transformQuantity: { divideBy: 0, round: 'up' } }), '11', '10').unavailable ?? '',
      /divide_by 0/,
    );
  });
});

describe('graduated tiers', () => {
  test('each tier bills its own units; up_to is inclusive', () => {
    assert.equal(amount(graduated, '0'), '0');
    assert.equal(amount(graduated, '10'), '50');
    // The 11th unit is the first of tier 2, which brings its flat amount.
    assert.equal(amount(graduated, '11'), '253');
    assert.equal(amount(graduated, '100'), '520');
    assert.equal(amount(graduated, '101'), '1021');
    assert.equal(amount(graduated, '150'), '1070');
  });

  test('decimal quantities fill a tier with their fraction', () => {
    assert.equal(amount(graduated, '10.5'), '251.5');
    assert.equal(amount(graduated, '100.25'), '1020.25');
  });

  test('the impact spans tiers', () => {
    assert.deepEqual(impact(graduated, '150', '90'), { impactMinor: '580', unavailable: null });
    assert.deepEqual(impact(graduated, '10', '11'), { impactMinor: '-203', unavailable: null });
  });

  test("the first tier's flat amount is a base fee for every quantity and cancels out", () => {
    const base = pricing({
      billingScheme: 'tiered',
      unitAmountDecimal: null,
      tiersMode: 'graduated',
      tiers: [tier('1000', '0', '20000'), tier(null, '4')],
    });
    assert.equal(amount(base, '0'), '20000');
    assert.equal(amount(base, '1000'), '20000');
    assert.equal(amount(base, '1200'), '20800');
    assert.deepEqual(impact(base, '1200', '0'), { impactMinor: '800', unavailable: null });
  });
});

describe('volume tiers', () => {
  test('the whole quantity at the tier it falls into, plus its flat amount; up_to is inclusive', () => {
    assert.equal(amount(volume, '0'), '0');
    assert.equal(amount(volume, '10'), '50');
    assert.equal(amount(volume, '11'), '233');
    assert.equal(amount(volume, '100'), '500');
    assert.equal(amount(volume, '101'), '601');
    assert.equal(amount(volume, '10.5'), '231.5');
  });

  test('crossing into a cheaper tier can lower the bill', () => {
    assert.deepEqual(impact(volume, '101', '100'), { impactMinor: '101', unavailable: null });
    assert.deepEqual(impact(volume, '10', '9'), { impactMinor: '5', unavailable: null });
  });

  test('without an inf tier a quantity beyond the last bound is reported', () => {
    const capped = pricing({ ...volume, tiers: [tier('10', '5'), tier('100', '3')] });
    assert.deepEqual(impact(capped, '101', '100'), {
      impactMinor: null,
      unavailable: 'quantity 101 is beyond the last tier',
    });
  });
});

describe('what the gate does not price', () => {
  const cases: Array<[string, LinePricing, string]> = [
    ['tiers not sent', { ...graduated, tiers: null }, 'Stripe did not send the price tiers'],
    ['no tiers', { ...graduated, tiers: [] }, 'the price has no tiers'],
    [
      'unknown tiers_mode',
      { ...graduated, tiersMode: 'stairstep' },
      "tiers_mode 'stairstep' is neither graduated nor volume",
    ],
    [
      'tiers out of order',
      { ...graduated, tiers: [tier('100', '1'), tier('10', '1'), tier(null, '1')] },
      'the tiers are not in ascending order',
    ],
    [
      'inf before the last tier',
      { ...graduated, tiers: [tier(null, '1'), tier('10', '1')] },
      'a tier before the last one has no upper bound',
    ],
    ['custom pricing', pricing({ customUnitAmount: true }), 'the price has a custom unit amount'],
    [
      'unknown billing scheme',
      pricing({ billingScheme: 'matrix' }),
      "billing_scheme 'matrix' is not known to the gate",
    ],
    ['another currency', pricing({ currency: 'eur' }), 'the price is in eur, the invoice in usd'],
    [
      'transform on tiers',
      { ...graduated, transformQuantity: { divideBy: 10, round: 'up' } },
      'transform_quantity on a tiered price',
    ],
  ];
  for (const [name, p, reason] of cases) {
    test(name, () => assert.deepEqual(impact(p, '20', '10'), { impactMinor: null, unavailable: reason }));
  }

  test('equal quantities cost nothing, whatever the price', () => {
    assert.deepEqual(impact({ ...graduated, tiers: null }, '20', '20'), { impactMinor: '0', unavailable: null });
  });

  test('a line read before price shapes were read keeps the per-unit impact it had', () => {
    assert.deepEqual(lineMoneyImpact({ unitAmountDecimal: '2' }, '1030', '1000'), {
      impactMinor: '60',
      unavailable: null,
    });
    assert.deepEqual(lineMoneyImpact({ unitAmountDecimal: null }, '1030', '1000'), {
      impactMinor: null,
      unavailable: 'the line has no unit amount',
    });
  });
});
