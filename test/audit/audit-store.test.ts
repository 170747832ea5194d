import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import { migrateToLatest } from '../../src/db/migrations';
import { AuditRunNotFoundError, AuditStore, type RunKey } from '../../src/audit/audit-store';
import type { Comparison, LineComparison } from '../../src/gate/types';
import { openTestDatabase, type TestDatabase } from '../db/pg-test-database';

const START = 1_767_225_600;
const END = START + 31 * 86_400;

let tdb: TestDatabase;
let schema: string;
let store: AuditStore;

before(async () => {
  tdb = openTestDatabase();
  schema = tdb.reserveSchema('audit');
  await migrateToLatest(tdb.db, { schema });
  store = new AuditStore(tdb.db, { schema });
});
after(() => tdb.close());

function line(
  lineId: string,
  stripe: string,
  ledger: string,
  passed: boolean,
  extra: Partial<LineComparison> = {},
): LineComparison {
  return {
    lineId,
    description: `Usage ${lineId}`,
    eventName: 'api_call',
    formula: 'count',
    periodStart: START,
    periodEnd: END,
    stripeQuantity: stripe,
    ledgerQuantity: ledger,
    difference: '0',
    variancePct: '0',
    estimatedImpactMinor: null,
    passed,
    ...extra,
  };
}

function comparison(lines: LineComparison[], maxVariancePct: string): Comparison {
  return {
    lines,
    passed: lines.every((l) => l.passed),
    maxVariancePct,
    totalEstimatedImpactMinor: '150.5',
    tolerance: { pct: '1', abs: '0' },
  };
}

async function count(table: string): Promise<number> {
  const r = await sql<{ n: string }>`select count(*)::text as n from ${sql.id(schema, table)}`.execute(tdb.db);
  return Number(r.rows[0].n);
}

test('a held run, recounted and released: idempotent writes, one row per run, lines per round', async () => {
  const key: RunKey = { workflowId: 'invoice-gate-in_1', runId: 'run-1' };
  const id1 = await store.recordRunStarted(key, { invoiceId: 'in_1' });
  const id2 = await store.recordRunStarted(key, {
    invoiceId: 'in_1',
    customerId: 'cus_1',
    periodStart: START,
    periodEnd: END,
    currency: 'usd',
    status: 'counting',
  });
  await store.recordRunStarted(key, { invoiceId: 'in_1' }); // a retry of the first call keeps the details
  assert.equal(id1, id2);

  const first = comparison(
    [
      line('il_a', '1200', '1000', false, { difference: '200', variancePct: '20', estimatedImpactMinor: '150.5' }),
      line('il_b', '0.3', '0.3', true),
    ],
    '20',
  );
  await store.recordComparison(key, first, 0);
  await store.recordComparison(key, first, 0); // activity retry
  await store.recordOutcome(key, { outcome: 'held', reason: 'il_a differs by 20 %' });
  await store.recordSlackMessage(key, { channel: 'C1', ts: '1700000000.000100' });
  await store.recordSlackMessage(key, { channel: 'C1', ts: '1700000000.000100' });

  let run = await store.getRun('in_1');
  assert.ok(run);
  assert.equal(run.status, 'held');
  assert.equal(run.outcome, 'held');
  assert.equal(run.customerId, 'cus_1');
  assert.equal(run.currency, 'usd');
  assert.deepEqual(run.periodStart, new Date(START * 1000));
  assert.equal(run.finishedAt, null);
  assert.equal(run.maxVariancePct, '20');
  assert.equal(run.stripeTotal, '1200.3');
  assert.equal(run.ledgerTotal, '1000.3');
  assert.equal(run.totalEstimatedImpactMinor, '150.5');
  assert.deepEqual(run.tolerance, { pct: '1', abs: '0' });
  assert.deepEqual(run.slack, { channel: 'C1', ts: '1700000000.000100' });
  assert.deepEqual(
    run.lines.map((l) => [l.recount, l.lineId, l.stripeQuantity, l.ledgerQuantity, l.variancePct, l.passed]),
    [
      [0, 'il_a', '1200', '1000', '20', false],
      [0, 'il_b', '0.3', '0.3', '0', true],
    ],
  );

  // recount: late events arrived, now within tolerance
  const second = comparison(
    [line('il_a', '1200', '1199', true, { difference: '1', variancePct: '0.0834' }), line('il_b', '0.3', '0.3', true)],
    '0.0834',
  );
  await store.recordComparison(key, second, 1);
  await store.recordComparison(key, first, 0); // a late retry of round 0 does not roll the totals back
  await store.recordOutcome(key, { outcome: 'auto_released', reviewer: 'U_REVIEWER', note: 'late events landed' });
  const decided = (await store.getRun('in_1'))!;
  await store.recordOutcome(key, { outcome: 'auto_released', reviewer: 'U_REVIEWER', note: 'late events landed' }); // retry
  await store.recordOutcome(key, { outcome: 'held' }); // a stale retry never reopens a finished run

  run = (await store.getRun('in_1'))!;
  assert.equal(run.outcome, 'auto_released');
  assert.equal(run.status, 'auto_released');
  assert.equal(run.reviewer, 'U_REVIEWER');
  assert.equal(run.decisionNote, 'late events landed');
  assert.equal(run.reason, 'il_a differs by 20 %');
  assert.equal(run.recounts, 1);
  assert.equal(run.maxVariancePct, '0.0834');
  assert.equal(run.ledgerTotal, '1199.3');
  assert.ok(run.decidedAt instanceof Date);
  assert.deepEqual(run.decidedAt, decided.decidedAt, 'timestamps keep their first value');
  assert.deepEqual(run.finishedAt, decided.finishedAt);
  assert.deepEqual(
    run.lines.map((l) => [l.recount, l.lineId, l.ledgerQuantity, l.passed]),
    [
      [0, 'il_a', '1000', false],
      [0, 'il_b', '0.3', true],
      [1, 'il_a', '1199', true],
      [1, 'il_b', '0.3', true],
    ],
  );
  assert.equal(await count('gate_runs'), 1);
  assert.equal(await count('gate_lines'), 4);
});

