// The review queue and the hold metrics through the real endpoints (Fastify inject) on a real
// PostgreSQL: holds written by the audit store as the gate writes them, read back by GET /holds,
// /holds.csv and /metrics as they come and go.
import { DecisionLog } from '../../../src/audit/decision-log';
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import Fastify, { type FastifyInstance } from 'fastify';
import { AuditStore, type RunKey } from '../../../src/audit/audit-store';
import { HoldQueueReader } from '../../../src/audit/hold-queue';
import { migrateToLatest } from '../../../src/db/migrations';
import type { Comparison, GateStatus, LineComparison } from '../../../src/gate/types';
import { healthRoutes } from '../../../src/http/health-routes';
import { holdsRoutes } from '../../../src/http/holds/holds-routes';
import { createMetrics } from '../../../src/observability/metrics';
import { RunPageLinks } from '../../../src/run-page/run-page-links';
import { openTestDatabase, type TestDatabase } from '../../db/pg-test-database';

const KEY = Buffer.from('holds-test-secret-holds-test-secret-0123');
const NOW_MS = Date.parse('2026-11-02T12:00:00Z');
const HOUR = 3_600_000;
const PERIOD_START = Date.parse('2026-10-01T00:00:00Z') / 1000;
const PERIOD_END = Date.parse('2026-11-01T00:00:00Z') / 1000;

let tdb: TestDatabase;
let schema: string;
let store: AuditStore;
let app: FastifyInstance;
let clock = NOW_MS;
const links = new RunPageLinks({
  key: KEY,
  publicUrl: 'http://gate.test',
  defaultUrl: 'http://gate.test',
  expiryMs: HOUR,
  now: () => clock,
});

function line(lineId: string, impact: string | null): LineComparison {
  return {
    lineId,
    description: null,
    eventName: 'api_call',
    formula: 'count',
    periodStart: PERIOD_START,
    periodEnd: PERIOD_END,
    stripeQuantity: '120',
    ledgerQuantity: '100',
    difference: '20',
    variancePct: '20',
    estimatedImpactMinor: impact,
    passed: false,
  };
}

function comparison(impacts: Array<string | null>): Comparison {
  return {
    lines: impacts.map((impact, i) => line(`il_${i}`, impact)),
    passed: false,
    maxVariancePct: '20',
    totalEstimatedImpactMinor: '0',
    tolerance: { pct: '1', abs: '0' },
  };
}

const keyOf = (invoiceId: string): RunKey => ({ workflowId: `invoice-gate-${invoiceId}`, runId: `run-${invoiceId}` });

/** A gate that read the invoice, compared it and held it `hoursAgo` hours before NOW. */
async function hold(
  invoiceId: string,
  customerId: string,
  currency: string,
  impacts: Array<string | null>,
  hoursAgo: number,
): Promise<RunKey> {
  const key = keyOf(invoiceId);
  await store.recordRunStarted(key, {
    invoiceId,
    customerId,
    currency,
    startedAt: new Date(NOW_MS - (hoursAgo + 1) * HOUR),
    finalizesAt: PERIOD_END + 3600,
  });
  // Stripe's time as read after the pause moved it: the first one stays.
  await store.recordRunStarted(key, { invoiceId, finalizesAt: PERIOD_END + 30 * 86_400 });
  await store.recordComparison(key, comparison(impacts), 0);
  await store.recordOutcome(key, { outcome: 'held', reason: 'diverges', at: new Date(NOW_MS - hoursAgo * HOUR) });
  // A retried `held` keeps the hold's start.
  await store.recordOutcome(key, { outcome: 'held', reason: 'diverges', at: new Date(NOW_MS) });
  return key;
}

/** An accepted (or refused) release in the decision log, as the gate writes it. */
async function logRelease(_seq: number, invoiceId: string, reviewer: string, at: Date, accepted = true) {
  await new DecisionLog(tdb.db, { schema }).append({
    at,
    invoiceId,
    reviewer,
    action: 'release',
    reason: 'ledger_late',
    accepted,
    channel: 'slack',
  });
}

const get = (url: string) => app.inject({ method: 'GET', url });
const path = (link: string) => new URL(link).pathname + new URL(link).search;

function metricValue(body: string, sample: string): number | undefined {
  const found = body.split('\n').find((l) => l.startsWith(`${sample} `));
  return found === undefined ? undefined : Number(found.slice(sample.length + 1));
}

before(async () => {
  tdb = openTestDatabase();
  schema = tdb.reserveSchema('holds');
  await migrateToLatest(tdb.db, { schema });
  store = new AuditStore(tdb.db, { schema });
  const reader = new HoldQueueReader(tdb.db, { schema });
  const metrics = createMetrics({ defaultMetrics: false, now: () => clock });
  metrics.readHoldsFrom(() => reader.summarize());
  app = Fastify();
  await app.register(healthRoutes, { checks: {}, metrics });
  await app.register(holdsRoutes, {
    verify: (signature) => links.verifyHolds(signature),
    list: (filter, limit) => reader.list(filter, limit),
    runPageUrl: (invoiceId) => links.urlFor(invoiceId),
    now: () => new Date(clock),
  });
});
after(async () => {
  await app?.close();
  await tdb?.close();
});

