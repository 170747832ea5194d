import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { FifoLimiter, SlotWaitTimeoutError } from '../../src/webhook/fifo-limiter';

/** A call that runs until its test lets it finish. */
function heldCall<T>(log: string[], name: string, value: T) {
  let finish: (error?: Error) => void = () => undefined;
  const call = () =>
    new Promise<T>((resolve, reject) => {
      log.push(`start ${name}`);
      finish = (error) => (error ? reject(error) : resolve(value));
    });
  return { call, finish: (error?: Error) => finish(error) };
}

const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('FifoLimiter', () => {
  test('runs at most `limit` calls at once and the rest in arrival order', async () => {
    const limiter = new FifoLimiter(2);
    const log: string[] = [];
    const calls = ['a', 'b', 'c', 'd', 'e'].map((name) => heldCall(log, name, name));
    const results = calls.map(({ call }) => limiter.run(call));
    await settle();
    assert.deepEqual(log, ['start a', 'start b']);
    assert.equal(limiter.active, 2);
    assert.equal(limiter.queued, 3);

    calls[1].finish();
    await settle();
    assert.deepEqual(log, ['start a', 'start b', 'start c'], 'the oldest waiter takes the freed slot');
    // A newcomer while others wait joins the back of the queue.
    const late = heldCall(log, 'f', 'f');
    const lateResult = limiter.run(late.call);
    calls[0].finish();
    await settle();
    assert.deepEqual(log.slice(3), ['start d']);
    for (const c of [calls[2], calls[3], calls[4]]) {
      c.finish();
      await settle();
    }
    late.finish();
    assert.deepEqual(await Promise.all([...results, lateResult]), ['a', 'b', 'c', 'd', 'e', 'f']);
    assert.deepEqual(log.slice(4), ['start e', 'start f']);
    assert.equal(limiter.active, 0);
    assert.equal(limiter.queued, 0);
  });

  test('a failed call gives its error to its caller and its slot to the next', async () => {
    const limiter = new FifoLimiter(1);
    const log: string[] = [];
    const failing = heldCall(log, 'a', 'a');
    const next = heldCall(log, 'b', 'b');
    const failed = limiter.run(failing.call);
    const following = limiter.run(next.call);
    await settle();
    failing.finish(new Error('Temporal unavailable'));
    await assert.rejects(failed, /Temporal unavailable/);
    await settle();
    assert.deepEqual(log, ['start a', 'start b']);
    next.finish();
    assert.equal(await following, 'b');
    assert.equal(limiter.active, 0);
  });

  test('refuses a limit that is not a positive integer', () => {
    for (const limit of [0, -1, 1.5, Number.NaN]) assert.throws(() => new FifoLimiter(limit), RangeError);
  });
});

describe('FifoLimiter with maxWaitMs', () => {
  test('a call that finds no slot in time is rejected, never runs, and leaves the queue in order', async () => {
    const limiter = new FifoLimiter(1);
    const log: string[] = [];
    const running = heldCall(log, 'a', 'a');
    const first = limiter.run(running.call);
    const impatient = limiter.run(heldCall(log, 'b', 'b').call, { maxWaitMs: 20 });
    const patient = heldCall(log, 'c', 'c');
    const third = limiter.run(patient.call);
    await assert.rejects(impatient, SlotWaitTimeoutError);
    assert.equal(limiter.queued, 1);

    running.finish();
    await settle();
    assert.deepEqual(log, ['start a', 'start c'], 'b never ran; c took the slot');
    patient.finish();
    assert.deepEqual(await Promise.all([first, third]), ['a', 'c']);
    assert.equal(limiter.active, 0);
  });

  test('a call granted a slot before its wait runs out is not rejected later', async () => {
    const limiter = new FifoLimiter(1);
    const log: string[] = [];
    const running = heldCall(log, 'a', 'a');
    const first = limiter.run(running.call);
    const waiting = heldCall(log, 'b', 'b');
    const second = limiter.run(waiting.call, { maxWaitMs: 30 });
    running.finish();
    await settle();
    await new Promise((resolve) => setTimeout(resolve, 50));
    waiting.finish();
    assert.deepEqual(await Promise.all([first, second]), ['a', 'b']);
  });
});
