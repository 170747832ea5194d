import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DAY_MS, digestPeriod, digestWorthPosting, nextDigestAt } from '../../src/gate/observe-digest';

const at = (iso: string) => Date.parse(iso);

test('nextDigestAt: the next time of day (UTC) strictly after now', () => {
  assert.equal(nextDigestAt(at('2026-11-29T05:00:00Z'), 9 * 60), at('2026-11-29T09:00:00Z'));
  assert.equal(nextDigestAt(at('2026-11-29T09:00:00Z'), 9 * 60), at('2026-11-30T09:00:00Z'));
  assert.equal(nextDigestAt(at('2026-11-29T09:00:00.001Z'), 9 * 60), at('2026-11-30T09:00:00Z'));
  assert.equal(nextDigestAt(at('2026-12-31T23:59:00Z'), 0), at('2027-01-01T00:00:00Z'));
  assert.equal(nextDigestAt(at('2026-11-29T17:00:00Z'), 17 * 60 + 30), at('2026-11-29T17:30:00Z'));
});

test('digestPeriod: the 24 hours before the post', () => {
  assert.deepEqual(digestPeriod(at('2026-11-29T09:00:00Z')), {
    from: at('2026-11-28T09:00:00Z'),
    to: at('2026-11-29T09:00:00Z'),
  });
  assert.equal(DAY_MS, 24 * 3_600_000);
});

test('digestWorthPosting: only a day with observe-mode gates', () => {
  const period = { from: 0, to: DAY_MS };
  assert.equal(digestWorthPosting({ period, checked: 0, wouldHold: 0, money: [] }), false);
  assert.equal(digestWorthPosting({ period, checked: 1, wouldHold: 0, money: [] }), true);
  assert.equal(digestWorthPosting({ period, checked: 0, wouldHold: 1, money: [] }), true);
});
