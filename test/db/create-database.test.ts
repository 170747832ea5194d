import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import { createDatabase, openDatabases, pingDatabase } from '../../src/db/create-database';
import { TEST_DATABASE_URL } from './pg-test-database';

test('pg results: numeric and int8 as strings, timestamptz as Date', async (t) => {
  const db = createDatabase<any>(TEST_DATABASE_URL, { maxConnections: 1 });
  t.after(() => db.destroy());
  const r =
    await sql<any>`select 0.1::numeric + 0.2 as n, 9007199254740993::int8 as i, 7::int4 as j, timestamptz '2026-01-01T00:00:00Z' as t`.execute(
      db,
    );
  assert.deepEqual(r.rows[0], { n: '0.3', i: '9007199254740993', j: 7, t: new Date('2026-01-01T00:00:00Z') });
});

test('an idle connection killed by the server is reported and replaced, not fatal', async (t) => {
  const errors: Error[] = [];
  const db = createDatabase<any>(TEST_DATABASE_URL, { maxConnections: 1, onPoolError: (e) => errors.push(e) });
  const admin = createDatabase<any>(TEST_DATABASE_URL, { maxConnections: 1 });
  t.after(() => Promise.all([db.destroy(), admin.destroy()]));
  const pid = (await sql<{ pid: number }>`select pg_backend_pid() as pid`.execute(db)).rows[0].pid;
  await sql`select pg_terminate_backend(${pid})`.execute(admin);
  for (let i = 0; i < 100 && errors.length === 0; i++) await new Promise((resolve) => setTimeout(resolve, 20));
  assert.equal(errors.length, 1);
  await pingDatabase(db);
  const again = (await sql<{ pid: number }>`select pg_backend_pid() as pid`.execute(db)).rows[0].pid;
  assert.notEqual(again, pid);
});

test('openDatabases: one instance without LEDGER_DATABASE_URL, two with it', async () => {
  const same = openDatabases({ databaseUrl: TEST_DATABASE_URL, ledgerDatabaseUrl: undefined });
  assert.equal(same.ledgerDb, same.db);
  assert.equal(same.embedded, false);
  await pingDatabase(same.ledgerDb);
  await same.destroy();

  const apart = openDatabases({
    databaseUrl: TEST_DATABASE_URL,
    ledgerDatabaseUrl: `${TEST_DATABASE_URL}?application_name=ledger`,
  });
  assert.notEqual(apart.ledgerDb, apart.db);
  await Promise.all([pingDatabase(apart.db), pingDatabase(apart.ledgerDb)]);
  await apart.destroy();
});

test('pingDatabase fails when the server is unreachable', async (t) => {
  const db = createDatabase<any>('postgres://postgres@127.0.0.1:1/test', { connectionTimeoutMs: 1000 });
  t.after(() => db.destroy());
  await assert.rejects(pingDatabase(db), (err: any) => err.code === 'ECONNREFUSED' || err instanceof AggregateError);
});
