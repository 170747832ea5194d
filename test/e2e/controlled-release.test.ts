// Controlled release end to end, through the real endpoints and the emulators: a release needs a reason
// (the Slack modal), above GATE_SECOND_APPROVAL_ABOVE it needs a second, different reviewer, a double
// click is one decision, a refused decision leaves the workflow history untouched, every attempt is in
// the hash-chained decision log (which names a hand-edited row), and a held invoice finalized in the
// Stripe Dashboard is reported as bypassed.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import type { AdminMessage } from '../../emulators/slack/admin-client';
import { gateWorkflowId } from '../../src/workflows/definitions';
import {
  closePeriod,
  messageText,
  seedDivergingCustomer,
  startGateHarness,
  type GateHarness,
} from '../support/gate-harness';
import { openViewIds, releaseModal, releaseWithReason } from './slack-release';

const FIRST = 'U0ALICE';
const SECOND = 'U0CAROL';
/** Minor units: 20 diverging units at 2 cents (40) stay below it, 70 (140) are above. */
const LIMIT = '100';
/** EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED, _REJECTED, _COMPLETED, _ADMITTED. */
const UPDATE_EVENTS = new Set([41, 42, 43, 47]);

async function eventually<T>(what: string, probe: () => Promise<T | undefined | null | false>, timeoutMs = 15_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const value = await probe();
    if (value) return value;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe('controlled release through Slack, Temporal and Stripe', () => {
  let h: GateHarness;
  before(async () => {
    h = await startGateHarness({
      reviewerIds: [FIRST, 'U0BOB', SECOND],
      env: { GATE_SECOND_APPROVAL_ABOVE: LIMIT },
    });
  });
  after(async () => {
    await h?.stop();
  });

  /** A held invoice (Stripe `stripeCount` against the ledger's 100) and its alert, once explained. */
  async function heldInvoice(name: string, stripeCount: number): Promise<{ invoiceId: string; alert: AdminMessage }> {
    const c = await seedDivergingCustomer(h, name, stripeCount, 100);
    const invoiceId = await closePeriod(h, c.periodEnd, c.customerId);
    const state = await h.waitFor(
      invoiceId,
      (s) => s.status === 'held' && s.slackMessage !== null && s.phase === 'held',
    );
    const alert = await h.slackEmulator.admin.message(state.slackMessage!.channel, state.slackMessage!.ts);
    return { invoiceId, alert };
  }

  /** The Update events in the gate's history (the gate's own timers and activities go on meanwhile). */
  const history = async (invoiceId: string) =>
    ((await h.gate.client.workflow.getHandle(gateWorkflowId(invoiceId)).fetchHistory()).events ?? [])
      .filter((e) => UPDATE_EVENTS.has(Number(e.eventType)))
      .map((e) => `${String(e.eventId)}:${String(e.eventType)}`);

  const ephemeralsAbout = async (invoiceId: string, user: string) =>
    (await h.slackEmulator.admin.ephemerals({ user })).filter((e) => e.text.includes(invoiceId));

  const finalizeCalls = async (invoiceId: string) =>
    (await h.stripeEmulator.admin.requests(`/v1/invoices/${invoiceId}/finalize`)).filter(
      (r) => r.method === 'POST' && r.status === 200 && !r.idempotent_replayed,
    );

  test('a release without a reason is impossible: refused under the reason, nothing changes, no history event', async () => {
    const { invoiceId, alert } = await heldInvoice('No Reason Ltd', 120);
    const seen = await openViewIds(h.slackEmulator, FIRST);
    await h.slackEmulator.admin.click({
      channel: alert.channel,
      ts: alert.ts,
      actionId: 'gate_release',
      userId: FIRST,
    });
    const view = await releaseModal(h.slackEmulator, FIRST, seen);
    const before = await history(invoiceId);

    // What a client that skipped Slack's required-field check would send: no reason selected.
    const empty = await h.slackEmulator.admin.submitView({
      viewId: view.id,
      stateValues: {
        reason: { reason: { type: 'static_select', selected_option: null } },
        note: { note: { type: 'plain_text_input', value: null } },
      },
    });
    assert.equal(empty.status, 200, empty.body);
    assert.equal(empty.responseAction, 'errors');
    assert.match(empty.errors?.reason ?? '', /needs a reason/);
    assert.deepEqual(empty.unknownErrorBlocks ?? [], []);
    assert.equal(empty.viewClosed, false, 'the modal stays open for the reviewer to pick a reason');

    // 'Other' without a note: refused under the note.
    const noNote = await h.slackEmulator.admin.submitView({ viewId: view.id, values: { reason: 'other' } });
    assert.equal(noNote.responseAction, 'errors');
    assert.match(noNote.errors?.note ?? '', /note/);

    const state = await h.gateState(invoiceId);
    assert.equal(state.status, 'held');
    assert.equal(state.decision, null);
    const invoice = await h.stripe.invoices.retrieve(invoiceId);
    assert.equal(invoice.status, 'draft');
    assert.equal(invoice.auto_advance, false);
    assert.equal((await finalizeCalls(invoiceId)).length, 0);
    assert.deepEqual(await history(invoiceId), before, 'refused Updates write nothing to the history');
    const refused = await h.gate.decisions.forInvoice(invoiceId);
    assert.deepEqual(
      refused.map((r) => [r.reviewer, r.action, r.accepted, r.refusal?.split(':')[0], r.channel]),
      [
        [FIRST, 'release', false, 'reason_required', 'slack'],
        [FIRST, 'release', false, 'note_required', 'slack'],
      ],
    );

    // The reviewer adds the note (the reason stays selected): below the limit, one reviewer releases.
    const done = await h.slackEmulator.admin.submitView({
      viewId: view.id,
      values: { note: 'credit agreed by sales' },
    });
    assert.equal(done.responseAction, 'close', JSON.stringify(done.errors));
    const result = await h.decision(invoiceId);
    assert.equal(result.status, 'released');
    const released = await h.stripe.invoices.retrieve(invoiceId);
    assert.equal(released.status, 'open');
    assert.equal(released.metadata?.invoice_gate_released_by, FIRST);
    assert.equal(released.metadata?.invoice_gate_reason, 'Other: credit agreed by sales');
    assert.ok((await history(invoiceId)).length > before.length, 'the accepted release is in the history');
  });

  test('above the limit: the first release awaits a second reviewer, the same one is refused, another approves once', async () => {
    const { invoiceId, alert } = await heldInvoice('Four Eyes GmbH', 170);

    const { submission } = await releaseWithReason(h.slackEmulator, {
      channel: alert.channel,
      ts: alert.ts,
      userId: FIRST,
      reason: 'contract_exception',
      note: 'volume deal signed in March',
    });
    assert.equal(submission.responseAction, 'close', JSON.stringify(submission.errors));
    const waiting = await h.waitFor(invoiceId, (s) => s.status === 'awaiting_second_approval');
    assert.deepEqual(
      waiting.approvals?.map((a) => [a.reviewer, a.action, a.reason]),
      [[FIRST, 'release', 'contract_exception']],
    );
    const paused = await h.stripe.invoices.retrieve(invoiceId);
    assert.equal(paused.status, 'draft');
    assert.equal(paused.auto_advance, false, 'still paused: one reviewer is not enough above the limit');
    const awaiting = await eventually('the alert asking for a second approval', async () => {
      const message = await h.slackEmulator.admin.message(alert.channel, alert.ts);
      return /gate_approve/.test(messageText(message)) && message;
    });
    assert.match(messageText(awaiting), /Approve release/);
    assert.match(messageText(awaiting), /second reviewer must approve/);

    // The first reviewer approves their own release: refused, told why, and nothing reaches the history.
    const before = await history(invoiceId);
    const own = await h.slackEmulator.admin.click({
      channel: alert.channel,
      ts: alert.ts,
      actionId: 'gate_approve',
      userId: FIRST,
    });
    assert.equal(own.status, 200, own.body);
    const [told] = await eventually('the refusal', () =>
      ephemeralsAbout(invoiceId, FIRST).then((e) => e.length > 0 && e),
    );
    assert.match(told.text, /^Not done: you gave the first approval; a different reviewer must approve/);
    assert.equal((await h.gateState(invoiceId)).status, 'awaiting_second_approval');
    assert.deepEqual(await history(invoiceId), before, 'the refused approval left no history event');

    // The second reviewer double-clicks Approve: one decision, one finalize.
    const clicks = await Promise.all(
      [1, 2].map(() =>
        h.slackEmulator.admin.click({ channel: alert.channel, ts: alert.ts, actionId: 'gate_approve', userId: SECOND }),
      ),
    );
    for (const click of clicks) assert.equal(click.status, 200, click.body);
    const result = await h.decision(invoiceId);
    assert.equal(result.status, 'released');
    assert.deepEqual(
      result.approvals?.map((a) => [a.reviewer, a.action]),
      [
        [FIRST, 'release'],
        [SECOND, 'approve'],
      ],
    );
    const invoice = await h.stripe.invoices.retrieve(invoiceId);
    assert.equal(invoice.status, 'open');
    assert.equal(invoice.metadata?.invoice_gate_status, 'released');
    assert.equal(invoice.metadata?.invoice_gate_released_by, `${FIRST}, approved by ${SECOND}`);
    assert.equal(invoice.metadata?.invoice_gate_reason, 'Contract exception: volume deal signed in March');
    assert.equal((await finalizeCalls(invoiceId)).length, 1);

    const logged = await h.gate.decisions.forInvoice(invoiceId);
    assert.deepEqual(
      logged.map((r) => [r.reviewer, r.action, r.accepted, r.refusal?.split(':')[0] ?? null]),
      [
        [FIRST, 'release', true, null],
        [FIRST, 'approve', false, 'same_approver'],
        [SECOND, 'approve', true, null],
      ],
      'the double click is one accepted approval',
    );
    const updated = await h.slackEmulator.admin.message(alert.channel, alert.ts);
    assert.doesNotMatch(messageText(updated), /gate_approve|gate_release/, 'no buttons once released');
  });

  test('a held invoice finalized in the Stripe Dashboard is bypassed, and the alert says so', async () => {
    const { invoiceId, alert } = await heldInvoice('Dashboard Shortcut BV', 120);
    const { request } = await h.stripeEmulator.admin.dashboard(`/v1/invoices/${invoiceId}/finalize`);
    assert.ok(request.id);

    const state = await h.waitForStatus(invoiceId, ['bypassed']);
    assert.match(state.reason ?? '', /outside the gate/);
    assert.equal((await h.stripe.invoices.retrieve(invoiceId)).status, 'open');
    const updated = await eventually('the alert saying it was bypassed', async () => {
      const message = await h.slackEmulator.admin.message(alert.channel, alert.ts);
      return /Finalized outside the gate/.test(messageText(message)) && message;
    });
    assert.doesNotMatch(messageText(updated), /gate_release|gate_recount/, 'nothing left to decide');
    const run = await eventually('the audited outcome', async () => {
      const r = await h.gate.audit.getRun(invoiceId);
      return r?.outcome === 'bypassed' && r;
    });
    assert.equal(run.outcome, 'bypassed');
    assert.equal((await finalizeCalls(invoiceId)).length, 1, 'only the Dashboard finalized it');
  });

  test('the decision log verifies, and names a hand-edited row (the library and `npm run audit -- verify`)', async () => {
    const verify = () =>
      spawnSync(process.execPath, ['--import', 'tsx', 'src/bin/audit.ts', 'verify'], {
        env: { ...process.env, ...h.workerEnv(), LOG_LEVEL: 'silent' },
        encoding: 'utf8',
        timeout: 60_000,
      });
    // Two accepted decisions of this test's own: a recount that still diverges, then a release.
    const { invoiceId, alert } = await heldInvoice('Audited Decisions SARL', 120);
    await h.slackEmulator.admin.click({
      channel: alert.channel,
      ts: alert.ts,
      actionId: 'gate_recount',
      userId: FIRST,
    });
    await h.waitFor(invoiceId, (s) => s.status === 'held' && s.recounts === 1);
    await releaseWithReason(h.slackEmulator, {
      channel: alert.channel,
      ts: alert.ts,
      userId: SECOND,
      reason: 'ledger_late',
    });
    assert.equal((await h.decision(invoiceId)).status, 'released');
    assert.deepEqual(
      (await h.gate.decisions.forInvoice(invoiceId)).map((r) => [r.reviewer, r.action, r.accepted]),
      [
        [FIRST, 'recount', true],
        [SECOND, 'release', true],
      ],
    );

    const intact = await h.gate.decisions.verify();
    assert.equal(intact.intact, true, JSON.stringify(intact));
    assert.ok(intact.intact && intact.rows >= 2, JSON.stringify(intact));
    const ok = verify();
    assert.equal(ok.status, 0, ok.stderr);
    assert.match(ok.stdout, new RegExp(`decision log intact: ${intact.rows} rows`));

    // Someone with write access changes who decided, by hand, on the second-to-last row.
    const { rows } = await h.ledger.query<{ seq: string; reviewer: string }>(
      `SELECT seq::text, reviewer FROM invoice_gate.decision_log ORDER BY seq DESC LIMIT 1 OFFSET 1`,
    );
    const [edited] = rows;
    assert.ok(edited);
    await h.ledger.query(`UPDATE invoice_gate.decision_log SET reviewer = 'U0BOB' WHERE seq = $1`, [edited.seq]);
    try {
      const broken = await h.gate.decisions.verify();
      assert.equal(broken.intact, false);
      assert.ok(!broken.intact && broken.firstBreak.seq === edited.seq, JSON.stringify(broken));
      assert.ok(!broken.intact && broken.firstBreak.problem === 'hash');
      assert.ok(!broken.intact && broken.rowsIntact === Number(edited.seq) - 1, 'every row before it is intact');
      const failed = verify();
      assert.equal(failed.status, 1, failed.stderr);
      assert.match(failed.stdout, new RegExp(`first row that does not match: ${edited.seq}\\n`));
    } finally {
      await h.ledger.query(`UPDATE invoice_gate.decision_log SET reviewer = $2 WHERE seq = $1`, [
        edited.seq,
        edited.reviewer,
      ]);
    }
    assert.equal((await h.gate.decisions.verify()).intact, true, 'intact again once the row is restored');
  });
});
