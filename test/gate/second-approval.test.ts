import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  limitFor,
  moneyAtStake,
  needsSecondApproval,
  parseSecondApprovalThreshold,
} from '../../src/gate/second-approval';

test('a bare number applies to every currency; per-currency limits win for their currency', () => {
  assert.deepEqual(parseSecondApprovalThreshold('50000'), { anyCurrency: '50000', perCurrency: {} });
  const mixed = parseSecondApprovalThreshold(' usd=50000, EUR=40000 ,100 ');
  assert.deepEqual(mixed, { anyCurrency: '100', perCurrency: { usd: '50000', eur: '40000' } });
  assert.equal(limitFor(mixed, 'EUR'), '40000');
  assert.equal(limitFor(mixed, 'gbp'), '100');
  assert.equal(limitFor(parseSecondApprovalThreshold('usd=1'), 'eur'), null);
});

test('malformed thresholds are refused naming the bad part', () => {
  assert.throws(() => parseSecondApprovalThreshold(''), /is empty/);
  assert.throws(() => parseSecondApprovalThreshold('12.5'), /"12.5" is not a whole number/);
  assert.throws(() => parseSecondApprovalThreshold('usd=-1'), /"usd=-1" is not currency=minor units/);
  assert.throws(() => parseSecondApprovalThreshold('dollars=5'), /"dollars=5"/);
  assert.throws(() => parseSecondApprovalThreshold('usd=1,usd=2'), /names usd twice/);
  assert.throws(() => parseSecondApprovalThreshold('1,2'), /more than one limit/);
});

test('money at stake sums absolute impacts exactly; an unknown impact makes it unknown', () => {
  assert.equal(
    moneyAtStake([
      { estimatedImpactMinor: '-1000.5' },
      { estimatedImpactMinor: '0.1' },
      { estimatedImpactMinor: '0.2' },
    ]),
    '1000.8',
  );
  assert.equal(moneyAtStake([]), '0');
  assert.equal(moneyAtStake([{ estimatedImpactMinor: '5' }, { estimatedImpactMinor: null }]), null);
});

test('a release needs a second approval only above the limit of its currency, or when the impact is unknown', () => {
  const threshold = parseSecondApprovalThreshold('usd=50000');
  assert.equal(needsSecondApproval(null, '9999999', 'usd'), false);
  assert.equal(needsSecondApproval(threshold, '50000', 'usd'), false);
  assert.equal(needsSecondApproval(threshold, '50000.01', 'usd'), true);
  assert.equal(needsSecondApproval(threshold, null, 'usd'), true);
  assert.equal(needsSecondApproval(threshold, '9999999', 'eur'), false);
  assert.equal(needsSecondApproval(parseSecondApprovalThreshold('0'), '0.5', 'jpy'), true);
});
