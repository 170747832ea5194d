import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkDecision, type DecisionStage, type ReviewerPolicy } from '../../src/gate/decision-rules';

const policy: ReviewerPolicy = { reviewers: ['U_ALICE', 'U_BOB', 'U_CAROL'], approvers: null };
const review: DecisionStage = { waitingFor: 'review' };
const secondApproval: DecisionStage = { waitingFor: 'second_approval', firstApprover: 'U_ALICE' };

const refusal = (request: unknown, stage: DecisionStage, p: ReviewerPolicy = policy) => {
  const check = checkDecision(request, stage, p);
  assert.equal(check.accepted, false, `expected a refusal of ${JSON.stringify(request)}`);
  return !check.accepted ? check.refusal : undefined;
};

test('a release with a reason and a recount are accepted while held', () => {
  assert.deepEqual(checkDecision({ action: 'release', reviewer: 'U_ALICE', reason: 'ledger_late' }, review, policy), {
    accepted: true,
    decision: { action: 'release', reviewer: 'U_ALICE', reason: 'ledger_late' },
  });
  assert.deepEqual(checkDecision({ action: 'recount', reviewer: ' U_BOB ', note: '  ' }, review, policy), {
    accepted: true,
    decision: { action: 'recount', reviewer: 'U_BOB' },
  });
});

test('malformed requests are refused as invalid', () => {
  assert.equal(refusal(null, review)?.code, 'invalid_request');
  assert.match(refusal({ action: 'finalize', reviewer: 'U_ALICE' }, review)!.message, /action must be one of/);
  assert.match(refusal({ action: 'release', reviewer: '' }, review)!.message, /reviewer is required/);
  assert.match(
    refusal({ action: 'release', reviewer: 'U_ALICE', reason: 'because' }, review)!.message,
    /reason must be/,
  );
  assert.match(refusal({ action: 'recount', reviewer: 'U_ALICE', note: 'x'.repeat(501) }, review)!.message, /longer/);
});

test('a reviewer not on the list is refused whatever the action', () => {
  for (const action of ['release', 'recount', 'approve']) {
    const r = refusal({ action, reviewer: 'U_MALLORY', reason: 'ledger_late' }, secondApproval);
    assert.equal(r?.code, 'not_allowed');
    assert.match(r!.message, /U_MALLORY is not allowed/);
  }
});

test('a release needs a reason, and "other" needs a note', () => {
  assert.equal(refusal({ action: 'release', reviewer: 'U_ALICE' }, review)?.code, 'reason_required');
  assert.equal(refusal({ action: 'release', reviewer: 'U_ALICE', reason: 'other' }, review)?.code, 'note_required');
  assert.equal(
    checkDecision({ action: 'release', reviewer: 'U_ALICE', reason: 'other', note: 'customer called' }, review, policy)
      .accepted,
    true,
  );
});

test('a gate that waits for nothing refuses every action, naming its status', () => {
  const r = refusal({ action: 'recount', reviewer: 'U_ALICE' }, { waitingFor: 'nothing', status: 'auto_released' });
  assert.equal(r?.code, 'not_waiting');
  assert.match(r!.message, /auto released/);
});

test('approve only while a second approval is awaited, from someone other than the first approver', () => {
  assert.equal(refusal({ action: 'approve', reviewer: 'U_BOB' }, review)?.code, 'not_waiting');
  assert.equal(refusal({ action: 'approve', reviewer: 'U_ALICE' }, secondApproval)?.code, 'same_approver');
  assert.equal(
    refusal({ action: 'release', reviewer: 'U_BOB', reason: 'ledger_late' }, secondApproval)?.code,
    'not_waiting',
  );
  assert.equal(checkDecision({ action: 'approve', reviewer: 'U_BOB' }, secondApproval, policy).accepted, true);
  // Recount by anyone, the first approver included, clears the pending approval.
  assert.equal(checkDecision({ action: 'recount', reviewer: 'U_ALICE' }, secondApproval, policy).accepted, true);
});

test('SLACK_APPROVER_IDS restricts who may give the second approval', () => {
  const restricted: ReviewerPolicy = { ...policy, approvers: ['U_CAROL'] };
  assert.equal(refusal({ action: 'approve', reviewer: 'U_BOB' }, secondApproval, restricted)?.code, 'not_an_approver');
  assert.equal(checkDecision({ action: 'approve', reviewer: 'U_CAROL' }, secondApproval, restricted).accepted, true);
});
