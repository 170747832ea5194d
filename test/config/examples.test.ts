// The shipped examples and docs are checked against the code, so they cannot drift: the example config
// file loads and counts a real ledger, .env.example states the true defaults of known variables only,
// and the SQL in docs/audit.md runs against the migrated audit schema.
import { DecisionLog } from '../../src/audit/decision-log';
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseDotenv } from 'dotenv';
import { sql } from 'kysely';
import { ConfigError, parseConfig } from '../../src/config/env';
import { loadGateConfig, toleranceFor } from '../../src/config/gate-config';
import { countLedgerEvents } from '../../src/ledger/count-ledger-events';
import { migrateToLatest } from '../../src/db/migrations';
import { AuditStore } from '../../src/audit/audit-store';
import { compareInvoice } from '../../src/gate/compare';
import type { MeteredLine } from '../../src/gate/types';
import { openTestDatabase, type TestDatabase } from '../db/pg-test-database';

const ROOT = join(__dirname, '..', '..');
const EXAMPLE_CONFIG = join(ROOT, 'examples', 'invoice-gate.config.json');
const ENV_EXAMPLE = join(ROOT, '.env.example');
const CONFIG_DOC = join(ROOT, 'docs', 'configuration.md');
const AUDIT_DOC = join(ROOT, 'docs', 'audit.md');
const ENV_TOLERANCE = { pct: '1', abs: '0' };

const read = (path: string) => readFileSync(path, 'utf8');

