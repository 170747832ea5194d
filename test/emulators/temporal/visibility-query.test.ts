import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  compileVisibilityQuery,
  VisibilityQueryError,
  type SearchAttributeKind,
  type VisibilityRecord,
} from '../../../emulators/temporal/visibility-query';

const CUSTOM: Record<string, SearchAttributeKind> = {
  InvoiceGateStatus: 'Keyword',
  StripeCustomerId: 'Keyword',
  GateVariancePct: 'Double',
  Attempts: 'Int',
  Urgent: 'Bool',
  Note: 'Text',
  HeldAt: 'Datetime',
  Tags: 'KeywordList',
};

function record(overrides: Partial<VisibilityRecord> & { id: string }): VisibilityRecord {
  const { id, ...rest } = overrides;
  return {
    workflowId: `invoice-gate-${id}`,
    runId: `run-${id}`,
    workflowType: 'invoiceGate',
    executionStatus: 'Running',
    startTime: new Date('2026-01-10T10:00:00Z'),
    closeTime: null,
    executionTime: new Date('2026-01-10T10:00:00Z'),
    taskQueue: 'invoice-gate',
    searchAttributes: {},
    ...rest,
  };
}

const RECORDS: VisibilityRecord[] = [
  record({
    id: 'in_1',
    searchAttributes: {
      InvoiceGateStatus: 'held',
      StripeCustomerId: 'cus_A',
      GateVariancePct: 12.5,
      Attempts: 3,
      Urgent: true,
      Note: 'Usage spike on API calls',
      HeldAt: new Date('2026-01-10T10:05:00Z'),
      Tags: ['eu', 'enterprise'],
    },
  }),
  record({
    id: 'in_2',
    executionStatus: 'Completed',
    startTime: new Date('2026-01-11T09:00:00Z'),
    closeTime: new Date('2026-01-11T09:01:00Z'),
    searchAttributes: { InvoiceGateStatus: 'passed', StripeCustomerId: 'cus_B', GateVariancePct: 0, Urgent: false },
  }),
  record({
    id: 'in_3',
    workflowType: 'otherWorkflow',
    executionStatus: 'Failed',
    taskQueue: 'other',
    startTime: new Date('2026-01-12T08:00:00.123Z'),
    closeTime: new Date('2026-01-12T08:30:00Z'),
    searchAttributes: { InvoiceGateStatus: 'released', StripeCustomerId: 'cus_A', GateVariancePct: -3, Tags: ['us'] },
  }),
  record({ id: 'in_4', searchAttributes: {} }),
];

function ids(query: string): string[] {
  const compiled = compileVisibilityQuery(query, CUSTOM);
  return RECORDS.filter((r) => compiled.matches(r)).map((r) => r.workflowId.replace('invoice-gate-', ''));
}

function rejects(query: string, message: RegExp): void {
  assert.throws(
    () => compileVisibilityQuery(query, CUSTOM),
    (err: unknown) => {
      assert.ok(err instanceof VisibilityQueryError, `expected VisibilityQueryError, got ${String(err)}`);
      assert.ok(err instanceof Error);
      assert.match(err.message, /^invalid query: /);
      assert.match(err.message, message);
      return true;
    },
  );
}

