import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  BackfillArgumentsError,
  backfillWorkflowId,
  createdWindow,
  parseBackfillArguments,
} from '../../src/backfill/arguments';

test('parses every flag into a normalised request and an output path', () => {
  const parsed = parseBackfillArguments([
    '--since',
    '2026-01-01',
    '--until',
    '2026-03-31',
    '--customer',
    'cus_ABC123',
    '--status',
    'paid, OPEN,paid',
    '--out',
    'q1.csv',
  ]);
  assert.deepEqual(parsed, {
    request: { since: '2026-01-01', until: '2026-03-31', customer: 'cus_ABC123', statuses: ['open', 'paid'] },
    out: 'q1.csv',
  });
});

test('defaults: up to now, every customer, open/paid/uncollectible, a CSV named after the window', () => {
  assert.deepEqual(parseBackfillArguments(['--since', '2026-02-01']), {
    request: { since: '2026-02-01', until: null, customer: null, statuses: ['open', 'paid', 'uncollectible'] },
    out: 'backfill-2026-02-01-now.csv',
  });
});

test('bad arguments get one clear message naming each flag', () => {
  const message = (argv: string[]) => {
    try {
      parseBackfillArguments(argv);
    } catch (error) {
      assert.ok(error instanceof BackfillArgumentsError);
      return error.message;
    }
    assert.fail('accepted');
  };
  assert.equal(message([]), '--since is required');
  assert.equal(message(['--since', '2026-02-30']), '--since is not a calendar date');
  assert.equal(message(['--since', '01/02/2026']), '--since must be a date as YYYY-MM-DD');
  assert.equal(message(['--since', '2026-03-01', '--until', '2026-02-01']), '--until must not be before --since');
  assert.equal(
    message(['--since', '2026-03-01', '--customer', 'acme']),
    '--customer must be a Stripe customer id (cus_…)',
  );
  assert.equal(
    message(['--since', '2026-03-01', '--status', 'draft,refunded']),
    '--status draft is not a finalized status (drafts are what the gate itself checks)\n' +
      '--status unknown status "refunded": use open, paid, uncollectible, void',
  );
  assert.match(message(['--since', '2026-03-01', '--limit', '5']), /Unknown option '--limit'/);
  assert.match(message(['--since', '2026-03-01', 'extra']), /positional/);
});

test('the window is [since 00:00 UTC, the day after until 00:00 UTC)', () => {
  const request = { since: '2026-01-01', until: '2026-01-31', customer: null, statuses: ['paid' as const] };
  assert.deepEqual(createdWindow(request), {
    gte: Date.UTC(2026, 0, 1) / 1000,
    lt: Date.UTC(2026, 1, 1) / 1000,
  });
  assert.deepEqual(createdWindow({ ...request, until: null }), { gte: Date.UTC(2026, 0, 1) / 1000, lt: null });
});

test('the workflow id is readable and the same for the same arguments only', () => {
  const request = {
    since: '2026-01-01',
    until: '2026-03-31',
    customer: null,
    statuses: ['open' as const, 'paid' as const],
  };
  const id = backfillWorkflowId(request);
  assert.match(id, /^invoice-gate-backfill-2026-01-01_2026-03-31-[0-9a-f]{12}$/);
  assert.equal(backfillWorkflowId({ ...request }), id);
  assert.notEqual(backfillWorkflowId({ ...request, customer: 'cus_1' }), id);
  assert.notEqual(backfillWorkflowId({ ...request, statuses: ['paid'] }), id);
  assert.match(backfillWorkflowId({ ...request, until: null }), /^invoice-gate-backfill-2026-01-01_now-/);
});
