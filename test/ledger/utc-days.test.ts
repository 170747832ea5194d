import { test } from 'node:test';
import assert from 'node:assert/strict';
import { splitIntoUtcDays } from '../../src/ledger/utc-days';

const NOV_1 = Date.UTC(2026, 10, 1) / 1000;
const DAY = 86_400;

test('a month from midnight to midnight is all whole days, no edges', () => {
  assert.deepEqual(splitIntoUtcDays(NOV_1, NOV_1 + 30 * DAY), {
    wholeDays: { first: '2026-11-01', end: '2026-12-01', startsAt: NOV_1, endsAt: NOV_1 + 30 * DAY },
  });
});

test('a period starting and ending mid-day: whole days between, the partial days are edges', () => {
  const split = splitIntoUtcDays(NOV_1 + 3_600, NOV_1 + 3 * DAY + 60);
  assert.deepEqual(split.wholeDays, {
    first: '2026-11-02',
    end: '2026-11-04',
    startsAt: NOV_1 + DAY,
    endsAt: NOV_1 + 3 * DAY,
  });
});

test('less than one whole day: no whole days (the ledger table answers alone)', () => {
  assert.equal(splitIntoUtcDays(NOV_1 + 1, NOV_1 + DAY + 5).wholeDays, null);
  assert.equal(splitIntoUtcDays(NOV_1, NOV_1 + DAY - 1).wholeDays, null);
  assert.equal(splitIntoUtcDays(NOV_1, NOV_1).wholeDays, null);
  assert.deepEqual(splitIntoUtcDays(NOV_1, NOV_1 + DAY).wholeDays?.first, '2026-11-01');
});