describe('compileVisibilityQuery: matching', () => {
  it('an empty query matches everything and has no ordering', () => {
    assert.deepEqual(ids(''), ['in_1', 'in_2', 'in_3', 'in_4']);
    assert.deepEqual(ids('   '), ['in_1', 'in_2', 'in_3', 'in_4']);
    assert.deepEqual(compileVisibilityQuery('', CUSTOM).orderBy, []);
  });

  it('keyword equality with single, double and backtick quoting', () => {
    assert.deepEqual(ids(`InvoiceGateStatus="held"`), ['in_1']);
    assert.deepEqual(ids(`InvoiceGateStatus = 'held'`), ['in_1']);
    assert.deepEqual(ids('`InvoiceGateStatus` = "held"'), ['in_1']);
    assert.deepEqual(ids(`WorkflowId = 'invoice-gate-in_2'`), ['in_2']);
    assert.deepEqual(ids(`RunId = "run-in_3"`), ['in_3']);
    assert.deepEqual(ids(`TaskQueue = "other"`), ['in_3']);
    assert.deepEqual(ids(`InvoiceGateStatus = "HELD"`), [], 'keywords are exact');
  });

  it('!= does not match runs without the attribute (SQL semantics); IS NULL finds them', () => {
    assert.deepEqual(ids(`InvoiceGateStatus != "held"`), ['in_2', 'in_3']);
    assert.deepEqual(ids(`InvoiceGateStatus <> "held"`), ['in_2', 'in_3']);
    assert.deepEqual(ids(`InvoiceGateStatus IS NULL`), ['in_4']);
    assert.deepEqual(ids(`InvoiceGateStatus is not null`), ['in_1', 'in_2', 'in_3']);
    assert.deepEqual(ids(`CloseTime IS NULL`), ['in_1', 'in_4']);
    assert.deepEqual(ids(`Tags IS NULL`), ['in_2', 'in_4']);
  });

  it('IN and NOT IN', () => {
    assert.deepEqual(ids(`InvoiceGateStatus IN ("held", 'released')`), ['in_1', 'in_3']);
    assert.deepEqual(ids(`InvoiceGateStatus NOT IN ("held")`), ['in_2', 'in_3']);
    assert.deepEqual(ids(`GateVariancePct in (0, 12.5)`), ['in_1', 'in_2']);
  });

  it('ExecutionStatus by name or enum number, and WorkflowType', () => {
    assert.deepEqual(ids(`ExecutionStatus = "Running"`), ['in_1', 'in_4']);
    assert.deepEqual(ids(`ExecutionStatus = 2`), ['in_2']);
    assert.deepEqual(ids(`ExecutionStatus != 'Running' AND WorkflowType = 'invoiceGate'`), ['in_2']);
    assert.deepEqual(ids(`ExecutionStatus IN ('Completed', 'Failed')`), ['in_2', 'in_3']);
  });

  it('AND binds tighter than OR; parentheses override', () => {
    assert.deepEqual(ids(`StripeCustomerId = "cus_B" OR StripeCustomerId = "cus_A" AND ExecutionStatus = "Failed"`), [
      'in_2',
      'in_3',
    ]);
    assert.deepEqual(
      ids(`(StripeCustomerId = "cus_B" OR StripeCustomerId = "cus_A") AND ExecutionStatus = "Running"`),
      ['in_1'],
    );
    assert.deepEqual(ids(`((InvoiceGateStatus = "held"))`), ['in_1']);
  });

  it('NOT with three-valued logic', () => {
    assert.deepEqual(ids(`NOT InvoiceGateStatus = "held"`), ['in_2', 'in_3']);
    assert.deepEqual(ids(`NOT (InvoiceGateStatus = "held" OR ExecutionStatus = "Completed")`), ['in_3']);
    assert.deepEqual(ids(`InvoiceGateStatus = "held" OR NOT ExecutionStatus = "Running"`), ['in_1', 'in_2', 'in_3']);
    // UNKNOWN OR TRUE = TRUE
    assert.deepEqual(ids(`InvoiceGateStatus = "x" OR WorkflowId = "invoice-gate-in_4"`), ['in_4']);
  });

  it('numeric comparisons on Double and Int, including negative numbers', () => {
    assert.deepEqual(ids(`GateVariancePct > 5`), ['in_1']);
    assert.deepEqual(ids(`GateVariancePct >= 0`), ['in_1', 'in_2']);
    assert.deepEqual(ids(`GateVariancePct < 0`), ['in_3']);
    assert.deepEqual(ids(`GateVariancePct <= -3`), ['in_3']);
    assert.deepEqual(ids(`GateVariancePct = -3.0`), ['in_3']);
    assert.deepEqual(ids(`GateVariancePct BETWEEN -5 AND 1`), ['in_2', 'in_3']);
    assert.deepEqual(ids(`GateVariancePct NOT BETWEEN -5 AND 1`), ['in_1']);
    assert.deepEqual(ids(`Attempts = 3`), ['in_1']);
    assert.deepEqual(ids(`Attempts > 2.5`), ['in_1']);
  });

  it('Bool', () => {
    assert.deepEqual(ids(`Urgent = true`), ['in_1']);
    assert.deepEqual(ids(`Urgent = FALSE`), ['in_2']);
    assert.deepEqual(ids(`Urgent != true`), ['in_2']);
  });

  it('Datetime comparisons on RFC3339 strings with offsets and nanoseconds', () => {
    assert.deepEqual(ids(`StartTime > "2026-01-11T00:00:00Z"`), ['in_2', 'in_3']);
    assert.deepEqual(ids(`StartTime >= '2026-01-11T10:00:00+01:00'`), ['in_2', 'in_3']);
    assert.deepEqual(ids(`StartTime > '2026-01-11T10:00:00+01:00'`), ['in_3']);
    assert.deepEqual(ids(`StartTime = "2026-01-12T08:00:00.123000000Z"`), ['in_3']);
    assert.deepEqual(ids(`StartTime > "2026-01-12T08:00:00.122999999Z"`), ['in_3']);
    assert.deepEqual(ids(`StartTime > "2026-01-12T08:00:00.123000001Z"`), []);
    assert.deepEqual(ids(`StartTime BETWEEN "2026-01-10T00:00:00Z" AND "2026-01-11T23:59:59Z"`), [
      'in_1',
      'in_2',
      'in_4',
    ]);
    assert.deepEqual(ids(`CloseTime < "2026-01-12T00:00:00Z"`), ['in_2']);
    assert.deepEqual(ids(`HeldAt >= "2026-01-10T10:05:00Z"`), ['in_1']);
    assert.deepEqual(ids(`ExecutionTime = "2026-01-10T10:00:00Z"`), ['in_1', 'in_2', 'in_3', 'in_4']);
    // integer literals are Unix nanoseconds, as on the server
    assert.deepEqual(ids(`StartTime < ${BigInt(Date.parse('2026-01-11T00:00:00Z')) * 1_000_000n}`), ['in_1', 'in_4']);
  });

  it('Datetime values stored as RFC3339 strings are compared as times', () => {
    const r = record({ id: 'x', searchAttributes: { HeldAt: '2026-01-10T11:05:00+01:00' } });
    assert.equal(compileVisibilityQuery(`HeldAt = "2026-01-10T10:05:00Z"`, CUSTOM).matches(r), true);
  });

  it('STARTS_WITH and NOT STARTS_WITH on keywords', () => {
    assert.deepEqual(ids(`WorkflowId STARTS_WITH "invoice-gate-in_"`), ['in_1', 'in_2', 'in_3', 'in_4']);
    assert.deepEqual(ids(`StripeCustomerId starts_with 'cus_A'`), ['in_1', 'in_3']);
    assert.deepEqual(ids(`StripeCustomerId NOT STARTS_WITH 'cus_A'`), ['in_2']);
  });

  it('keyword ordering comparisons are string comparisons', () => {
    assert.deepEqual(ids(`StripeCustomerId > "cus_A"`), ['in_2']);
    assert.deepEqual(ids(`StripeCustomerId BETWEEN "cus_A" AND "cus_Az"`), ['in_1', 'in_3']);
  });

  it('KeywordList: = and IN are membership, != and NOT IN its negation', () => {
    assert.deepEqual(ids(`Tags = "eu"`), ['in_1']);
    assert.deepEqual(ids(`Tags IN ("us", "apac")`), ['in_3']);
    assert.deepEqual(ids(`Tags != "eu"`), ['in_3']);
    assert.deepEqual(ids(`Tags NOT IN ("eu", "enterprise")`), ['in_3']);
  });

  it('Text: = matches when all words occur, case-insensitively', () => {
    assert.deepEqual(ids(`Note = "spike"`), ['in_1']);
    assert.deepEqual(ids(`Note = "api USAGE"`), ['in_1']);
    assert.deepEqual(ids(`Note = "spike storage"`), []);
    assert.deepEqual(ids(`Note != "storage"`), ['in_1']);
  });

  it('quoted strings support doubled quotes and backslash escapes', () => {
    const r = record({ id: 'q', searchAttributes: { StripeCustomerId: `it's "x"\\` } });
    assert.equal(compileVisibilityQuery(`StripeCustomerId = 'it''s "x"\\\\'`, CUSTOM).matches(r), true);
    assert.equal(compileVisibilityQuery(`StripeCustomerId = "it's \\"x\\"\\\\"`, CUSTOM).matches(r), true);
  });

  it('SQL keywords are case-insensitive, attribute names are not', () => {
    assert.deepEqual(ids(`InvoiceGateStatus = "held" and ExecutionStatus in ("Running")`), ['in_1']);
    assert.deepEqual(ids(`InvoiceGateStatus = "held" Or InvoiceGateStatus = "passed" order by StartTime desc`), [
      'in_1',
      'in_2',
    ]);
    rejects(`invoicegatestatus = "held"`, /column name 'invoicegatestatus' is not a valid search attribute/);
  });

  it('legacy one-element array values of keyword attributes still match', () => {
    const r = record({ id: 'l', searchAttributes: { InvoiceGateStatus: ['held'] } });
    assert.equal(compileVisibilityQuery(`InvoiceGateStatus = "held"`, CUSTOM).matches(r), true);
  });
});

