import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ApplicationFailure, CancelledFailure, CompleteAsyncError, type Logger } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { activityMetricsInterceptor } from '../../src/observability/activity-metrics-interceptor';

function recorder() {
  const failures: Array<[string, boolean]> = [];
  return { failures, activityFailed: (name: string, retryable: boolean) => failures.push([name, retryable]) };
}

const quiet: Logger = { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error() {} };

function env(
  metrics: ReturnType<typeof recorder>,
  info: Partial<ConstructorParameters<typeof MockActivityEnvironment>[0]> = {},
) {
  return new MockActivityEnvironment(
    { activityType: 'countLedger', ...info },
    { interceptors: [activityMetricsInterceptor(metrics)], logger: quiet },
  );
}

class LedgerMappingError extends Error {
  override name = 'LedgerMappingError';
}

describe('activityMetricsInterceptor', () => {
  it('passes results through and counts nothing on success', async () => {
    const metrics = recorder();
    const result = await env(metrics).run(async (x: number) => x * 2, 21);
    assert.equal(result, 42);
    assert.deepEqual(metrics.failures, []);
  });

  it('counts a plain error as retryable and rethrows it', async () => {
    const metrics = recorder();
    await assert.rejects(
      env(metrics).run(async () => {
        throw new Error('db down');
      }),
      /db down/,
    );
    assert.deepEqual(metrics.failures, [['countLedger', true]]);
  });

  it('counts non-retryable ApplicationFailures and nonRetryableErrorTypes as not retryable', async () => {
    const metrics = recorder();
    await assert.rejects(
      env(metrics, { activityType: 'finalizeInvoice' }).run(async () => {
        throw ApplicationFailure.nonRetryable('invoice is void', 'InvalidInvoiceError');
      }),
    );
    await assert.rejects(
      env(metrics, { retryPolicy: { nonRetryableErrorTypes: ['LedgerMappingError'] } }).run(async () => {
        throw new LedgerMappingError('no such column');
      }),
    );
    await assert.rejects(
      env(metrics, { retryPolicy: { nonRetryableErrorTypes: ['InvalidInvoiceError'] } }).run(async () => {
        throw ApplicationFailure.create({ message: 'bad', type: 'InvalidInvoiceError' });
      }),
    );
    assert.deepEqual(metrics.failures, [
      ['finalizeInvoice', false],
      ['countLedger', false],
      ['countLedger', false],
    ]);
  });

  it('the last allowed attempt is not retryable', async () => {
    const metrics = recorder();
    const fail = async () => {
      throw new Error('timeout');
    };
    await assert.rejects(env(metrics, { attempt: 2, retryPolicy: { maximumAttempts: 3 } }).run(fail));
    await assert.rejects(env(metrics, { attempt: 3, retryPolicy: { maximumAttempts: 3 } }).run(fail));
    assert.deepEqual(metrics.failures, [
      ['countLedger', true],
      ['countLedger', false],
    ]);
  });

  it('does not count cancellations or asynchronous completion', async () => {
    const metrics = recorder();
    await assert.rejects(
      env(metrics).run(async () => {
        throw new CancelledFailure('cancelled');
      }),
    );
    await assert.rejects(
      env(metrics).run(async () => {
        throw new CompleteAsyncError();
      }),
    );
    assert.deepEqual(metrics.failures, []);
  });
});
