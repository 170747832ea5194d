// Faults on demand: Stripe-like 429 rate limiting, injected 500s (which the SDK retries with
// its own idempotency key), added latency, limited to a path prefix.
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import type Stripe from 'stripe';
import type { StripeEmulator } from '../../../emulators/stripe/index';
import { startAll, stripeClient } from './helpers';

let emulator: StripeEmulator;
let stripe: Stripe;
let noRetry: Stripe;

before(async () => {
  ({ emulator, stripe } = await startAll());
  noRetry = stripeClient(emulator.url, emulator.apiKey, { maxNetworkRetries: 0 });
});
beforeEach(async () => {
  await emulator.admin.reset();
});
after(async () => {
  await emulator.stop();
});

describe('faults', () => {
  it('rate limits like Stripe: 429 invalid_request_error with code rate_limit', async () => {
    await emulator.admin.setFaults({ rateLimitPerSecond: 25 });
    const results = await Promise.allSettled(Array.from({ length: 40 }, () => noRetry.customers.list({ limit: 1 })));
    const ok = results.filter((r) => r.status === 'fulfilled').length;
    const limited = results
      .filter((r) => r.status === 'rejected')
      .map((r) => (r as PromiseRejectedResult).reason as Stripe.errors.StripeError);
    // 40 requests within one second (a loaded machine may spread them a little wider).
    assert.ok(ok >= 25 && ok < 40, `${ok} passed`);
    assert.equal(limited.length, 40 - ok);
    for (const err of limited) {
      assert.equal(err.type, 'StripeRateLimitError');
      assert.equal(err.statusCode, 429);
      assert.equal(err.code, 'rate_limit');
      assert.equal(err.rawType, 'invalid_request_error');
      assert.match(err.message, /^Request rate limit exceeded/);
    }
    // The window slides: after a second, requests pass again.
    await new Promise((r) => setTimeout(r, 1050));
    assert.equal((await noRetry.customers.list()).object, 'list');
    const log = await emulator.admin.requests();
    assert.equal(log.filter((r) => r.status === 429 && r.error_code === 'rate_limit').length, limited.length);
    // The wire shape, exactly.
    await emulator.admin.setFaults({ rateLimitPerSecond: 1 });
    const get = () =>
      fetch(emulator.url + '/v1/customers', { headers: { authorization: `Bearer ${emulator.apiKey}` } });
    assert.equal((await get()).status, 200);
    const limitedRes = await get();
    assert.equal(limitedRes.status, 429);
    const body = (await limitedRes.json()) as { error: Record<string, unknown> };
    assert.equal(body.error.type, 'invalid_request_error');
    assert.equal(body.error.code, 'rate_limit');
    assert.equal(body.error.doc_url, 'https://stripe.com/docs/error-codes/rate-limit');
    assert.equal(
      body.error.message,
      'Request rate limit exceeded. Learn more about rate limits here https://stripe.com/docs/rate-limits.',
    );
  });

  it('rate limits per endpoint when asked (ids do not make separate endpoints)', async () => {
    const a = await noRetry.customers.create({ name: 'a' });
    const b = await noRetry.customers.create({ name: 'b' });
    await emulator.admin.setFaults({ rateLimitPerSecond: 2, rateLimitScope: 'endpoint' });
    await noRetry.customers.retrieve(a.id);
    await noRetry.customers.retrieve(b.id);
    await assert.rejects(
      noRetry.customers.retrieve(a.id),
      (err: Stripe.errors.StripeError) => err.code === 'rate_limit',
    );
    // Another endpoint has its own budget.
    assert.equal((await noRetry.customers.list()).object, 'list');
    assert.equal((await noRetry.products.list()).object, 'list');
  });

  it('injects 500 api_error; the SDK retries with the same idempotency key and succeeds', async () => {
    await emulator.admin.setFaults({ failNext: 1 });
    const c = await stripe.customers.create({ name: 'retry me' });
    assert.match(c.id, /^cus_/);
    const log = await emulator.admin.requests('/v1/customers');
    assert.deepEqual(
      log.map((r) => r.status),
      [500, 200],
    );
    assert.ok(log[0].idempotency_key?.startsWith('stripe-node-retry-'));
    assert.equal(log[0].idempotency_key, log[1].idempotency_key);
    assert.equal((await stripe.customers.list()).data.length, 1);

    await emulator.admin.setFaults({ failNext: 1 });
    await assert.rejects(noRetry.customers.create({ name: 'no retry' }), (err: Stripe.errors.StripeError) => {
      assert.equal(err.type, 'StripeAPIError');
      assert.equal(err.statusCode, 500);
      assert.equal(err.rawType, 'api_error');
      return true;
    });
  });

  it('limits faults to a path prefix and method, and adds latency', async () => {
    await emulator.admin.setFaults({ errorRate: 1, pathPrefix: '/v1/invoices', method: 'POST' });
    const c = await noRetry.customers.create({ name: 'fine' });
    assert.equal((await noRetry.invoices.list()).object, 'list');
    await assert.rejects(
      noRetry.invoices.create({ customer: c.id }),
      (err: Stripe.errors.StripeError) => err.statusCode === 500,
    );
    await emulator.admin.clearFaults();
    assert.deepEqual(await emulator.admin.faults(), {});
    await noRetry.invoices.create({ customer: c.id });

    await emulator.admin.setFaults({ latencyMs: 150 });
    const t0 = Date.now();
    await noRetry.customers.retrieve(c.id);
    assert.ok(Date.now() - t0 >= 145);
  });
});