describe('compileVisibilityQuery: ORDER BY', () => {
  it('returns fields and directions, defaulting to ASC', () => {
    assert.deepEqual(compileVisibilityQuery('ORDER BY StartTime DESC', CUSTOM).orderBy, [
      { field: 'StartTime', direction: 'DESC' },
    ]);
    assert.deepEqual(
      compileVisibilityQuery('InvoiceGateStatus = "held" order by GateVariancePct, `WorkflowId` asc', CUSTOM).orderBy,
      [
        { field: 'GateVariancePct', direction: 'ASC' },
        { field: 'WorkflowId', direction: 'ASC' },
      ],
    );
    assert.deepEqual(ids('ORDER BY StartTime DESC'), ['in_1', 'in_2', 'in_3', 'in_4']);
  });

  it('rejects unknown fields and Text fields', () => {
    rejects('ORDER BY Nope', /column name 'Nope' is not a valid search attribute/);
    rejects(
      'ORDER BY Note',
      /operation is not supported: unable to sort by search attribute type INDEXED_VALUE_TYPE_TEXT/,
    );
  });
});

describe('compileVisibilityQuery: GROUP BY', () => {
  it('allows grouping by ExecutionStatus only, with or without a filter', () => {
    assert.deepEqual(compileVisibilityQuery('GROUP BY ExecutionStatus', CUSTOM).groupBy, ['ExecutionStatus']);
    const q = compileVisibilityQuery('WorkflowType = "invoiceGate" GROUP BY ExecutionStatus', CUSTOM);
    assert.deepEqual(q.groupBy, ['ExecutionStatus']);
    assert.deepEqual(RECORDS.filter((r) => q.matches(r)).length, 3);
    assert.deepEqual(compileVisibilityQuery('WorkflowType = "invoiceGate"', CUSTOM).groupBy, []);
    rejects(
      'GROUP BY WorkflowType',
      /operation is not supported: 'GROUP BY' clause is only supported for ExecutionStatus/,
    );
    rejects('GROUP BY ExecutionStatus, WorkflowType', /'GROUP BY' clause supports only a single field/);
    rejects('GROUP BY Nope', /column name 'Nope' is not a valid search attribute/);
  });
});

