// The daily digest's sums on a real PostgreSQL: observe-mode gates checked and would-have-held in a
// period, and the money at stake per currency from the compared lines (latest round before finalization,
// diverging lines only, over and under apart). Enforce-mode gates and other days do not count.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import { migrateToLatest } from '../../src/db/migrations';
import { AuditStore, type RunKey } from '../../src/audit/audit-store';
import type { Comparison, ComparisonKind, GateMode, GateOutcome, LineComparison } from '../../src/gate/types';
import { openTestDatabase, type TestDatabase } from '../db/pg-test-database';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const START = 1_767_225_600;

let tdb: TestDatabase;
let schema: string;
let store: AuditStore;

before(async () => {
  tdb = openTestDatabase();
  schema = tdb.reserveSchema('digest');
  await migrateToLatest(tdb.db, { schema });
  store = new AuditStore(tdb.db, { schema });
});
after(() => tdb.close());

function line(lineId: string, passed: boolean, estimatedImpactMinor: string | null): LineComparison {
  return {
    lineId,
    description: null,
    eventName: 'api_call',
    formula: 'count',
    periodStart: START,
    periodEnd: START + 86_400,
    stripeQuantity: '1',
    ledgerQuantity: '1',
    difference: '0',
    variancePct: '0',
    estimatedImpactMinor,
    passed,
  };
}

const comparison = (lines: LineComparison[]): Comparison => ({
  lines,
  passed: lines.every((l) => l.passed),
  maxVariancePct: '0',
  totalEstimatedImpactMinor: '0',
  tolerance: { pct: '1', abs: '0' },
});

let n = 0;
async function gate(
  currency: string,
  rounds: Array<[ComparisonKind, LineComparison[]]>,
  outcome: { outcome: GateOutcome; mode: GateMode; at?: Date },
): Promise<RunKey> {
  const key = { workflowId: `invoice-gate-in_${++n}`, runId: `run-${n}` };
  await store.recordRunStarted(key, { invoiceId: `in_${n}`, customerId: `cus_${n}`, currency });
  for (const [round, [kind, lines]] of rounds.entries())
    await store.recordComparison(key, comparison(lines), round, kind);
  await store.recordOutcome(key, outcome);
  return key;
}

/** Moves a round's recorded_at (the audit writes the worker's clock). */
async function recordedAt(key: RunKey, round: number, at: Date): Promise<void> {
  await sql`update ${sql.id(schema, 'gate_lines')} set recorded_at = ${at}
            where recount = ${round} and run_id = (select id from ${sql.id(schema, 'gate_runs')}
                                                   where workflow_id = ${key.workflowId})`.execute(tdb.db);
}

test('the digest sums a day of observe-mode gates: counts, and money per currency', async () => {
  const now = Date.now();
  const period = { from: now - 12 * HOUR, to: now + 12 * HOUR };
  const yesterday = new Date(period.from - 2 * HOUR);

  // A (usd): would hold on the check, then late usage changes the lines; what Stripe finalized is not counted.
  const a = await gate(
    'usd',
    [
      ['check', [line('l1', false, '1000.5'), line('l2', true, '10'), line('l3', false, null)]],
      ['late_usage', [line('l1', false, '1200'), line('l2', false, '-300.25'), line('l3', false, null)]],
      ['finalized', [line('l1', false, '5000')]],
    ],
    { outcome: 'would_hold', mode: 'observe' },
  );
  // B (eur): under-billed.
  await gate('eur', [['check', [line('l1', false, '-250')]]], { outcome: 'would_hold', mode: 'observe' });
  // C (usd): checked and passed.
  await gate('usd', [['check', [line('l1', true, '5')]]], { outcome: 'passed', mode: 'observe' });
  // D (usd): enforce mode: held, not part of the observe digest.
  await gate('usd', [['check', [line('l1', false, '7777')]]], { outcome: 'held', mode: 'enforce' });
  // E (usd): observed yesterday.
  const e = await gate('usd', [['check', [line('l1', false, '4444')]]], {
    outcome: 'would_hold',
    mode: 'observe',
    at: yesterday,
  });
  await recordedAt(e, 0, yesterday);
  // F (usd): checked yesterday, late usage today made it diverge.
  const f = await gate(
    'usd',
    [
      ['check', [line('l1', true, '0')]],
      ['late_usage', [line('l1', false, '99')]],
    ],
    { outcome: 'would_hold', mode: 'observe' },
  );
  await recordedAt(f, 0, yesterday);
  // G (usd): observe mode, but the gate never compared (skipped): not checked.
  const g = { workflowId: 'invoice-gate-in_skipped', runId: 'run-skipped' };
  await store.recordRunStarted(g, { invoiceId: 'in_skipped', currency: 'usd' });
  await store.recordOutcome(g, { outcome: 'skipped', mode: 'observe' });

  const summary = await store.summarizeObserved(period);
  assert.deepEqual(summary, {
    period,
    checked: 3, // A, B, C
    wouldHold: 3, // A, B, F
    money: [
      { currency: 'eur', overMinor: '0', underMinor: '250', linesWithoutPrice: 0 },
      { currency: 'usd', overMinor: '1299', underMinor: '300.25', linesWithoutPrice: 1 },
    ],
  });

  // Yesterday: E would have held, E and F were checked.
  const before = await store.summarizeObserved({ from: period.from - DAY, to: period.from });
  assert.deepEqual(before, {
    period: { from: period.from - DAY, to: period.from },
    checked: 2,
    wouldHold: 1,
    money: [{ currency: 'usd', overMinor: '4444', underMinor: '0', linesWithoutPrice: 0 }],
  });

  // A quiet day: nothing.
  const later = { from: period.to, to: period.to + DAY };
  assert.deepEqual(await store.summarizeObserved(later), { period: later, checked: 0, wouldHold: 0, money: [] });

  // A would-hold stays on the record when the outcome changes later (the ledger caught up).
  const firstWouldHold = (await store.getRun('in_1'))?.wouldHoldAt;
  await store.recordOutcome(a, { outcome: 'passed', mode: 'observe' });
  await store.recordOutcome(a, { outcome: 'would_hold', mode: 'observe' });
  const run = await store.getRun('in_1');
  assert.ok(firstWouldHold instanceof Date);
  assert.deepEqual([run?.mode, run?.wouldHoldAt], ['observe', firstWouldHold]);
});
