import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sqlFilterProblem } from '../../src/config/sql-filter';

test('one expression is accepted, with parentheses, quoted parentheses and doubled quotes', () => {
  for (const filter of [
    "environment = 'production'",
    "environment = 'production' and voided_at is null",
    "(status = 'billable' or status = 'credit') and not (kind in ('a', 'b'))",
    "note <> ')' and note <> '(('",
    "name = 'it''s' and \"Odd)Column\" is not null",
    "payload ->> 'kind' = ''",
  ]) {
    assert.equal(sqlFilterProblem(filter), null, filter);
  }
});

test("a filter that breaks out of the query's parentheses is refused", () => {
  assert.equal(sqlFilterProblem("environment = 'production') or (true"), 'closes a parenthesis it did not open');
  assert.equal(sqlFilterProblem("(environment = 'production'"), 'leaves a parenthesis open');
  assert.equal(sqlFilterProblem('a = 1) or (b = 2) or (true'), 'closes a parenthesis it did not open');
});

test('statement ends, comments, dollar quotes, backslash escapes and open quotes are refused', () => {
  assert.match(sqlFilterProblem('true; delete from x') ?? '', /single expression/);
  assert.match(sqlFilterProblem("environment = 'production' -- ) or (true") ?? '', /comments/);
  assert.match(sqlFilterProblem('true /* ) */') ?? '', /comments/);
  assert.match(sqlFilterProblem("note = $$')$$") ?? '', /\$/);
  assert.match(sqlFilterProblem("note = E'\\'' ) or (true --'") ?? '', /backslash/);
  assert.match(sqlFilterProblem("note = 'open") ?? '', /unterminated string/);
  assert.match(sqlFilterProblem('"open = 1') ?? '', /unterminated quoted identifier/);
});

test('quoted text may hold what is refused outside quotes', () => {
  assert.equal(sqlFilterProblem("note <> 'a; b -- c /* d */ $$'"), null);
});