describe('compileVisibilityQuery: errors like the server', () => {
  it('unknown attributes', () => {
    rejects(
      `Unknown = "x"`,
      /^invalid query: invalid expression: column name 'Unknown' is not a valid search attribute$/,
    );
    rejects(`InvoiceGateStatus = "held" AND Foo IS NULL`, /column name 'Foo' is not a valid search attribute/);
    // custom attributes only exist when declared
    assert.throws(() => compileVisibilityQuery(`InvoiceGateStatus = "held"`, {}), VisibilityQueryError);
  });

  it('malformed syntax', () => {
    rejects(`InvoiceGateStatus = `, /malformed SQL query: syntax error at position/);
    rejects(`InvoiceGateStatus = "held" AND`, /malformed SQL query: syntax error/);
    rejects(`(InvoiceGateStatus = "held"`, /malformed SQL query: syntax error/);
    rejects(`InvoiceGateStatus = "held")`, /malformed SQL query: syntax error at position \d+ near '\)'/);
    rejects(`InvoiceGateStatus = "held`, /malformed SQL query/);
    rejects(`InvoiceGateStatus == "held"`, /malformed SQL query/);
    rejects(`InvoiceGateStatus IN ()`, /malformed SQL query/);
    rejects(`InvoiceGateStatus = "a" "b"`, /malformed SQL query/);
    rejects(`InvoiceGateStatus ~ "a"`, /malformed SQL query/);
    rejects(`ORDER StartTime`, /malformed SQL query/);
  });

  it('incomplete expressions and unquoted values', () => {
    rejects(`InvoiceGateStatus`, /invalid expression: incomplete expression/);
    rejects(`InvoiceGateStatus = held`, /did you forget to quote "held"\?/);
    rejects(`"held" = InvoiceGateStatus`, /invalid expression: must be a column name/);
  });

  it('value types per attribute kind', () => {
    rejects(
      `InvoiceGateStatus = 5`,
      /invalid value type for search attribute InvoiceGateStatus of type INDEXED_VALUE_TYPE_KEYWORD: 5 \(type: int64\)/,
    );
    rejects(
      `GateVariancePct = "high"`,
      /invalid value type for search attribute GateVariancePct of type INDEXED_VALUE_TYPE_DOUBLE/,
    );
    rejects(`Urgent = 1`, /INDEXED_VALUE_TYPE_BOOL/);
    rejects(`StartTime > "yesterday"`, /unable to parse datetime 'yesterday'/);
    rejects(`StartTime > "2026-02-30T00:00:00Z"`, /unable to parse datetime/);
    rejects(`ExecutionStatus = "Sleeping"`, /invalid ExecutionStatus value 'Sleeping'/);
    rejects(`ExecutionStatus = 42`, /invalid ExecutionStatus value 42/);
  });

  it('operators not supported for a kind', () => {
    rejects(`Note > "a"`, /operator '>' not supported for INDEXED_VALUE_TYPE_TEXT type search attribute 'Note'/);
    rejects(`Tags > "a"`, /not supported for INDEXED_VALUE_TYPE_KEYWORD_LIST/);
    rejects(`GateVariancePct STARTS_WITH "1"`, /operator 'starts_with' not supported/);
    rejects(`Note BETWEEN "a" AND "b"`, /cannot do range condition on search attribute 'Note'/);
    rejects(`InvoiceGateStatus LIKE "h%"`, /invalid operator 'like'/);
  });

  it('unsupported clauses', () => {
    rejects(`InvoiceGateStatus = "held" LIMIT 10`, /operation is not supported: 'LIMIT' clause/);
    rejects(`InvoiceGateStatus IS TRUE`, /'IS' operator can only be used as 'IS NULL' or 'IS NOT NULL'/);
  });
});
