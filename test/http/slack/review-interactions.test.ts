// Release (modal, then submission) / Recount / Approve clicks from the Slack emulator through Fastify, the
// Bolt receiver and the interaction handlers, against an in-memory gate that applies the gate's rules.
import { after, before, beforeEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { GateGoneError } from '../../../src/client/gate-client';
import { gateState } from '../../slack/fixtures';
import { startHarness, type Harness } from './harness';
import { SLACK_EMULATOR_DEFAULTS } from '../../../emulators/slack/index';

/** The Slack emulator's seeded review channel. */
const CHANNEL = SLACK_EMULATOR_DEFAULTS.channelId;

let h: Harness;
let ts: string;

before(async () => {
  h = await startHarness({ reviewerIds: ['U0ALICE', 'U0CAROL'] });
});
after(() => h.close());
beforeEach(async () => {
  await h.emu.admin.reset();
  h.gate.reset();
  h.audit.length = 0;
  h.refused.length = 0;
  h.logger.entries = [];
  h.gate.states.set('in_1Test', gateState());
  ts = await h.postAlert();
});

async function click(actionId: string, userId = 'U0ALICE', signature: 'valid' | 'forged' | 'stale' = 'valid') {
  const report = await h.emu.admin.click({ channel: CHANNEL, ts, actionId, userId, signature });
  await h.slack.receiver.drain();
  return report;
}

async function ephemeralTexts(user: string): Promise<string[]> {
  return (await h.emu.admin.ephemerals({ user })).map((e) => e.text);
}

/** Release: the click opens the reason modal; submitting it is the decision. */
async function release(userId = 'U0ALICE', values: Record<string, string> = { reason: 'ledger_late' }) {
  const clicked = await click('gate_release', userId);
  const [view] = await h.emu.admin.openViews(userId);
  assert.ok(view, 'the release modal is open');
  const submitted = await h.emu.admin.submitView({ viewId: view.id, values });
  await h.slack.receiver.drain();
  return { clicked, submitted };
}

test('Release opens the reason modal; its submission is the decision, with the reason; audited', async () => {
  const clicked = await click('gate_release');
  assert.equal(clicked.status, 200);
  assert.equal(clicked.acknowledgedInTime, true);
  assert.equal(h.gate.decisions.length, 0, 'the click alone decides nothing');
  const [view] = await h.emu.admin.openViews('U0ALICE');
  assert.equal(view?.callback_id, 'gate_release_reason');
  assert.equal(view?.private_metadata, 'in_1Test');
  const submitted = await h.emu.admin.submitView({
    viewId: view!.id,
    values: { reason: 'other', note: 'checked with the customer' },
  });
  await h.slack.receiver.drain();
  assert.equal(submitted.viewClosed, true);
  assert.deepEqual(h.gate.decisions, [
    {
      invoiceId: 'in_1Test',
      decision: {
        action: 'release',
        reviewer: 'U0ALICE',
        reason: 'other',
        note: 'checked with the customer',
        channel: 'slack',
      },
    },
  ]);
  assert.deepEqual(
    h.audit.map((a) => [a.action, a.allowed, a.outcome]),
    [
      ['release', true, 'modal_opened'],
      ['release', true, 'decided'],
    ],
  );
  assert.ok(h.audit[0].at instanceof Date);
});

test('a release without a reason, or "other" without a note, is refused under the input; nothing decided, refusal logged', async () => {
  await click('gate_release');
  const [view] = await h.emu.admin.openViews('U0ALICE');
  const noReason = await h.emu.admin.submitView({
    viewId: view!.id,
    stateValues: { reason: { reason: { type: 'static_select', selected_option: null } } },
  });
  await h.slack.receiver.drain();
  assert.equal(noReason.responseAction, 'errors');
  assert.deepEqual(noReason.errors, { reason: 'a release needs a reason' });
  assert.equal(noReason.viewClosed, false);
  const noNote = await h.emu.admin.submitView({ viewId: view!.id, values: { reason: 'other' } });
  await h.slack.receiver.drain();
  assert.deepEqual(noNote.errors, { note: 'a release for another reason needs a note saying why' });
  assert.equal(h.gate.decisions.length, 0);
  assert.deepEqual(
    h.refused.map((r) => r.refusal.code),
    ['reason_required', 'note_required'],
  );
});

test('a reviewer clicks Recount: recount decision', async () => {
  await click('gate_recount');
  assert.deepEqual(h.gate.decisions, [
    { invoiceId: 'in_1Test', decision: { action: 'recount', reviewer: 'U0ALICE', channel: 'slack' } },
  ]);
  assert.match((await ephemeralTexts('U0ALICE'))[0], /Recount requested/);
});

test('Approve while a second approval waits: the first approver is told why not, in words', async () => {
  h.gate.states.set(
    'in_1Test',
    gateState({
      status: 'awaiting_second_approval',
      approvals: [{ reviewer: 'U0ALICE', action: 'release', reason: 'ledger_late', at: 0 }],
    }),
  );
  ts = await h.postAlert('in_1Test', { kind: 'awaiting_second_approval', approvedBy: 'U0ALICE' });
  await click('gate_approve', 'U0ALICE');
  assert.equal(h.gate.decisions.length, 0);
  assert.match((await ephemeralTexts('U0ALICE'))[0], /Not done: you gave the first approval/);
  assert.deepEqual(
    h.refused.map((r) => [r.refusal.code, r.decision.reviewer]),
    [['same_approver', 'U0ALICE']],
  );
  await click('gate_approve', 'U0CAROL');
  assert.deepEqual(
    h.gate.decisions.map((d) => [d.decision.action, d.decision.reviewer]),
    [['approve', 'U0CAROL']],
  );
});

test('a user who is not a reviewer: ephemeral "not allowed", no modal, no decision, attempt audited and logged', async () => {
  const r = await click('gate_release', 'U0BOB');
  assert.equal(r.status, 200);
  assert.equal(h.gate.decisions.length, 0);
  assert.deepEqual(await h.emu.admin.openViews('U0BOB'), []);
  assert.match((await ephemeralTexts('U0BOB'))[0], /not allowed/);
  assert.deepEqual(
    h.audit.map((a) => [a.slackUserId, a.allowed, a.outcome]),
    [['U0BOB', false, 'not_allowed']],
  );
  assert.equal(h.logger.at('warn').length, 1);
  const m = await h.emu.admin.message(CHANNEL, ts);
  assert.equal(m.edits.length, 0, 'the alert is unchanged');
});

test('forged and stale signatures: 401, nothing processed', async () => {
  for (const signature of ['forged', 'stale'] as const) {
    const r = await click('gate_release', 'U0ALICE', signature);
    assert.equal(r.status, 401);
    assert.deepEqual(JSON.parse(r.body), { error: 'invalid_signature' });
  }
  assert.equal(h.gate.decisions.length, 0);
  assert.equal(h.audit.length, 0);
  assert.equal((await h.emu.admin.ephemerals()).length, 0);
});

test('a gate that is not held anymore: explanation, no decision', async () => {
  h.gate.states.set(
    'in_1Test',
    gateState({ status: 'released', decision: { action: 'release', reviewer: 'U0CAROL' }, reviewer: 'U0CAROL' }),
  );
  await click('gate_release');
  h.gate.states.set('in_1Test', gateState({ status: 'resolved_in_stripe', reason: 'invoice.finalized' }));
  await click('gate_recount');
  h.gate.states.delete('in_1Test');
  await click('gate_release');
  const eph = await ephemeralTexts('U0ALICE');
  assert.match(eph[0], /already released by <@U0CAROL>/);
  assert.match(eph[1], /already settled in Stripe \(invoice\.finalized\)/);
  assert.match(eph[2], /no gate for invoice `in_1Test`/);
  assert.equal(h.gate.decisions.length, 0);
  assert.deepEqual(
    h.audit.map((a) => [a.outcome, a.gateStatus]),
    [
      ['not_held', 'released'],
      ['not_held', 'resolved_in_stripe'],
      ['no_gate', undefined],
    ],
  );
  assert.equal(h.logger.at('error').length, 0, 'not an error');
});

test('ack comes back fast while decide is still running; the confirmation follows', async () => {
  let finish!: () => void;
  const decideStarted = new Promise<void>((resolveStarted) => {
    h.gate.decideImpl = () =>
      new Promise<void>((resolve) => {
        resolveStarted();
        finish = resolve;
      });
  });
  const r = await h.emu.admin.click({ channel: CHANNEL, ts, actionId: 'gate_recount', userId: 'U0ALICE' });
  assert.equal(r.status, 200);
  assert.ok(r.ms < 1000, `acked in ${r.ms} ms`);
  await decideStarted;
  assert.equal(h.slack.receiver.pending, 1, 'the handler is still working after the answer');
  assert.equal((await h.emu.admin.ephemerals()).length, 0);
  finish();
  await h.slack.receiver.drain();
  assert.equal(h.gate.decisions.length, 1);
  assert.match((await ephemeralTexts('U0ALICE'))[0], /Recount requested/);
});

test('decide fails: "could not reach the gate", logged, audited', async () => {
  h.gate.decideImpl = async () => {
    throw new Error('connect ECONNREFUSED 127.0.0.1:7233');
  };
  const r = await click('gate_recount');
  assert.equal(r.status, 200);
  assert.match((await ephemeralTexts('U0ALICE'))[0], /Could not reach the gate/);
  const errors = h.logger.at('error');
  assert.equal(errors.length, 1);
  assert.match(String((errors[0].obj as { err: Error }).err.message), /ECONNREFUSED/);
  assert.deepEqual(
    h.audit.map((a) => a.outcome),
    ['gate_unreachable'],
  );
});

test('state() fails: same answer, no decision', async () => {
  h.gate.stateImpl = async () => {
    throw new Error('deadline exceeded');
  };
  await click('gate_recount');
  assert.equal(h.gate.decisions.length, 0);
  assert.match((await ephemeralTexts('U0ALICE'))[0], /Could not reach the gate/);
  assert.equal(h.logger.at('error').length, 1);
});

test('the gate ended between state and decide: explained, not an error', async () => {
  h.gate.decideImpl = async (id) => {
    throw new GateGoneError(id);
  };
  await click('gate_recount');
  assert.match((await ephemeralTexts('U0ALICE'))[0], /ended just now/);
  assert.deepEqual(
    h.audit.map((a) => a.outcome),
    ['no_gate'],
  );
  assert.equal(h.logger.at('error').length, 0);
});

test('two reviewers release at the same time: both modals, both submissions reach the gate (it decides once)', async () => {
  await Promise.all([
    h.emu.admin.click({ channel: CHANNEL, ts, actionId: 'gate_release', userId: 'U0ALICE' }),
    h.emu.admin.click({ channel: CHANNEL, ts, actionId: 'gate_release', userId: 'U0CAROL' }),
  ]);
  await h.slack.receiver.drain();
  const [alice] = await h.emu.admin.openViews('U0ALICE');
  const [carol] = await h.emu.admin.openViews('U0CAROL');
  const [a, b] = await Promise.all([
    h.emu.admin.submitView({ viewId: alice!.id, values: { reason: 'ledger_late' } }),
    h.emu.admin.submitView({ viewId: carol!.id, values: { reason: 'stripe_correct' } }),
  ]);
  await h.slack.receiver.drain();
  assert.deepEqual([a.viewClosed, b.viewClosed], [true, true]);
  assert.deepEqual(h.gate.decisions.map((d) => d.decision.reviewer).sort(), ['U0ALICE', 'U0CAROL']);
});

test('Slack failing for the ephemeral answer does not lose the decision', async () => {
  await h.emu.admin.setFaults({ methods: ['chat.postEphemeral'], count: 1, error: 'internal_error' });
  await click('gate_recount');
  assert.equal(h.gate.decisions.length, 1);
  assert.equal(h.audit[0].outcome, 'decided');
  assert.match(String(h.logger.at('error')[0].msg), /ephemeral/);
});

test("the gate does not answer a submission within Slack's 3 s: the modal stays open asking to submit again", async () => {
  h.gate.decideImpl = () => new Promise<void>((resolve) => setTimeout(resolve, 4_000));
  const { submitted } = await release();
  assert.equal(submitted.responseAction, 'errors');
  assert.match(String(submitted.errors?.reason), /did not answer in time/);
});

test('no reviewers configured: a warning at creation, and every click is refused', async () => {
  const empty = await startHarness({ reviewerIds: [] });
  try {
    assert.ok(empty.logger.at('warn').some((e) => /SLACK_REVIEWER_IDS is empty/.test(String(e.msg))));
    empty.gate.states.set('in_1Test', gateState());
    const alertTs = await empty.postAlert();
    const r = await empty.emu.admin.click({
      channel: CHANNEL,
      ts: alertTs,
      actionId: 'gate_release',
      userId: 'U0ALICE',
    });
    await empty.slack.receiver.drain();
    assert.equal(r.status, 200);
    assert.equal(empty.gate.decisions.length, 0);
    assert.deepEqual(
      empty.audit.map((a) => a.outcome),
      ['not_allowed'],
    );
  } finally {
    await empty.close();
  }
});