describe('the review queue and the hold metrics', () => {
  test('the metrics move as holds come and go', async () => {
    const scrape = async () => (await get('/metrics')).body;
    let body = await scrape();
    assert.equal(metricValue(body, 'invoice_gate_held_invoices{status="held"}'), 0);
    assert.equal(metricValue(body, 'invoice_gate_held_invoices{status="awaiting_second_approval"}'), 0);
    assert.equal(metricValue(body, 'invoice_gate_oldest_hold_age_seconds{status="held"}'), 0);
    assert.match(body, /# TYPE invoice_gate_hold_decision_seconds histogram/);

    await hold('in_1Old', 'cus_A', 'usd', ['-1500', '500'], 30);
    await hold('in_1New', 'cus_B', 'usd', ['700', null], 2);
    await hold('in_1Eur', 'cus_A', 'eur', ['250'], 5);
    // A passed gate is not a hold.
    await store.recordRunStarted(keyOf('in_1Pass'), { invoiceId: 'in_1Pass', customerId: 'cus_A', currency: 'usd' });
    await store.recordOutcome(keyOf('in_1Pass'), { outcome: 'passed' });
    body = await scrape();
    assert.equal(metricValue(body, 'invoice_gate_held_invoices{status="held"}'), 3);
    assert.equal(metricValue(body, 'invoice_gate_oldest_hold_age_seconds{status="held"}'), 30 * 3600);
    assert.equal(metricValue(body, 'invoice_gate_held_money_minor{currency="usd"}'), 1500 + 500 + 700);
    assert.equal(metricValue(body, 'invoice_gate_held_money_minor{currency="eur"}'), 250);

    // The oldest is released once and waits for a second approval: it moves to the other status.
    await store.recordStatus(keyOf('in_1Old'), 'awaiting_second_approval' as GateStatus);
    clock += 60_000;
    body = await scrape();
    assert.equal(metricValue(body, 'invoice_gate_held_invoices{status="held"}'), 2);
    assert.equal(metricValue(body, 'invoice_gate_held_invoices{status="awaiting_second_approval"}'), 1);
    assert.equal(metricValue(body, 'invoice_gate_oldest_hold_age_seconds{status="held"}'), 5 * 3600 + 60);
    assert.equal(
      metricValue(body, 'invoice_gate_oldest_hold_age_seconds{status="awaiting_second_approval"}'),
      30 * 3600 + 60,
    );
    clock = NOW_MS;

    // The euro hold is released: it leaves the gauges, and its currency's series goes.
    await store.recordOutcome(keyOf('in_1Eur'), { outcome: 'released', reviewer: 'U0ALICE', reason: 'ledger_late' });
    body = await scrape();
    assert.equal(metricValue(body, 'invoice_gate_held_invoices{status="held"}'), 1);
    assert.equal(metricValue(body, 'invoice_gate_held_money_minor{currency="eur"}'), undefined);
    assert.equal(metricValue(body, 'invoice_gate_held_money_minor{currency="usd"}'), 2700);
  });

  test('an unsigned, forged, expired or run-page signature gets the 404; the queue has its own', async () => {
    const signed = new URL(links.holdsUrl());
    const sig = signed.searchParams.get('sig')!;
    const runPageSig = new URL(links.urlFor('in_1Old')).searchParams.get('sig')!;
    for (const url of [
      '/holds',
      '/holds.csv',
      '/holds?sig=',
      `/holds?sig=${sig.replace(/.$/, (c) => (c === '0' ? '1' : '0'))}`,
      `/holds?sig=${encodeURIComponent(runPageSig)}`,
      `/holds.csv?sig=${encodeURIComponent(runPageSig)}`,
    ]) {
      const res = await get(url);
      assert.equal(res.statusCode, 404, url);
      assert.doesNotMatch(res.body, /in_1/, url);
    }
    // The queue's signature opens no run page either.
    assert.equal(links.verify('in_1Old', sig), false);
    clock = NOW_MS + HOUR + 1000;
    try {
      assert.equal((await get(path(signed.toString()))).statusCode, 404, 'expired');
    } finally {
      clock = NOW_MS;
    }
  });

  test('a signed link lists every hold, oldest first, with its details and a signed run page link', async () => {
    await logRelease(1, 'in_1Old', 'U0BOB', new Date(NOW_MS - 3 * HOUR), false);
    await logRelease(2, 'in_1Old', 'U0ALICE', new Date(NOW_MS - 2 * HOUR));
    const res = await get(path(links.holdsUrl()));
    assert.equal(res.statusCode, 200);
    assert.equal(res.headers['cache-control'], 'no-store');
    assert.equal(res.headers['referrer-policy'], 'no-referrer');
    assert.match(String(res.headers['content-security-policy']), /default-src 'none'/);
    const rows = [...res.body.matchAll(/data-invoice-id="(in_\w+)"/g)].map((m) => m[1]);
    assert.deepEqual(rows, ['in_1Old', 'in_1New']);
    assert.match(res.body, /USD 20\.00/, 'money at stake: |-1500| + 500 minor units');
    assert.match(res.body, /≥ USD 7\.00 \(1 line not priced\)/);
    assert.match(res.body, /<code>U0ALICE<\/code>/, 'the latest accepted release is the first approval');
    assert.doesNotMatch(res.body, /U0BOB/);
    assert.match(res.body, /2026-11-01 01:00 UTC/, "Stripe's original finalization time");
    const runPage = /href="(http:\/\/gate\.test\/invoices\/in_1Old\?sig=[^"]+)"/.exec(res.body);
    assert.ok(runPage, 'a link to the run page');
    assert.equal(links.verify('in_1Old', new URL(runPage[1].replaceAll('&amp;', '&')).searchParams.get('sig')), true);
  });

  test('filters by customer and status; a bad filter is a 400 that says why', async () => {
    const sig = new URL(links.holdsUrl()).searchParams.get('sig')!;
    const rows = async (query: string) => {
      const res = await get(`/holds?sig=${sig}&${query}`);
      assert.equal(res.statusCode, 200, query);
      return [...res.body.matchAll(/data-invoice-id="(in_\w+)"/g)].map((m) => m[1]);
    };
    assert.deepEqual(await rows('customer=cus_B'), ['in_1New']);
    assert.deepEqual(await rows('status=awaiting_second_approval'), ['in_1Old']);
    assert.deepEqual(await rows('status=held&customer=cus_A'), []);
    assert.deepEqual(await rows('customer=&status='), ['in_1Old', 'in_1New']);
    const bad = await get(`/holds?sig=${sig}&status=passed`);
    assert.equal(bad.statusCode, 400);
    assert.match(bad.body, /status must be one of held, awaiting_second_approval/);
    const badCustomer = await get(`/holds.csv?sig=${sig}&customer=${encodeURIComponent("x' or 1=1")}`);
    assert.equal(badCustomer.statusCode, 400);
    assert.match(badCustomer.body, /customer must be a Stripe customer id/);
  });

  test('the CSV holds the same rows, and a formula-like cell cannot run', async () => {
    await logRelease(3, 'in_1Old', '=HYPERLINK("http://evil")', new Date(NOW_MS - HOUR));
    const res = await get(path(links.holdsUrl('csv')));
    assert.equal(res.statusCode, 200);
    assert.match(String(res.headers['content-type']), /^text\/csv/);
    assert.match(String(res.headers['content-disposition']), /^attachment; filename="invoice-gate-holds-/);
    const lines = res.body.trimEnd().split('\r\n');
    assert.equal(
      lines[0],
      'invoice_id,customer_id,status,held_since,held_seconds,money_at_stake_minor,unpriced_lines,currency,finalizes_at,first_approver,first_approved_at',
    );
    assert.deepEqual(lines.slice(1), [
      `in_1Old,cus_A,awaiting_second_approval,2026-11-01T06:00:00Z,${30 * 3600},2000,0,usd,2026-11-01T01:00:00Z,"'=HYPERLINK(""http://evil"")",2026-11-02T11:00:00Z`,
      `in_1New,cus_B,held,2026-11-02T10:00:00Z,${2 * 3600},700,1,usd,2026-11-01T01:00:00Z,,`,
    ]);
  });

  test('a draft held again after it passed is held since the new hold', async () => {
    const key = await hold('in_1Again', 'cus_AGAIN', 'usd', ['100'], 48);
    await store.recordOutcome(key, { outcome: 'auto_released', at: new Date(NOW_MS - 24 * HOUR) });
    const sig = new URL(links.holdsUrl()).searchParams.get('sig')!;
    assert.doesNotMatch((await get(`/holds.csv?sig=${sig}&customer=cus_AGAIN`)).body, /in_1Again/, 'decided');
    // Passed, then late usage made the draft diverge: `held` reopens the run with a new start.
    await store.recordOutcome(key, { outcome: 'passed', at: new Date(NOW_MS - 20 * HOUR) });
    await store.recordOutcome(key, { outcome: 'held', at: new Date(NOW_MS - 3 * HOUR) });
    const rows = (await get(`/holds.csv?sig=${sig}&customer=cus_AGAIN`)).body.trimEnd().split('\r\n');
    assert.equal(rows.length, 2);
    assert.match(rows[1], new RegExp(`^in_1Again,cus_AGAIN,held,2026-11-02T09:00:00Z,${3 * 3600},100,`));
  });
});
