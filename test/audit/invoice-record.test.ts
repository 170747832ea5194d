import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { migrateToLatest } from '../../src/db/migrations';
import { AuditStore } from '../../src/audit/audit-store';
import { InvoiceRecordReader } from '../../src/audit/invoice-record';
import type { Comparison, LineComparison } from '../../src/gate/types';
import { openTestDatabase, type TestDatabase } from '../db/pg-test-database';

const START = 1_767_225_600;
const END = START + 31 * 86_400;

let tdb: TestDatabase;
let store: AuditStore;
let reader: InvoiceRecordReader;

before(async () => {
  tdb = openTestDatabase();
  const schema = tdb.reserveSchema('record');
  await migrateToLatest(tdb.db, { schema });
  store = new AuditStore(tdb.db, { schema });
  reader = new InvoiceRecordReader(tdb.db, { schema });
});
after(() => tdb.close());

function comparison(stripe: string, ledger: string, passed: boolean): Comparison {
  const line: LineComparison = {
    lineId: 'il_1',
    description: 'API calls',
    eventName: 'api_call',
    formula: 'count',
    periodStart: START,
    periodEnd: END,
    stripeQuantity: stripe,
    ledgerQuantity: ledger,
    difference: String(Number(stripe) - Number(ledger)),
    variancePct: '20',
    estimatedImpactMinor: '40',
    passed,
  };
  return {
    lines: [line],
    passed,
    maxVariancePct: '20',
    totalEstimatedImpactMinor: '40',
    tolerance: { pct: '1', abs: '0' },
  };
}

test('an invoice the gate never saw: null', async () => {
  assert.equal(await reader.read('in_1Never'), null);
});

test("everything recorded about one invoice: runs with every round's lines, clicks, Stripe's events; nothing of others", async () => {
  const key = { workflowId: 'invoice-gate-in_1Rec', runId: 'run-a' };
  await store.recordRunStarted(key, {
    invoiceId: 'in_1Rec',
    customerId: 'cus_1',
    currency: 'eur',
    startedAt: new Date('2026-01-01T00:00:00Z'),
  });
  await store.recordComparison(key, comparison('120', '100', false), 0);
  await store.recordOutcome(key, { outcome: 'held', reason: 'diverges' });
  await store.recordComparison(key, comparison('120', '119', true), 1);
  await store.recordOutcome(key, { outcome: 'released', reviewer: 'U0ALICE', note: 'checked by hand' });
  await store.recordReviewAttempt({
    invoiceId: 'in_1Rec',
    slackUserId: 'U0BOB',
    action: 'release',
    allowed: false,
    outcome: 'not_allowed',
    at: new Date('2026-01-01T01:00:00Z'),
  });
  await store.recordReviewAttempt({
    invoiceId: 'in_1Rec',
    slackUserId: 'U0ALICE',
    action: 'release',
    allowed: true,
    outcome: 'decided',
    at: new Date('2026-01-01T02:00:00Z'),
  });
  await store.recordStripeEvent({
    eventId: 'evt_2',
    type: 'invoice.finalized',
    invoiceId: 'in_1Rec',
    created: START + 20,
  });
  await store.recordStripeEvent({
    eventId: 'evt_1',
    type: 'invoice.created',
    invoiceId: 'in_1Rec',
    created: START + 10,
  });
  await store.recordStripeEvent({
    eventId: 'evt_1',
    type: 'invoice.created',
    invoiceId: 'in_1Rec',
    created: START + 10,
  });
  // Another invoice's rows stay out.
  await store.recordRunStarted({ workflowId: 'invoice-gate-in_1Other', runId: 'run-o' }, { invoiceId: 'in_1Other' });
  await store.recordComparison({ workflowId: 'invoice-gate-in_1Other', runId: 'run-o' }, comparison('5', '5', true), 0);
  await store.recordStripeEvent({ eventId: 'evt_o', type: 'invoice.created', invoiceId: 'in_1Other' });

  const record = await reader.read('in_1Rec');
  assert.ok(record);
  assert.equal(record.runs.length, 1);
  const [run] = record.runs;
  assert.equal(run.outcome, 'released');
  assert.equal(run.reviewer, 'U0ALICE');
  assert.equal(run.decisionNote, 'checked by hand');
  assert.deepEqual(
    run.lines.map((l) => [l.recount, l.kind, l.stripeQuantity, l.ledgerQuantity, l.passed]),
    [
      [0, 'check', '120', '100', false],
      [1, 'recount', '120', '119', true],
    ],
  );
  assert.deepEqual(
    record.clicks.map((c) => [c.slackUserId, c.allowed, c.outcome]),
    [
      ['U0BOB', false, 'not_allowed'],
      ['U0ALICE', true, 'decided'],
    ],
  );
  assert.deepEqual(
    record.stripeEvents.map((e) => [e.eventId, e.type, e.duplicateCount]),
    [
      ['evt_1', 'invoice.created', 1],
      ['evt_2', 'invoice.finalized', 0],
    ],
  );
});

test('several runs of one invoice: newest first, each with its own lines', async () => {
  const first = { workflowId: 'invoice-gate-in_1Twice', runId: 'run-1' };
  const second = { workflowId: 'invoice-gate-in_1Twice', runId: 'run-2' };
  await store.recordRunStarted(first, { invoiceId: 'in_1Twice', startedAt: new Date('2026-01-01T00:00:00Z') });
  await store.recordComparison(first, comparison('10', '8', false), 0);
  await store.recordRunStarted(second, { invoiceId: 'in_1Twice', startedAt: new Date('2026-01-02T00:00:00Z') });
  const record = await reader.read('in_1Twice');
  assert.deepEqual(
    record?.runs.map((r) => [r.runId, r.lines.length]),
    [
      ['run-2', 0],
      ['run-1', 1],
    ],
  );
});
