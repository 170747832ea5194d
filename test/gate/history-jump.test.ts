import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { flaggedLines, judgeHistory, parseJumpFactor } from '../../src/gate/history-jump';

const line = (quantity: string, previous: string[]) => ({
  lineId: 'il_1',
  eventName: 'api_call',
  quantity,
  previous,
  source: 'audit' as const,
});

describe('the history rule', () => {
  test('10x the median of previous invoices is a jump beyond 5x', () => {
    const judged = judgeHistory(line('12000', ['1200', '1100', '1300']), '5');
    assert.equal(judged.baseline, '1200');
    assert.equal(judged.ratio, '10');
    assert.equal(judged.flag, 'jump');
  });

  test('a drop below 1/5 is flagged; within the factor either way is not', () => {
    assert.equal(judgeHistory(line('100', ['1000', '1000']), '5').flag, 'drop');
    assert.equal(judgeHistory(line('0', ['1000']), '5').flag, 'drop');
    assert.equal(judgeHistory(line('5000', ['1000']), '5').flag, null, 'exactly 5x is not beyond 5x');
    assert.equal(judgeHistory(line('200', ['1000']), '5').flag, null, 'exactly 1/5 is not below it');
    assert.equal(judgeHistory(line('3000', ['1000', '900']), '5').flag, null);
  });

  test('the median ignores one odd month', () => {
    const judged = judgeHistory(line('1000', ['100', '1000', '1100', '90000']), '5');
    assert.equal(judged.baseline, '1050');
    assert.equal(judged.flag, null);
  });

  test('without history, or a zero baseline, nothing is flagged', () => {
    assert.equal(judgeHistory(line('1000', []), '5').flag, null);
    assert.equal(judgeHistory(line('1000', []), '5').baseline, null);
    assert.equal(judgeHistory(line('1000', ['0', '0']), '5').flag, null);
  });

  test('decimal quantities are judged exactly', () => {
    assert.equal(judgeHistory(line('5.0000001', ['1']), '5').flag, 'jump');
    assert.equal(judgeHistory(line('0.19999', ['1']), '5').flag, 'drop');
  });

  test('GATE_HISTORY_JUMP reads "5x", "5" and "2.5X"; nothing at or below 1', () => {
    assert.equal(parseJumpFactor('5x'), '5');
    assert.equal(parseJumpFactor('5'), '5');
    assert.equal(parseJumpFactor(' 2.5X '), '2.5');
    assert.equal(parseJumpFactor('1x'), null);
    assert.equal(parseJumpFactor('0.5'), null);
    assert.equal(parseJumpFactor('five'), null);
  });

  test('flaggedLines picks the flagged ones', () => {
    const lines = [judgeHistory(line('10', ['1']), '5'), judgeHistory(line('1', ['1']), '5')];
    assert.equal(flaggedLines({ jump: '5', action: 'alert', lines }).length, 1);
    assert.deepEqual(flaggedLines(null), []);
  });
});
