// 429s are waited out inside the Stripe client (same request, same idempotency key), so Temporal's retry
// policy only sees real failures; checked through the `stripe` SDK against a server that rate-limits.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import Stripe from 'stripe';
import { createStripeClient } from '../../src/stripe/client';
import { rateLimitDelayMs } from '../../src/stripe/rate-limit-retry';
import { toStripeFailure } from '../../src/stripe/stripe-failure';
import { GateError } from '../../src/gate/failures';

interface Seen {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
}

describe('the Stripe client waits out 429s', () => {
  let server: Server;
  let url: string;
  const seen: Seen[] = [];
  /** Status codes the server answers with, in order; 200 once they run out. */
  let script: number[] = [];

  before(async () => {
    server = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        seen.push({ method: req.method!, url: req.url!, headers: req.headers });
        const status = script.shift() ?? 200;
        res.writeHead(status, { 'content-type': 'application/json', 'request-id': `req_${seen.length}` });
        res.end(
          JSON.stringify(
            status === 200
              ? { id: 'in_1', object: 'invoice', auto_advance: false }
              : status === 429
                ? { error: { type: 'invalid_request_error', code: 'rate_limit', message: 'Too many requests' } }
                : { error: { type: 'api_error', message: 'Something went wrong' } },
          ),
        );
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const client = (budgetMs = 20_000) =>
    createStripeClient({ secretKey: 'sk_test_rate_limits', apiUrl: url, rateLimitRetryBudgetMs: budgetMs });

  test('two 429s, then success: one call, three identical requests with the one idempotency key', async () => {
    seen.length = 0;
    script = [429, 429];
    const invoice = await client().invoices.update(
      'in_1',
      { auto_advance: false },
      { idempotencyKey: 'invoice-gate-pause-in_1' },
    );
    assert.equal(invoice.id, 'in_1');
    assert.equal(seen.length, 3);
    assert.deepEqual(
      seen.map((s) => [s.method, s.url, s.headers['idempotency-key']]),
      Array.from({ length: 3 }, () => ['POST', '/v1/invoices/in_1', 'invoice-gate-pause-in_1']),
    );
  });

  test('a 500 is not resent: it surfaces at once for the retry policy', async () => {
    seen.length = 0;
    script = [500];
    await assert.rejects(client().invoices.retrieve('in_1'), (error: unknown) => {
      assert.ok(error instanceof Stripe.errors.StripeAPIError);
      return true;
    });
    assert.equal(seen.length, 1);
  });

  test('429s beyond the budget surface as a retryable rate-limit failure', async () => {
    seen.length = 0;
    script = Array.from({ length: 100 }, () => 429);
    const started = performance.now();
    const error = await client(600)
      .invoices.retrieve('in_1')
      .then(
        () => assert.fail('expected a 429'),
        (e: unknown) => e,
      );
    assert.ok(error instanceof Stripe.errors.StripeRateLimitError, String(error));
    assert.ok(performance.now() - started < 5_000, 'gave up after about its budget');
    assert.ok(seen.length >= 2, `it tried again within the budget (${seen.length} requests)`);
    const failure = toStripeFailure(error, 'read invoice');
    assert.ok(failure instanceof GateError && failure.retryable, 'the surfaced 429 is retried by Temporal');
    script = [];
  });
});

describe('rateLimitDelayMs', () => {
  test('full jitter under a doubling ceiling, capped at 2 s', () => {
    assert.equal(rateLimitDelayMs(0, undefined, { random: () => 1 }), 250);
    assert.equal(rateLimitDelayMs(2, undefined, { random: () => 1 }), 1000);
    assert.equal(rateLimitDelayMs(10, undefined, { random: () => 1 }), 2000);
    assert.equal(rateLimitDelayMs(3, undefined, { random: () => 0.5 }), 1000);
    assert.equal(rateLimitDelayMs(3, undefined, { random: () => 0 }), 0);
  });

  test("Stripe's Retry-After wins when it is a positive number of seconds", () => {
    assert.equal(rateLimitDelayMs(0, '3', { random: () => 0 }), 3000);
    assert.equal(rateLimitDelayMs(0, 'soon', { random: () => 1 }), 250, 'an unreadable header is ignored');
    assert.equal(rateLimitDelayMs(0, '0', { random: () => 1 }), 250);
  });
});
