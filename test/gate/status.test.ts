import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { acceptsDecision, GATE_STATUSES, hasVerdict, isOutcome, isWorking } from '../../src/gate/status';
import type { GateStatus } from '../../src/gate/types';

const statuses = Object.keys(GATE_STATUSES) as GateStatus[];

describe('the status table', () => {
  it('lets a reviewer release or recount a held invoice, and nothing else decide', () => {
    assert.ok(acceptsDecision('held'));
    assert.ok(acceptsDecision('held', 'release'));
    assert.ok(acceptsDecision('held', 'recount'));
    assert.ok(!acceptsDecision('held', 'approve'), 'nothing to approve before a first release');
    for (const status of statuses.filter((s) => s !== 'held' && s !== 'awaiting_second_approval')) {
      assert.equal(acceptsDecision(status), false, status);
      assert.equal(acceptsDecision(status, 'release'), false, status);
    }
  });

  it('awaiting a second approval: Approve or Recount, never another Release; the audit keeps the outcome held', () => {
    assert.ok(acceptsDecision('awaiting_second_approval', 'approve'));
    assert.ok(acceptsDecision('awaiting_second_approval', 'recount'));
    assert.ok(!acceptsDecision('awaiting_second_approval', 'release'));
    assert.equal(GATE_STATUSES.awaiting_second_approval.stage, 'held');
    assert.equal(isOutcome('awaiting_second_approval'), false);
    assert.equal(isOutcome('held'), true);
    assert.equal(isOutcome('recounting'), false);
  });

  it('calls final only what can no longer change', () => {
    const final = statuses.filter((s) => GATE_STATUSES[s].stage === 'final').sort();
    assert.deepEqual(final, ['auto_released', 'bypassed', 'released', 'resolved_in_stripe', 'skipped', 'too_late']);
    // Late usage can make a passed draft diverge (held); a would-hold can pass again.
    assert.equal(GATE_STATUSES.passed.stage, 'provisional');
    assert.equal(GATE_STATUSES.would_hold.stage, 'provisional');
    assert.ok(hasVerdict('passed') && hasVerdict('would_hold') && hasVerdict('released'));
    assert.ok(!hasVerdict('held') && !hasVerdict('counting'));
  });

  it('only a held status has actions, and every status has words for people', () => {
    for (const status of statuses) {
      const info = GATE_STATUSES[status];
      assert.equal(info.actions.length > 0, info.stage === 'held', status);
      assert.ok(info.label.length > 0 && /^:[a-z_]+:$/.test(info.emoji), status);
    }
    assert.deepEqual(statuses.filter(isWorking).sort(), ['counting', 'reading', 'recounting', 'releasing']);
  });
});
