// Unit checks of the form decoder and the calendar period arithmetic.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { periodBoundary } from '../../../emulators/stripe/clock';
import { StripeApiError } from '../../../emulators/stripe/errors';
import { parseForm } from '../../../emulators/stripe/form';

describe('form decoding (bracket notation)', () => {
  it('builds nested objects, indexed and appended arrays', () => {
    const p = parseForm(
      'customer=cus_1&items[0][price]=price_a&items[1][price]=price_b&items[1][quantity]=2' +
        '&expand[]=customer&expand[]=lines.data.pricing&metadata[order%20id]=a%2Bb&description=two+words&empty=',
    );
    assert.deepEqual(p, {
      customer: 'cus_1',
      items: [{ price: 'price_a' }, { price: 'price_b', quantity: '2' }],
      expand: ['customer', 'lines.data.pricing'],
      metadata: { 'order id': 'a+b' },
      description: 'two words',
      empty: '',
    });
    assert.deepEqual(parseForm('expand%5B0%5D=a&expand%5B1%5D=b'), { expand: ['a', 'b'] });
    assert.deepEqual(parseForm('items[10][price]=x&items[2][price]=y'), { items: [{ price: 'y' }, { price: 'x' }] });
    assert.deepEqual(parseForm(''), {});
  });

  it('answers an undecodable body with a 400', () => {
    assert.throws(
      () => parseForm('name=%E0%A4%A'),
      (err: StripeApiError) => err.status === 400,
    );
  });
});

describe('billing periods', () => {
  const ts = (iso: string) => Date.parse(iso) / 1000;
  it('adds calendar months, clamped to the last day of shorter months', () => {
    const anchor = ts('2026-01-31T10:00:00Z');
    assert.equal(periodBoundary(anchor, 'month', 1, 1), ts('2026-02-28T10:00:00Z'));
    assert.equal(periodBoundary(anchor, 'month', 1, 2), ts('2026-03-31T10:00:00Z'));
    assert.equal(periodBoundary(anchor, 'month', 3, 1), ts('2026-04-30T10:00:00Z'));
    assert.equal(periodBoundary(anchor, 'year', 1, 1), ts('2027-01-31T10:00:00Z'));
    assert.equal(periodBoundary(ts('2028-02-29T00:00:00Z'), 'year', 1, 1), ts('2029-02-28T00:00:00Z'));
    assert.equal(periodBoundary(anchor, 'week', 2, 1), anchor + 14 * 86400);
    assert.equal(periodBoundary(anchor, 'day', 1, 3), anchor + 3 * 86400);
  });
});
