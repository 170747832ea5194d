import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createDatabase } from '../../src/db/create-database';
import { DEFAULT_LEDGER_MAPPING } from '../../src/config/gate-config';
import { countLedgerEvents } from '../../src/ledger/count-ledger-events';
import { classifyLedgerError, isRetryableLedgerError, LedgerMappingError } from '../../src/ledger/ledger-errors';
import { TEST_DATABASE_URL } from '../db/pg-test-database';

const withCode = (code: string, message = 'x') => Object.assign(new Error(message), { code });

test('SQLSTATE classes: connection, shutdown, resources and timeouts retry; query errors do not', () => {
  for (const code of ['08006', '08001', '57P01', '57P02', '57P03', '57014', '53300', '40001', '40P01', '58030']) {
    assert.equal(isRetryableLedgerError(withCode(code)), true, code);
  }
  for (const code of ['42P01', '42703', '42601', '42501', '22P02', '28P01', '3D000', 'XX000']) {
    assert.equal(isRetryableLedgerError(withCode(code)), false, code);
  }
  assert.deepEqual(classifyLedgerError(withCode('57P01')), {
    retryable: true,
    code: '57P01',
    reason: 'transient database condition',
  });
});

test('network errors and pg connection messages retry; mapping and programming errors do not', () => {
  for (const code of ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EAI_AGAIN']) {
    assert.equal(isRetryableLedgerError(withCode(code)), true, code);
  }
  assert.equal(isRetryableLedgerError(new Error('Connection terminated unexpectedly')), true);
  assert.equal(isRetryableLedgerError(new Error('timeout exceeded when trying to connect')), true);
  assert.equal(isRetryableLedgerError(new AggregateError([withCode('ECONNREFUSED')], '')), true);
  assert.equal(isRetryableLedgerError(new LedgerMappingError('no metadata')), false);
  assert.equal(isRetryableLedgerError(new TypeError('x is undefined')), false);
});

test('a refused connection from a real pool is retryable', async () => {
  const db = createDatabase<any>('postgres://postgres@127.0.0.1:1/test', { connectionTimeoutMs: 2000 });
  try {
    const request = {
      customerId: 'cus_1',
      customerMetadata: {},
      lines: [{ lineId: 'l', eventName: 'e', meterId: 'm', formula: 'count' as const, periodStart: 0, periodEnd: 1 }],
    };
    await assert.rejects(countLedgerEvents(db, DEFAULT_LEDGER_MAPPING, request), (err: unknown) => {
      assert.equal(isRetryableLedgerError(err), true, String(err));
      return true;
    });
  } finally {
    await db.destroy();
  }
});

test('a connection terminated by the server (57P01) is retryable, and the pool recovers', async () => {
  const errors: Error[] = [];
  const db = createDatabase<any>(TEST_DATABASE_URL, {
    maxConnections: 1,
    onPoolError: (e) => errors.push(e),
  });
  const admin = createDatabase<any>(TEST_DATABASE_URL, { maxConnections: 1 });
  try {
    const { sql } = await import('kysely');
    const pid = (await sql<{ pid: number }>`select pg_backend_pid() as pid`.execute(db)).rows[0].pid;
    // settle into a value at once so the rejection is never unhandled while we terminate
    const slow = sql`select pg_sleep(10)`.execute(db).then(
      () => assert.fail('the query should have been cut off'),
      (err: unknown) => err,
    );
    // wait until the sleep is running, then terminate that backend as an administrator would
    for (let i = 0; i < 100; i++) {
      const r = await sql<{
        n: number;
      }>`select count(*)::int as n from pg_stat_activity where pid = ${pid} and query like '%pg_sleep%'`.execute(admin);
      if (r.rows[0].n > 0) break;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    await sql`select pg_terminate_backend(${pid})`.execute(admin);
    const err = (await slow) as Error & { code?: string };
    // pg reports the server's FATAL 57P01, or the closed socket if that is seen first
    assert.ok(err.code === '57P01' || /Connection terminated/.test(err.message), String(err));
    assert.equal(isRetryableLedgerError(err), true);
    // The pool may hand out the dying connection once more before it notices the close; that
    // failure is retryable too, and a retry gets a fresh connection.
    let one: number | undefined;
    for (let attempt = 0; attempt < 3 && one === undefined; attempt++) {
      try {
        one = (await sql<{ one: number }>`select 1 as one`.execute(db)).rows[0].one;
      } catch (retryErr) {
        assert.equal(isRetryableLedgerError(retryErr), true, String(retryErr));
      }
    }
    assert.equal(one, 1, 'the pool recovers');
  } finally {
    await Promise.all([db.destroy(), admin.destroy()]);
  }
});
