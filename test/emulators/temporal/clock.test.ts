// The engine's clock: timers fire in deadline order (ties in the order they were set), cancelled ones
// never fire, and thousands of them (a month end) stay cheap to set and cancel.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { VirtualClock } from '../../../emulators/temporal/clock';

const DAY = 86_400_000;

test('timers fire in deadline order, ties in the order they were set; cancelled ones never fire', () => {
  const clock = new VirtualClock();
  const fired: string[] = [];
  const t0 = clock.now();
  clock.at(t0 + 3 * DAY, () => fired.push('c'));
  clock.at(t0 + DAY, () => fired.push('a1'));
  const cancelled = clock.at(t0 + 2 * DAY, () => fired.push('never'));
  clock.at(t0 + DAY, () => fired.push('a2'));
  clock.at(t0 + 2 * DAY, () => fired.push('b'));
  clock.cancel(cancelled);
  clock.cancel(cancelled); // twice is harmless
  assert.equal(clock.pendingTimers, 4);
  assert.equal(clock.nextDeadline(), t0 + DAY);
  clock.advanceTo(t0 + 2 * DAY);
  assert.deepEqual(fired, ['a1', 'a2', 'b']);
  assert.equal(clock.nextDeadline(), t0 + 3 * DAY);
  assert.equal(clock.jumpToNext(), true);
  assert.deepEqual(fired, ['a1', 'a2', 'b', 'c']);
  assert.equal(clock.jumpToNext(), false);
  assert.equal(clock.pendingTimers, 0);
  clock.stop();
});

test('a timer set by a firing timer and already due fires in the same advance', () => {
  const clock = new VirtualClock();
  const fired: string[] = [];
  const t0 = clock.now();
  clock.at(t0 + DAY, () => {
    fired.push('first');
    clock.at(t0 + DAY, () => fired.push('set while firing'));
  });
  clock.advanceTo(t0 + DAY);
  assert.deepEqual(fired, ['first', 'set while firing']);
  clock.stop();
});

test('20,000 timers, most cancelled: the rest fire in order and the heap is compacted', () => {
  const clock = new VirtualClock();
  const t0 = clock.now();
  const fired: number[] = [];
  // A deterministic shuffle of deadlines: (i * 7919) mod 20,000 visits every value once.
  const timers = Array.from({ length: 20_000 }, (_, i) => {
    const at = t0 + DAY + ((i * 7919) % 20_000) * 1000;
    return { at, timer: clock.at(at, () => fired.push(at)) };
  });
  const kept = timers.filter((_, i) => i % 10 === 0);
  timers.forEach(({ timer }, i) => i % 10 !== 0 && clock.cancel(timer));
  assert.equal(clock.pendingTimers, kept.length);
  assert.ok(
    (clock as unknown as { heap: unknown[] }).heap.length < timers.length,
    'cancelled timers were compacted away',
  );
  clock.advanceTo(t0 + 2 * DAY);
  assert.deepEqual(
    fired,
    kept.map((k) => k.at).sort((a, b) => a - b),
  );
  clock.stop();
});
