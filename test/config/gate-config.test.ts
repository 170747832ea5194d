import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '../../src/config/config-error';
import {
  DEFAULT_LEDGER_MAPPING,
  ledgerEventName,
  loadGateConfig,
  parseGateConfig,
  toleranceFor,
} from '../../src/config/gate-config';

const ENV_TOLERANCE = { pct: '1', abs: '0' };

function writeJson(content: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'gate-config-'));
  const path = join(dir, 'gate.json');
  writeFileSync(path, content);
  return path;
}

function issuesOf(fn: () => unknown): string[] {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof ConfigError, String(err));
    return err.issues.map((i) => `${i.variable}: ${i.message}`);
  }
  assert.fail('expected a ConfigError');
}

test('no file: the contract defaults and the environment tolerance', () => {
  const c = loadGateConfig(undefined, { pct: '2', abs: '5' });
  assert.deepEqual(c.ledger, {
    schema: 'public',
    table: 'billable_events',
    columns: { customer: 'stripe_customer_id', eventName: 'event_name', value: 'value', occurredAt: 'occurred_at' },
    customerKey: 'id',
    filter: null,
    eventNames: {},
    rollup: null,
  });
  assert.deepEqual(c.ledger, DEFAULT_LEDGER_MAPPING);
  assert.deepEqual(c.tolerance, { pct: '2', abs: '5' });
  assert.deepEqual(c.customers, {});
});

test('a file overrides the mapping field by field and the tolerance over the environment', () => {
  const path = writeJson(
    JSON.stringify({
      ledger: {
        schema: 'billing',
        table: 'usage',
        columns: { customer: 'account_id', value: 'qty' },
        customerKey: 'metadata.account_id',
        filter: "status = 'billable'",
        eventNames: { api_call: 'api.request', mtr_123: 'gpu.seconds' },
      },
      tolerance: { pct: '0.5' },
      customers: { cus_big: { tolerance: { pct: '5' } }, cus_exact: { tolerance: { pct: 0, abs: 0 } } },
    }),
  );
  const c = loadGateConfig(path, { pct: '1', abs: '3' });
  assert.equal(c.ledger.schema, 'billing');
  assert.equal(c.ledger.table, 'usage');
  assert.deepEqual(c.ledger.columns, {
    customer: 'account_id',
    eventName: 'event_name',
    value: 'qty',
    occurredAt: 'occurred_at',
  });
  assert.equal(c.ledger.customerKey, 'metadata.account_id');
  assert.equal(c.ledger.filter, "status = 'billable'");
  assert.deepEqual(c.tolerance, { pct: '0.5', abs: '3' });
  assert.deepEqual(toleranceFor(c, 'cus_big'), { pct: '5', abs: '3' });
  assert.deepEqual(toleranceFor(c, 'cus_exact'), { pct: '0', abs: '0' });
  assert.deepEqual(toleranceFor(c, 'cus_other'), { pct: '0.5', abs: '3' });
});

test('event names map by meter id first, then by meter event name', () => {
  const c = parseGateConfig({ ledger: { eventNames: { api_call: 'api.request', mtr_1: 'by.meter' } } }, ENV_TOLERANCE);
  assert.equal(ledgerEventName(c.ledger, { meterId: 'mtr_1', eventName: 'api_call' }), 'by.meter');
  assert.equal(ledgerEventName(c.ledger, { meterId: 'mtr_2', eventName: 'api_call' }), 'api.request');
  assert.equal(ledgerEventName(c.ledger, { meterId: 'mtr_2', eventName: 'other' }), 'other');
  assert.equal(ledgerEventName(c.ledger, { meterId: 'mtr_2', eventName: 'toString' }), 'toString');
});

test('unsafe identifiers are rejected with their path', () => {
  const issues = issuesOf(() =>
    parseGateConfig(
      {
        ledger: {
          table: 'events; drop table x',
          schema: '1abc',
          columns: { customer: 'a"b', occurredAt: 'x'.repeat(64) },
        },
      },
      ENV_TOLERANCE,
    ),
  );
  assert.equal(issues.length, 4);
  for (const path of ['ledger.table', 'ledger.schema', 'ledger.columns.customer', 'ledger.columns.occurredAt']) {
    assert.ok(
      issues.some((i) => i.startsWith(`${path}: must be a plain SQL identifier`)),
      `${path} in ${issues.join('\n')}`,
    );
  }
});

test('bad tolerances, customer keys, filters and unknown keys are rejected', () => {
  const issues = issuesOf(() =>
    parseGateConfig(
      {
        ledger: { customerKey: 'email', filter: 'true; delete from x', colums: {} },
        tolerance: { pct: '-1' },
        customers: { cus_1: { tolerance: { abs: 'lots' } } },
      },
      ENV_TOLERANCE,
    ),
  );
  const text = issues.join('\n');
  assert.match(text, /ledger\.customerKey: must be "id" or "metadata.<key>"/);
  assert.match(text, /ledger\.filter: must be a single expression/);
  assert.match(text, /ledger: Unrecognized key: "colums"/i);
  assert.match(text, /tolerance\.pct: must be a non-negative decimal/);
  assert.match(text, /customers\.cus_1\.tolerance\.abs: must be a non-negative decimal/);
});

test('a filter that escapes its parentheses is refused, quoting the offending text', () => {
  const filter = "environment = 'production') or (true";
  const issues = issuesOf(() => loadGateConfig(writeJson(JSON.stringify({ ledger: { filter } })), ENV_TOLERANCE));
  assert.deepEqual(issues, [`ledger.filter: closes a parenthesis it did not open: ${JSON.stringify(filter)}`]);
});

test('unreadable or invalid JSON files name INVOICE_GATE_CONFIG', () => {
  assert.match(
    issuesOf(() => loadGateConfig('/nonexistent/gate.json', ENV_TOLERANCE))[0],
    /^INVOICE_GATE_CONFIG: cannot read/,
  );
  assert.match(
    issuesOf(() => loadGateConfig(writeJson('{ ledger: }'), ENV_TOLERANCE))[0],
    /^INVOICE_GATE_CONFIG: .* is not valid JSON/,
  );
});

test('a money tolerance from the environment, the file and per customer, field by field', () => {
  const c = parseGateConfig(
    {
      tolerance: { money: '10000' },
      customers: { cus_small: { tolerance: { money: 500 } }, cus_pct: { tolerance: { pct: '3' } } },
    },
    { pct: '1', abs: '0', money: '2500' },
  );
  assert.deepEqual(c.tolerance, { pct: '1', abs: '0', money: '10000' });
  assert.deepEqual(toleranceFor(c, 'cus_small'), { pct: '1', abs: '0', money: '500' });
  assert.deepEqual(toleranceFor(c, 'cus_pct'), { pct: '3', abs: '0', money: '10000' });
  // Without money anywhere the tolerance keeps its old shape ({ pct, abs }).
  assert.deepEqual(
    toleranceFor(parseGateConfig({ customers: { cus_x: { tolerance: { abs: '2' } } } }, ENV_TOLERANCE), 'cus_x'),
    {
      pct: '1',
      abs: '2',
    },
  );
  assert.deepEqual(
    issuesOf(() => parseGateConfig({ customers: { cus_1: { tolerance: { money: '-5' } } } }, ENV_TOLERANCE)),
    ['customers.cus_1.tolerance.money: must be a non-negative decimal, e.g. "1" or "0.5"'],
  );
});
