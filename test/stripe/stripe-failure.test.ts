import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import Stripe from 'stripe';
import { ApplicationFailure } from '@temporalio/common';
import { toActivityFailure } from '../../src/activities/activity-failure';
import { callStripe, toStripeFailure as classifyStripeError } from '../../src/stripe/stripe-failure';

/** What an activity ends with after a Stripe error: the adapter classifies, the activity layer translates. */
const toStripeFailure = (error: unknown, action: string) => toActivityFailure(classifyStripeError(error, action));

function stripeError(kind: keyof typeof Stripe.errors, raw: Record<string, unknown>) {
  const ErrorClass = Stripe.errors[kind] as unknown as new (raw: Record<string, unknown>) => Stripe.errors.StripeError;
  return new ErrorClass(raw);
}

describe('Stripe errors as activity failures', () => {
  test('a rate limit retries after the time Stripe asks for', () => {
    const failure = toStripeFailure(
      stripeError('StripeRateLimitError', {
        message: 'Too many requests',
        code: 'rate_limit',
        statusCode: 429,
        headers: { 'retry-after': '2' },
      }),
      'invoice retrieve',
    );
    assert.ok(failure instanceof ApplicationFailure);
    assert.equal(failure.nonRetryable, false);
    assert.equal(failure.nextRetryDelay, 2000);
    assert.equal(failure.type, 'StripeRetryable:rate_limit');
  });

  test('5xx and network errors retry', () => {
    for (const error of [
      stripeError('StripeAPIError', { message: 'boom', statusCode: 500 }),
      stripeError('StripeConnectionError', { message: 'ECONNREFUSED' }),
    ]) {
      const failure = toStripeFailure(error, 'x') as ApplicationFailure;
      assert.equal(failure.nonRetryable, false, error.message);
    }
  });

  test('other 4xx are final and carry Stripe’s error code', () => {
    const failure = toStripeFailure(
      stripeError('StripeInvalidRequestError', {
        message: 'No such invoice',
        code: 'resource_missing',
        statusCode: 404,
      }),
      'invoice retrieve',
    ) as ApplicationFailure;
    assert.equal(failure.nonRetryable, true);
    assert.equal(failure.type, 'StripeRequestRejected:resource_missing');
    assert.match(failure.message, /No such invoice/);
  });

  test('an authentication error is final', () => {
    const failure = toStripeFailure(
      stripeError('StripeAuthenticationError', { message: 'bad key', statusCode: 401 }),
      'x',
    ) as ApplicationFailure;
    assert.equal(failure.nonRetryable, true);
  });

  test('errors that are not Stripe’s pass through unchanged', async () => {
    const plain = new TypeError('bug');
    assert.equal(toStripeFailure(plain, 'x'), plain);
    await assert.rejects(
      callStripe('x', () => Promise.reject(plain)),
      (error) => error === plain,
    );
  });
});