test('getRun returns the latest run of an invoice; listRuns filters by outcome', async () => {
  const old: RunKey = { workflowId: 'invoice-gate-in_2', runId: 'run-a' };
  const latest: RunKey = { workflowId: 'invoice-gate-in_2', runId: 'run-b' };
  await store.recordRunStarted(old, {
    invoiceId: 'in_2',
    customerId: 'cus_2',
    startedAt: new Date('2026-02-01T00:00:00Z'),
  });
  await store.recordOutcome(old, { outcome: 'passed' });
  await store.recordRunStarted(latest, {
    invoiceId: 'in_2',
    customerId: 'cus_2',
    startedAt: new Date('2026-02-02T00:00:00Z'),
  });
  await store.recordOutcome(latest, { outcome: 'too_late', reason: 'invoice already open' });

  const run = await store.getRun('in_2');
  assert.equal(run?.runId, 'run-b');
  assert.equal(run?.outcome, 'too_late');
  assert.deepEqual(run?.lines, []);
  assert.equal(await store.getRun('in_none'), null);

  const tooLate = await store.listRuns({ outcome: 'too_late' });
  assert.deepEqual(
    tooLate.map((r) => r.runId),
    ['run-b'],
  );
  const forCustomer = await store.listRuns({ customerId: 'cus_2' });
  assert.deepEqual(
    forCustomer.map((r) => r.runId),
    ['run-b', 'run-a'],
  );
  assert.equal((await store.listRuns({ limit: 1 })).length, 1);
});

test('writes for an unknown run fail clearly', async () => {
  const ghost: RunKey = { workflowId: 'invoice-gate-in_ghost', runId: 'r' };
  await assert.rejects(store.recordComparison(ghost, comparison([], '0'), 0), AuditRunNotFoundError);
  await assert.rejects(store.recordOutcome(ghost, { outcome: 'passed' }), AuditRunNotFoundError);
  await assert.rejects(store.recordSlackMessage(ghost, { channel: 'C', ts: '1' }), AuditRunNotFoundError);
});