/** `# NAME=value` lines of .env.example, uncommented. */
function envExampleAssignments(): Array<[name: string, line: string]> {
  return read(ENV_EXAMPLE)
    .split('\n')
    .map((line) => /^# ([A-Z][A-Z0-9_]*=.*)$/.exec(line)?.[1])
    .filter((line): line is string => line !== undefined)
    .map((line) => [line.slice(0, line.indexOf('=')), line]);
}

/** Removes `//` comments outside JSON strings. */
function stripLineComments(jsonc: string): string {
  return jsonc
    .split('\n')
    .map((line) => {
      let inString = false;
      for (let i = 0; i < line.length; i++) {
        const ch = line[i];
        if (inString && ch === '\\') i++;
        else if (ch === '"') inString = !inString;
        else if (!inString && ch === '/' && line[i + 1] === '/') return line.slice(0, i);
      }
      return line;
    })
    .join('\n');
}

/** The fenced blocks of `lang` after `marker` in a markdown file. */
function codeBlocks(markdown: string, marker: string, lang: string): string[] {
  const from = markdown.indexOf(marker);
  assert.ok(from >= 0, `marker ${marker} not found`);
  const re = new RegExp('```' + lang + '\\n([\\s\\S]*?)```', 'g');
  return [...markdown.slice(from).matchAll(re)].map((m) => m[1]);
}

test('the example config file loads with loadGateConfig and means what the docs say', () => {
  const config = loadGateConfig(EXAMPLE_CONFIG, ENV_TOLERANCE);
  assert.deepEqual(config.ledger, {
    schema: 'billing',
    table: 'usage_events',
    columns: { customer: 'account_id', eventName: 'kind', value: 'quantity', occurredAt: 'recorded_at' },
    customerKey: 'metadata.account_id',
    filter: "environment = 'production' and voided_at is null",
    eventNames: { mtr_61RcdL4nAqRXy1kG8A9wQd3S: 'api_request', gpu_seconds: 'gpu_time_s' },
    rollup: null,
  });
  assert.deepEqual(config.tolerance, { pct: '0.5', abs: '2' });
  // Per-customer fields override the global ones one by one.
  assert.deepEqual(toleranceFor(config, 'cus_RkE3mPq8ZtY2Vb'), { pct: '5', abs: '2' });
  assert.deepEqual(toleranceFor(config, 'cus_Qn7Lw2XcVb9TfA'), { pct: '0.5', abs: '250' });
  assert.deepEqual(toleranceFor(config, 'cus_someoneelse'), { pct: '0.5', abs: '2' });
});

test('the annotated example in docs/configuration.md is the example file plus comments', () => {
  const [annotated] = codeBlocks(read(CONFIG_DOC), '<!-- annotated-example', 'jsonc');
  assert.ok(annotated, 'no jsonc block after the annotated-example marker');
  assert.deepEqual(JSON.parse(stripLineComments(annotated)), JSON.parse(read(EXAMPLE_CONFIG)));
});

test('.env.example, uncommented, parses with parseConfig and states the true defaults', () => {
  const assignments = envExampleAssignments();
  const parsed = parseDotenv(assignments.map(([, line]) => line).join('\n'));
  assert.equal(Object.keys(parsed).length, assignments.length, 'a variable is listed twice');
  assert.deepEqual(parseConfig(parsed), parseConfig({}));
});

test('.env.example lists only variables the service reads, each documented, and misses none', () => {
  const names = envExampleAssignments().map(([name]) => name);
  const defaults = JSON.stringify(parseConfig({}));
  for (const name of names) {
    // A variable the service does not know would neither change the configuration nor be rejected.
    let known: boolean;
    try {
      known = JSON.stringify(parseConfig({ [name]: 'zz-9' })) !== defaults;
    } catch (err) {
      known = err instanceof ConfigError;
    }
    assert.ok(known, `${name} in .env.example is not read by parseConfig`);
  }
  const doc = read(CONFIG_DOC);
  for (const name of names) assert.match(doc, new RegExp('`' + name + '`'), `${name} is not in docs/configuration.md`);
  // Conversely, every variable row of the doc's tables is in .env.example.
  const documented = [...doc.matchAll(/^\| `([A-Z][A-Z0-9_]*)`(?:, `([A-Z][A-Z0-9_]*)`)?/gm)]
    .flatMap((m) => [m[1], m[2]])
    .filter(Boolean);
  assert.ok(documented.length >= 20, 'the variable tables of docs/configuration.md were not found');
  assert.deepEqual([...new Set(documented)].sort(), [...names].sort());
});

test.describe('against PostgreSQL', () => {
  let tdb: TestDatabase;
  before(() => {
    tdb = openTestDatabase();
  });
  after(async () => {
    await tdb.close();
  });

  test('the example mapping counts a ledger shaped like it, honouring filter, metadata key and event names', async () => {
    const schema = await tdb.createSchema('example_ledger');
    await sql`
      create table ${sql.id(schema, 'usage_events')} (
        account_id text not null, kind text not null, quantity numeric, recorded_at timestamptz not null,
        environment text not null default 'production', voided_at timestamptz
      )`.execute(tdb.db);
    const start = Date.parse('2026-01-01T00:00:00Z') / 1000;
    const end = Date.parse('2026-02-01T00:00:00Z') / 1000;
    const row = (
      account: string,
      kind: string,
      quantity: string,
      at: string,
      environment = 'production',
      voided = false,
    ) =>
      sql`(${account}, ${kind}, ${quantity}::numeric, ${at}::timestamptz, ${environment}, ${voided ? sql`now()` : sql`null`})`;
    await sql`insert into ${sql.id(schema, 'usage_events')} (account_id, kind, quantity, recorded_at, environment, voided_at) values ${sql.join(
      [
        row('acct_42', 'api_request', '1', '2026-01-01T00:00:00Z'),
        row('acct_42', 'api_request', '1', '2026-01-15T12:00:00Z'),
        row('acct_42', 'api_request', '1', '2026-01-15T12:00:01Z', 'staging'), // filtered out
        row('acct_42', 'api_request', '1', '2026-01-16T00:00:00Z', 'production', true), // voided
        row('acct_42', 'api_request', '1', '2026-02-01T00:00:00Z'), // next period
        row('acct_7', 'api_request', '1', '2026-01-10T00:00:00Z'), // other account
        row('acct_42', 'gpu_time_s', '12.5', '2026-01-02T00:00:00Z'),
        row('acct_42', 'gpu_time_s', '0.25', '2026-01-03T00:00:00Z'),
      ],
    )}`.execute(tdb.db);

    const config = loadGateConfig(EXAMPLE_CONFIG, ENV_TOLERANCE);
    const counts = await countLedgerEvents(
      tdb.db,
      { ...config.ledger, schema },
      {
        customerId: 'cus_RkE3mPq8ZtY2Vb',
        customerMetadata: { account_id: 'acct_42' },
        lines: [
          {
            lineId: 'il_api',
            meterId: 'mtr_61RcdL4nAqRXy1kG8A9wQd3S',
            eventName: 'api_requests',
            formula: 'count',
            periodStart: start,
            periodEnd: end,
          },
          {
            lineId: 'il_gpu',
            meterId: 'mtr_gpu',
            eventName: 'gpu_seconds',
            formula: 'sum',
            periodStart: start,
            periodEnd: end,
          },
        ],
      },
    );
    assert.deepEqual(counts, { il_api: '2', il_gpu: '12.75' });
  });

  test('every query in docs/audit.md runs against the migrated audit schema', async () => {
    const schema = tdb.reserveSchema('audit_docs');
    await migrateToLatest(tdb.db, { schema });
    const audit = new AuditStore(tdb.db, { schema });
    const invoiceId = 'in_1RZsQ2LkdIwHu7ix8a9bC0dE';
    const key = { workflowId: `invoice-gate-${invoiceId}`, runId: 'run-1' };
    await audit.recordRunStarted(key, {
      invoiceId,
      customerId: 'cus_RkE3mPq8ZtY2Vb',
      periodStart: 1_767_225_600,
      periodEnd: 1_769_904_000,
      currency: 'usd',
    });
    const line: MeteredLine = {
      lineId: 'il_1',
      description: 'API requests',
      priceId: 'price_1',
      meterId: 'mtr_1',
      eventName: 'api_requests',
      formula: 'count',
      periodStart: 1_767_225_600,
      periodEnd: 1_769_904_000,
      stripeQuantity: '1200',
      unitAmountDecimal: '0.5',
    };
    await audit.recordComparison(key, compareInvoice([line], { il_1: '1000' }, ENV_TOLERANCE), 0);
    await audit.recordOutcome(key, { outcome: 'held', slack: { channel: 'C0BILLING', ts: '1.000' } });
    await audit.recordReviewAttempt({
      invoiceId,
      slackUserId: 'U0INTRUDER',
      action: 'release',
      allowed: false,
      outcome: 'not_allowed',
    });
    await audit.recordStripeEvent({ eventId: 'evt_1', type: 'invoice.created', invoiceId });
    await audit.recordStripeEvent({ eventId: 'evt_1', type: 'invoice.created', invoiceId });

    const queries = codeBlocks(read(AUDIT_DOC), '<!-- audit-queries', 'sql');
    assert.equal(queries.length, 7);
    const results: number[] = [];
    for (const query of queries) {
      assert.ok(query.includes('invoice_gate.'), 'an audit query should name the invoice_gate schema');
      const { rows } = await sql.raw(query.replaceAll('invoice_gate.', `"${schema}".`)).execute(tdb.db);
      results.push(rows.length);
    }
    // Held invoice: its line, the refused click, held now, one non-reviewer, one duplicate; no decisions yet.
    assert.deepEqual(results, [1, 1, 1, 1, 1, 0, 0]);

    await audit.recordReviewAttempt({
      invoiceId,
      slackUserId: 'U0REVIEWER',
      action: 'release',
      allowed: true,
      outcome: 'decided',
    });
    await audit.recordOutcome(key, { outcome: 'released', reviewer: 'U0REVIEWER', reason: 'released by U0REVIEWER' });
    await new DecisionLog(tdb.db, { schema }).append({
      invoiceId,
      reviewer: 'U0REVIEWER',
      action: 'release',
      reason: 'ledger_late',
      accepted: true,
      channel: 'slack',
      moneyAtStake: '10000',
      currency: 'usd',
    });
    const after: number[] = [];
    for (const query of queries)
      after.push((await sql.raw(query.replaceAll('invoice_gate.', `"${schema}".`)).execute(tdb.db)).rows.length);
    assert.deepEqual(after, [1, 2, 0, 1, 1, 1, 1]);
  });
});
