import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createProgressReporter, formatDuration } from '../../src/backfill/progress';

function fakeStream(isTTY: boolean) {
  const writes: string[] = [];
  return { stream: { isTTY, write: (text: string) => writes.push(text) }, writes };
}

test('not a TTY: a plain line at most every interval, with rate and ETA, and one at the end', () => {
  let now = 0;
  const { stream, writes } = fakeStream(false);
  const progress = createProgressReporter({ stream, now: () => now, everyMs: 5_000 });
  progress.update({ done: 0, total: null });
  now = 1_000;
  progress.update({ done: 10, total: 100 });
  now = 5_000;
  progress.update({ done: 50, total: 100 });
  now = 6_000;
  progress.update({ done: 60, total: 100 });
  now = 10_000;
  progress.finish({ done: 100, total: 100 });
  assert.deepEqual(writes, [
    'backfill: 0 invoices (counting…), 0.0/s, ETA ?\n',
    'backfill: 50/100 invoices (50%), 10.0/s, ETA 0:05\n',
    'backfill: 100/100 invoices (100%), 10.0/s, ETA 0:00\n',
  ]);
});

test("the rate counts only this run's invoices (a resumed run starts from those already recorded)", () => {
  let now = 0;
  const { stream, writes } = fakeStream(false);
  const progress = createProgressReporter({ stream, now: () => now, everyMs: 0 });
  progress.update({ done: 400, total: 1000 });
  now = 20_000;
  progress.update({ done: 500, total: 1000 });
  assert.equal(writes[1], 'backfill: 500/1000 invoices (50%), 5.0/s, ETA 1:40\n');
});

test('on a TTY: one line redrawn in place with a bar, ended by finish()', () => {
  let now = 0;
  const { stream, writes } = fakeStream(true);
  const progress = createProgressReporter({ stream, now: () => now, barWidth: 10 });
  progress.update({ done: 0, total: 40 });
  now = 2_000;
  progress.update({ done: 10, total: 40 });
  progress.update({ done: 10, total: 40 });
  now = 8_000;
  progress.finish({ done: 40, total: 40 });
  assert.deepEqual(writes, [
    '\r[..........]   0%  0/40 invoices  0.0/s  ETA ?\u001b[K',
    '\r[###.......]  25%  10/40 invoices  5.0/s  ETA 0:06\u001b[K',
    '\r[##########] 100%  40/40 invoices  5.0/s  ETA 0:00\u001b[K\n',
  ]);
});

test('durations read as m:ss or h:mm:ss', () => {
  assert.equal(formatDuration(0), '0:00');
  assert.equal(formatDuration(65), '1:05');
  assert.equal(formatDuration(3 * 3600 + 5 * 60 + 9), '3:05:09');
});
