import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import Decimal from 'decimal.js';
import {
  bucketKey,
  decidingBucket,
  diffBuckets,
  finestDiffs,
  mergeWindows,
  minuteRange,
  summaryQueries,
  topWindows,
  worstDays,
  type BucketValue,
} from '../../src/gate/divergence-buckets';

const H = 3600;
const D = 86400;
/** 2026-11-14 00:00 UTC */
const DAY = Date.UTC(2026, 10, 14) / 1000;

describe('summaryQueries: what Stripe is asked so that every request is aligned', () => {
  test('an aligned month is one grouped request', () => {
    assert.deepEqual(summaryQueries(DAY, DAY + 30 * D, 'day'), [{ start: DAY, end: DAY + 30 * D, window: 'day' }]);
  });

  test('partial edges are asked ungrouped, the aligned middle grouped', () => {
    const start = DAY + 13 * H + 27 * 60;
    const end = DAY + 3 * D + 5 * H;
    assert.deepEqual(summaryQueries(start, end, 'day'), [
      { start, end: DAY + D, window: null },
      { start: DAY + D, end: DAY + 3 * D, window: 'day' },
      { start: DAY + 3 * D, end, window: null },
    ]);
    assert.deepEqual(summaryQueries(start, DAY + 16 * H + 30 * 60, 'hour'), [
      { start, end: DAY + 14 * H, window: null },
      { start: DAY + 14 * H, end: DAY + 16 * H, window: 'hour' },
      { start: DAY + 16 * H, end: DAY + 16 * H + 30 * 60, window: null },
    ]);
  });

  test('no whole bucket inside: one range, or two split at the boundary', () => {
    assert.deepEqual(summaryQueries(DAY + 60, DAY + 120, 'hour'), [{ start: DAY + 60, end: DAY + 120, window: null }]);
    assert.deepEqual(summaryQueries(DAY + H - 60, DAY + H + 60, 'hour'), [
      { start: DAY + H - 60, end: DAY + H, window: null },
      { start: DAY + H, end: DAY + H + 60, window: null },
    ]);
    assert.deepEqual(summaryQueries(DAY + 60, DAY + H, 'hour'), [{ start: DAY + 60, end: DAY + H, window: null }]);
    assert.deepEqual(summaryQueries(DAY, DAY, 'hour'), []);
  });

  test('periods are widened to whole minutes (Stripe refuses anything finer)', () => {
    assert.deepEqual(minuteRange(DAY + 61, DAY + 3599), { start: DAY + 60, end: DAY + H });
    assert.deepEqual(minuteRange(DAY, DAY + H), { start: DAY, end: DAY + H });
  });
});

describe('diffBuckets, windows and the audit', () => {
  const range = { start: DAY, end: DAY + 3 * D };
  const hours = (from: number, values: string[]): BucketValue[] =>
    values.map((value, i) => ({ key: from + i * H, value }));

  test('a ledger missing one three-hour window: one window, and the buckets sum to the difference', () => {
    const stripe = hours(DAY + D, Array<string>(24).fill('10'));
    const ledger = hours(DAY + D, Array<string>(24).fill('10')).filter(
      (b) => b.key < DAY + D + 13 * H || b.key >= DAY + D + 16 * H,
    );
    const diffs = diffBuckets('hour', range, stripe, ledger);
    assert.deepEqual(
      diffs.map((d) => [d.start - DAY - D, d.stripe, d.ledger, d.difference]),
      [
        [13 * H, '10', '0', '10'],
        [14 * H, '10', '0', '10'],
        [15 * H, '10', '0', '10'],
      ],
    );
    const windows = mergeWindows(diffs);
    assert.deepEqual(windows, [
      { start: DAY + D + 13 * H, end: DAY + D + 16 * H, grain: 'hour', stripe: '30', ledger: '0', difference: '30' },
    ]);
    assert.equal(diffs.reduce((sum, d) => sum.plus(d.difference), new Decimal(0)).toFixed(), '30');
  });

  test('windows merge only adjacent buckets that lean the same way', () => {
    const stripe = hours(DAY, ['5', '5', '1', '5', '0']);
    const ledger = hours(DAY, ['1', '1', '5', '5', '2']);
    const windows = mergeWindows(diffBuckets('hour', range, stripe, ledger));
    assert.deepEqual(
      windows.map((w) => [(w.start - DAY) / H, (w.end - DAY) / H, w.difference]),
      [
        [0, 2, '8'],
        [2, 3, '-4'],
        [4, 5, '-2'],
      ],
    );
    assert.deepEqual(
      topWindows(windows, 2).map((w) => w.difference),
      ['8', '-4'],
    );
  });

  test('decimal sums stay exact', () => {
    const diffs = diffBuckets('hour', range, hours(DAY, ['0.3', '1.05']), hours(DAY, ['0.1', '1.05']));
    assert.deepEqual(
      diffs.map((d) => d.difference),
      ['0.2'],
    );
  });

  test('buckets are clipped to the period at partial edges', () => {
    const clipped = { start: DAY + 13 * H + 27 * 60, end: DAY + 2 * D };
    const [d] = diffBuckets('day', clipped, [{ key: DAY, value: '4' }], []);
    assert.equal(d.start, clipped.start);
    assert.equal(d.end, DAY + D);
  });

  test('the worst days are refined; the finest diffs replace them by their hours', () => {
    const dayDiffs = diffBuckets(
      'day',
      range,
      [
        { key: DAY, value: '10' },
        { key: DAY + D, value: '100' },
        { key: DAY + 2 * D, value: '7' },
      ],
      [
        { key: DAY, value: '9' },
        { key: DAY + D, value: '40' },
        { key: DAY + 2 * D, value: '7' },
      ],
    );
    const refined = worstDays(dayDiffs, 1);
    assert.deepEqual(refined, [DAY + D]);
    const hourDiffs = diffBuckets('hour', range, hours(DAY + D, ['60', '40']), hours(DAY + D, ['0', '40']));
    const finest = finestDiffs(dayDiffs, refined, hourDiffs);
    assert.deepEqual(
      finest.map((d) => [d.grain, d.start, d.difference]),
      [
        ['day', DAY, '1'],
        ['hour', DAY + D, '60'],
      ],
    );
  });

  test('for last, the deciding bucket is the latest with an event', () => {
    assert.deepEqual(decidingBucket(hours(DAY, ['3', '9', '4']), 'hour', range), {
      start: DAY + 2 * H,
      end: DAY + 3 * H,
      value: '4',
    });
    assert.equal(decidingBucket([], 'hour', range), null);
    assert.equal(bucketKey(DAY + 5 * H + 59, 'day'), DAY);
  });
});
