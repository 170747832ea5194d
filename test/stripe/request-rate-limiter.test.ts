import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RequestRateLimiter } from '../../src/stripe/request-rate-limiter';
import { stripeRequestLimiter } from '../../src/stripe/client';

test('a burst is served at once, the rest at the configured rate, in order', async () => {
  const limiter = new RequestRateLimiter(50, 5);
  const started = performance.now();
  const served: Array<[number, number]> = [];
  await Promise.all(
    Array.from({ length: 15 }, (_, i) => limiter.take().then(() => served.push([i, performance.now() - started]))),
  );
  assert.deepEqual(
    served.map(([i]) => i),
    Array.from({ length: 15 }, (_, i) => i),
    'first come, first served',
  );
  const [, firstFive] = served[4];
  const [, last] = served[14];
  assert.ok(firstFive < 50, `the burst of 5 went out at once (${firstFive} ms)`);
  // 10 more tokens at 50/s take 200 ms; allow for timer slack on a busy machine.
  assert.ok(last >= 180, `the other 10 waited for tokens (${last} ms)`);
});

test('a rate of zero is refused', () => {
  assert.throws(() => new RequestRateLimiter(0), /ratePerSecond/);
});

test("the Stripe client's limiter bursts 10, not a whole second's worth (at most rate + 10 in any second)", () => {
  const tokens = (limiter: RequestRateLimiter) => (limiter as unknown as { tokens: number }).tokens;
  assert.equal(tokens(stripeRequestLimiter(80)), 10);
  assert.equal(tokens(stripeRequestLimiter(5)), 5, 'a rate under 10 bursts at most its rate');
});
