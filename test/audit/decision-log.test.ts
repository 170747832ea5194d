import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import { migrateToLatest } from '../../src/db/migrations';
import { DecisionLog, type DecisionAttempt } from '../../src/audit/decision-log';
import { GENESIS_HASH, chainHash } from '../../src/audit/decision-chain';
import { openTestDatabase, type TestDatabase } from '../db/pg-test-database';

let tdb: TestDatabase;

before(() => {
  tdb = openTestDatabase();
});
after(() => tdb.close());

async function freshLog(): Promise<{ log: DecisionLog; schema: string }> {
  const schema = tdb.reserveSchema('decisions');
  await migrateToLatest(tdb.db, { schema });
  return { log: new DecisionLog(tdb.db, { schema }), schema };
}

const attempt = (over: Partial<DecisionAttempt> = {}): DecisionAttempt => ({
  invoiceId: 'in_1',
  reviewer: 'U_ALICE',
  action: 'release',
  reason: 'ledger_late',
  accepted: true,
  channel: 'slack',
  gateStatus: 'held',
  moneyAtStake: '1500.50',
  currency: 'usd',
  at: new Date('2026-12-01T10:00:00.123Z'),
  ...over,
});

test('rows chain from the genesis hash, one seq after another, and verify intact', async () => {
  const { log } = await freshLog();
  const first = await log.append(attempt({ attemptId: 'a1' }));
  const second = await log.append(
    attempt({ attemptId: 'a2', reviewer: 'U_BOB', accepted: false, refusal: 'same_approver: Bob approved first' }),
  );
  assert.equal(first.seq, '1');
  assert.equal(first.prevHash, GENESIS_HASH);
  assert.equal(first.hash, chainHash(first, GENESIS_HASH));
  assert.equal(second.seq, '2');
  assert.equal(second.prevHash, first.hash);
  assert.equal(first.moneyAtStake, '1500.50');
  assert.deepEqual(await log.verify(), { intact: true, rows: 2, headHash: second.hash });
});

test('a retried append with the same attempt id returns the first row and adds none', async () => {
  const { log } = await freshLog();
  const first = await log.append(attempt({ attemptId: 'update-1' }));
  const again = await log.append(attempt({ attemptId: 'update-1', reviewer: 'U_SOMEONE_ELSE' }));
  assert.deepEqual(again, first);
  assert.equal((await log.forInvoice('in_1')).length, 1);
});

test('concurrent appends keep one chain without gaps', async () => {
  const { log } = await freshLog();
  await Promise.all(Array.from({ length: 20 }, (_, i) => log.append(attempt({ invoiceId: `in_${i % 3}` }))));
  const verified = await log.verify();
  assert.equal(verified.intact, true);
  assert.equal(verified.intact && verified.rows, 20);
});

test('verify names the first row that was edited by hand', async () => {
  const { log, schema } = await freshLog();
  for (let i = 0; i < 5; i++) await log.append(attempt({ reviewer: `U_${i}` }));
  await sql`update ${sql.id(schema, 'decision_log')} set reason = 'contract_exception' where seq = 3`.execute(tdb.db);
  const verified = await log.verify();
  assert.equal(verified.intact, false);
  assert.ok(!verified.intact);
  assert.equal(verified.firstBreak.seq, '3');
  assert.equal(verified.firstBreak.problem, 'hash');
  assert.equal(verified.rowsIntact, 2);
});

test('verify names a deleted row and a row whose hash was recomputed by hand', async () => {
  const deleted = await freshLog();
  for (let i = 0; i < 4; i++) await deleted.log.append(attempt({ reviewer: `U_${i}` }));
  await sql`delete from ${sql.id(deleted.schema, 'decision_log')} where seq = 2`.execute(tdb.db);
  const afterDelete = await deleted.log.verify();
  assert.ok(!afterDelete.intact);
  assert.deepEqual(afterDelete.firstBreak, { seq: '3', problem: 'gap', expectedSeq: '2' });

  // A forger who edits row 2 and rewrites its hash still breaks row 3's link.
  const rehashed = await freshLog();
  const rows = [];
  for (let i = 0; i < 3; i++) rows.push(await rehashed.log.append(attempt({ reviewer: `U_${i}` })));
  const forged = { ...rows[1]!, reviewer: 'U_MALLORY' };
  await sql`update ${sql.id(rehashed.schema, 'decision_log')} set reviewer = 'U_MALLORY', hash = ${chainHash(forged, forged.prevHash)} where seq = 2`.execute(
    tdb.db,
  );
  const afterRehash = await rehashed.log.verify();
  assert.ok(!afterRehash.intact);
  assert.equal(afterRehash.firstBreak.seq, '3');
  assert.equal(afterRehash.firstBreak.problem, 'prev_hash');
});

test('between() pages rows of a time window in seq order', async () => {
  const { log } = await freshLog();
  for (let day = 1; day <= 4; day++) {
    await log.append(attempt({ at: new Date(`2026-12-0${day}T12:00:00Z`), reviewer: `U_${day}` }));
  }
  const rows = [];
  for await (const row of log.between(new Date('2026-12-02T00:00:00Z'), new Date('2026-12-04T00:00:00Z'))) {
    rows.push(row.reviewer);
  }
  assert.deepEqual(rows, ['U_2', 'U_3']);
});