test('a Stripe event is recorded once and its duplicates counted, also when delivered concurrently', async () => {
  const event = { eventId: 'evt_1', type: 'invoice.created', invoiceId: 'in_1', created: START };
  const results = await Promise.all(Array.from({ length: 5 }, () => store.recordStripeEvent(event)));
  assert.equal(results.filter((r) => r.firstTime).length, 1);
  assert.deepEqual(results.map((r) => r.duplicateCount).sort(), [0, 1, 2, 3, 4]);
  const again = await store.recordStripeEvent(event);
  assert.deepEqual(again, { firstTime: false, duplicateCount: 5 });
  assert.equal((await store.recordStripeEvent({ eventId: 'evt_2', type: 'invoice.finalized' })).firstTime, true);
  const rows = await sql<{ event_id: string; duplicate_count: number; payload_created: Date }>`
    select event_id, duplicate_count, payload_created from ${sql.id(schema, 'stripe_events')} order by event_id`.execute(
    tdb.db,
  );
  assert.equal(rows.rows.length, 2);
  assert.equal(rows.rows[0].duplicate_count, 5);
  assert.deepEqual(rows.rows[0].payload_created, new Date(START * 1000));
});

test('events recorded in one statement (the webhook group commit) count as if recorded one by one', async () => {
  await store.recordStripeEvent({ eventId: 'evt_b_old', type: 'invoice.created', invoiceId: 'in_b1' });
  const results = await store.recordStripeEvents([
    { eventId: 'evt_b_new', type: 'invoice.created', invoiceId: 'in_b2', created: START },
    { eventId: 'evt_b_old', type: 'invoice.created', invoiceId: 'in_b1' },
    { eventId: 'evt_b_new', type: 'invoice.created', invoiceId: 'in_b2', created: START },
    { eventId: 'evt_b_other', type: 'invoice.paid', invoiceId: 'in_b3' },
  ]);
  assert.deepEqual(results, [
    { firstTime: true, duplicateCount: 0 },
    { firstTime: false, duplicateCount: 1 },
    { firstTime: false, duplicateCount: 1 },
    { firstTime: true, duplicateCount: 0 },
  ]);
  const rows = await sql<{ event_id: string; duplicate_count: number }>`
    select event_id, duplicate_count from ${sql.id(schema, 'stripe_events')}
     where event_id like 'evt_b_%' order by event_id`.execute(tdb.db);
  assert.deepEqual(
    rows.rows.map((r) => [r.event_id, r.duplicate_count]),
    [
      ['evt_b_new', 1],
      ['evt_b_old', 1],
      ['evt_b_other', 0],
    ],
  );
  assert.deepEqual(await store.recordStripeEvents([]), []);
});

test('review attempts: every attempt kept, retried writes with the same key once', async () => {
  assert.deepEqual(
    await store.recordReviewAttempt({
      invoiceId: 'in_9',
      slackUserId: 'U_NOPE',
      action: 'release',
      allowed: false,
      outcome: 'not_allowed',
      attemptKey: 'a1',
    }),
    { recorded: true },
  );
  assert.deepEqual(
    await store.recordReviewAttempt({
      invoiceId: 'in_9',
      slackUserId: 'U_NOPE',
      action: 'release',
      allowed: false,
      outcome: 'not_allowed',
      attemptKey: 'a1',
    }),
    { recorded: false },
  );
  await store.recordReviewAttempt({
    invoiceId: 'in_9',
    slackUserId: 'U_OK',
    action: 'release',
    allowed: true,
    outcome: 'signalled',
  });
  await store.recordReviewAttempt({
    invoiceId: 'in_9',
    slackUserId: 'U_OK',
    action: 'release',
    allowed: true,
    outcome: 'already_decided',
  });
  const attempts = await store.listReviewAttempts('in_9');
  assert.deepEqual(
    attempts.map((a) => [a.slackUserId, a.allowed, a.outcome]),
    [
      ['U_NOPE', false, 'not_allowed'],
      ['U_OK', true, 'signalled'],
      ['U_OK', true, 'already_decided'],
    ],
  );
});
