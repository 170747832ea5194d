// The Slack review loop end to end: real clicks and release-reason modals from the Slack emulator to
// POST /slack/interactions, the `decide` Update into the Temporal gate, finalization in the Stripe emulator, and the alert
// updated in place. One harness for the file; every test gets its own customer and invoice.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { AdminMessage } from '../../emulators/slack/admin-client';
import type { GateState } from '../../src/gate/types';
import { gateWorkflowId } from '../../src/workflows/definitions';
import {
  closePeriod,
  messageText,
  seedDivergingCustomer,
  startGateHarness,
  type GateHarness,
} from '../support/gate-harness';
import { releaseWithReason } from './slack-release';
import { SLACK_EMULATOR_DEFAULTS } from '../../emulators/slack';

const CHANNEL = SLACK_EMULATOR_DEFAULTS.channelId;
const REVIEWER = 'U0ALICE';
const SECOND_REVIEWER = 'U0CAROL';
const OUTSIDER = 'U0BOB';
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

async function eventually<T>(
  what: string,
  probe: () => Promise<T | undefined | null | false>,
  timeoutMs = 15_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await probe();
      if (value) return value;
    } catch (error) {
      last = error;
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
}

describe('Slack review loop end to end', () => {
  let h: GateHarness;
  before(async () => {
    h = await startGateHarness({ reviewerIds: [REVIEWER, SECOND_REVIEWER] });
    await h.slackEmulator.admin.addUser({ id: SECOND_REVIEWER, name: 'carol', realName: 'Carol Reviewer' });
  });
  after(async () => {
    await h?.stop();
  });

  /** A customer whose Stripe meter saw 120 events while the ledger has 100, with its draft invoice created. */
  async function divergingInvoice(name: string) {
    const c = await seedDivergingCustomer(h, name);
    return { ...c, invoiceId: await closePeriod(h, c.periodEnd, c.customerId) };
  }

  /**
   * Waits until the gate holds the invoice and its alert is in Slack, explained (phase `held` comes after
   * the explanation's edit of the alert); returns the alert.
   */
  async function heldAlert(invoiceId: string): Promise<{ state: GateState; alert: AdminMessage }> {
    const state = await h.waitFor(
      invoiceId,
      (s) => s.status === 'held' && s.slackMessage !== null && s.phase === 'held',
    );
    const alert = await h.slackEmulator.admin.message(state.slackMessage!.channel, state.slackMessage!.ts);
    return { state, alert };
  }

  const handle = (invoiceId: string) => h.gate.client.workflow.getHandle(gateWorkflowId(invoiceId));

  async function ephemeralsAbout(invoiceId: string, user: string) {
    return (await h.slackEmulator.admin.ephemerals({ channel: CHANNEL, user })).filter((e) =>
      e.text.includes(invoiceId),
    );
  }

  async function assertStillHeld(invoiceId: string, alert: AdminMessage) {
    assert.equal((await h.gateState(invoiceId)).status, 'held');
    const invoice = await h.stripe.invoices.retrieve(invoiceId);
    assert.equal(invoice.status, 'draft');
    assert.equal(invoice.auto_advance, false);
    const now = await h.slackEmulator.admin.message(alert.channel, alert.ts);
    assert.equal(now.edits.length, alert.edits.length, 'the alert was not edited');
    assert.match(messageText(now), /gate_release/, 'the buttons are still there');
  }

  test('the alert shows both counts of the line and the variance, with Release and Recount buttons', async () => {
    const { invoiceId } = await divergingInvoice('Counts Shown Ltd');
    const { alert } = await heldAlert(invoiceId);
    const text = messageText(alert);
    assert.match(text, /Stripe \*120\*/);
    assert.match(text, /ledger \*100\*/);
    assert.match(text, /\+20 %/, 'the variance of the line');
    assert.match(text, /\+20(?!\d)/, 'the difference of the line');
    assert.match(alert.text, new RegExp(`Invoice ${invoiceId} for Counts Shown Ltd: held for review`));
    assert.match(text, /gate_release/);
    assert.match(text, /gate_recount/);
    await handle(invoiceId).terminate('test cleanup');
  });

  test('a reviewer clicks Release and gives a reason: 200 within 3 s, finalized in Stripe, alert updated, audit names the reviewer', async () => {
    const { invoiceId } = await divergingInvoice('Released Ltd');
    const { alert } = await heldAlert(invoiceId);

    const { click, submission } = await releaseWithReason(h.slackEmulator, {
      channel: alert.channel,
      ts: alert.ts,
      userId: REVIEWER,
      reason: 'ledger_late',
      note: 'the batch job ran late',
    });
    assert.ok(click.ms < 3000 && click.acknowledgedInTime, `answered in ${click.ms} ms`);
    assert.equal(submission.status, 200, submission.body);
    assert.ok(submission.acknowledgedInTime, `submission answered in ${submission.ms} ms`);
    assert.equal(submission.responseAction, 'close');
    assert.equal(submission.viewClosed, true);

    const result: GateState = await h.decision(invoiceId);
    assert.equal(result.status, 'released');
    assert.equal(result.reviewer, REVIEWER);
    assert.deepEqual(result.decision, {
      action: 'release',
      reviewer: REVIEWER,
      reason: 'ledger_late',
      note: 'the batch job ran late',
      channel: 'slack',
    });

    const invoice = await h.stripe.invoices.retrieve(invoiceId);
    assert.equal(invoice.status, 'open');
    assert.equal(invoice.metadata?.invoice_gate_released_by, REVIEWER);
    assert.equal(invoice.metadata?.invoice_gate_reason, 'The ledger was late: the batch job ran late');

    const updated = await h.slackEmulator.admin.message(alert.channel, alert.ts);
    assert.equal(updated.ts, alert.ts, 'updated in place');
    assert.ok(updated.edits.length >= 1, 'edited with chat.update');
    assert.doesNotMatch(messageText(updated), /gate_release|gate_recount/, 'no buttons once decided');
    assert.match(messageText(updated), /Released by <@U0ALICE>/);
    assert.match(updated.text, /released by <@U0ALICE>/);
    assert.equal(
      (await h.slackEmulator.admin.messages(CHANNEL)).filter((m) => messageText(m).includes(invoiceId)).length,
      1,
      'no second message',
    );

    const run = await h.gate.audit.getRun(invoiceId);
    assert.equal(run?.outcome, 'released');
    assert.equal(run?.reviewer, REVIEWER);
    assert.ok(run?.decidedAt && run.finishedAt);

    const attempts = await eventually('the audited click', async () => {
      const rows = await h.gate.audit.listReviewAttempts(invoiceId);
      return rows.length > 0 && rows;
    });
    assert.deepEqual(
      attempts.map((a) => [a.slackUserId, a.action, a.allowed, a.outcome]),
      [
        [REVIEWER, 'release', true, 'modal_opened'],
        [REVIEWER, 'release', true, 'decided'],
      ],
    );
    const logged = await h.gate.decisions.forInvoice(invoiceId);
    assert.deepEqual(
      logged.map((r) => [r.reviewer, r.action, r.reason, r.note, r.accepted, r.channel]),
      [[REVIEWER, 'release', 'ledger_late', 'the batch job ran late', true, 'slack']],
    );
  });

  test('someone who is not a reviewer clicks Release: told "not allowed", nothing changes, attempt audited', async () => {
    const { invoiceId } = await divergingInvoice('Unauthorized Click GmbH');
    const { alert } = await heldAlert(invoiceId);

    const click = await h.slackEmulator.admin.click({
      channel: alert.channel,
      ts: alert.ts,
      actionId: 'gate_release',
      userId: OUTSIDER,
    });
    assert.equal(click.status, 200, click.body);
    assert.ok(click.ms < 3000);

    const [answer] = await eventually('the ephemeral answer', () =>
      ephemeralsAbout(invoiceId, OUTSIDER).then((e) => e.length > 0 && e),
    );
    assert.match(answer.text, /not allowed/);
    const attempts = await eventually('the audited attempt', async () => {
      const rows = await h.gate.audit.listReviewAttempts(invoiceId);
      return rows.length > 0 && rows;
    });
    assert.deepEqual(
      attempts.map((a) => [a.slackUserId, a.action, a.allowed, a.outcome]),
      [[OUTSIDER, 'release', false, 'not_allowed']],
    );
    await assertStillHeld(invoiceId, alert);
    const state = await h.gateState(invoiceId);
    assert.equal(state.decision, null);
    assert.equal(state.reviewer, null);
    assert.equal((await h.stripeEmulator.admin.requests(`/v1/invoices/${invoiceId}/finalize`)).length, 0);
    await handle(invoiceId).terminate('test cleanup');
  });

  test('forged and stale signatures are refused with 401 and change nothing', async () => {
    const { invoiceId } = await divergingInvoice('Forged Signature SA');
    const { alert } = await heldAlert(invoiceId);

    for (const signature of ['forged', 'stale'] as const) {
      const click = await h.slackEmulator.admin.click({
        channel: alert.channel,
        ts: alert.ts,
        actionId: 'gate_release',
        userId: REVIEWER,
        signature,
      });
      assert.equal(click.status, 401, `${signature}: ${click.body}`);
    }
    // Anything the server would do after the answer has had time to happen.
    await new Promise((resolve) => setTimeout(resolve, 500));
    await assertStillHeld(invoiceId, alert);
    assert.equal((await h.gateState(invoiceId)).decision, null);
    assert.deepEqual(await h.gate.audit.listReviewAttempts(invoiceId), []);
    assert.deepEqual(await ephemeralsAbout(invoiceId, REVIEWER), []);
    assert.equal((await h.stripeEmulator.admin.requests(`/v1/invoices/${invoiceId}/finalize`)).length, 0);
    await handle(invoiceId).terminate('test cleanup');
  });

  // The second submission reaches the gate's validator while the gate finalizes the first release (an
  // activity): the refusal must not cost the gate that activity's result.
  test('two reviewers release at the same time: one finalize call, both hear back, released once', async () => {
    const { invoiceId } = await divergingInvoice('Double Click Inc');
    const { alert } = await heldAlert(invoiceId);

    const releases = await Promise.all(
      [REVIEWER, SECOND_REVIEWER].map((userId) =>
        releaseWithReason(h.slackEmulator, {
          channel: alert.channel,
          ts: alert.ts,
          userId,
          reason: 'stripe_correct',
        }),
      ),
    );
    for (const { click, submission } of releases) {
      assert.ok(click.ms < 3000, `answered in ${click.ms} ms`);
      assert.equal(submission.status, 200, submission.body);
      // The one the gate took closes its modal; the other is either refused under the reason (the gate
      // was already releasing) or accepted by the validator and then refused by the gate (logged below).
      assert.ok(['close', 'errors'].includes(submission.responseAction), JSON.stringify(submission.errors));
      if (submission.responseAction === 'errors') {
        assert.match(Object.values(submission.errors ?? {}).join(' '), /releas/, JSON.stringify(submission.errors));
      }
    }

    const result: GateState = await h.decision(invoiceId);
    assert.equal(result.status, 'released');
    assert.ok([REVIEWER, SECOND_REVIEWER].includes(result.reviewer ?? ''), String(result.reviewer));
    assert.equal((await h.stripe.invoices.retrieve(invoiceId)).status, 'open');

    const finalizeCalls = await h.stripeEmulator.admin.requests(`/v1/invoices/${invoiceId}/finalize`);
    const succeeded = finalizeCalls.filter((r) => r.method === 'POST' && r.status === 200 && !r.idempotent_replayed);
    assert.equal(succeeded.length, 1, JSON.stringify(finalizeCalls));

    const attempts = await eventually('both audited clicks and submissions', async () => {
      const rows = await h.gate.audit.listReviewAttempts(invoiceId);
      return rows.length === 4 && rows;
    });
    assert.deepEqual(attempts.map((a) => a.slackUserId).sort(), [REVIEWER, REVIEWER, SECOND_REVIEWER, SECOND_REVIEWER]);
    assert.ok(attempts.every((a) => a.allowed));
    const logged = await h.gate.decisions.forInvoice(invoiceId);
    const accepted = logged.filter((r) => r.accepted);
    assert.equal(accepted.length, 1, JSON.stringify(logged));
    assert.equal(accepted[0]!.reviewer, result.reviewer);
    assert.deepEqual(
      logged.filter((r) => !r.accepted).map((r) => r.refusal?.split(':')[0]),
      ['not_waiting'],
      'the other release is logged as refused',
    );

    const updated = await h.slackEmulator.admin.message(alert.channel, alert.ts);
    assert.doesNotMatch(messageText(updated), /gate_release/);
    assert.match(messageText(updated), new RegExp(`Released by <@${result.reviewer}>`));
    const run = await h.gate.audit.getRun(invoiceId);
    assert.equal(run?.outcome, 'released');
    assert.equal(run?.reviewer, result.reviewer);
  });

  test('a click while a release is being finalized is explained, not confirmed and dropped', async () => {
    const { invoiceId } = await divergingInvoice('Slow Finalize AG');
    const { alert } = await heldAlert(invoiceId);
    await h.stripeEmulator.admin.setFaults({ latencyMs: 2000, pathPrefix: `/v1/invoices/${invoiceId}/finalize` });
    try {
      const { submission } = await releaseWithReason(h.slackEmulator, {
        channel: alert.channel,
        ts: alert.ts,
        userId: REVIEWER,
        reason: 'contract_exception',
      });
      assert.equal(submission.responseAction, 'close', JSON.stringify(submission.errors));
      await h.waitFor(invoiceId, (s) => s.decision !== null);
      const recount = await h.slackEmulator.admin.click({
        channel: alert.channel,
        ts: alert.ts,
        actionId: 'gate_recount',
        userId: SECOND_REVIEWER,
      });
      assert.equal(recount.status, 200, recount.body);

      const result: GateState = await h.decision(invoiceId);
      assert.equal(result.status, 'released');
      assert.equal(result.recounts, 0, 'the recount never ran');
      const [answer] = await eventually('an answer for the second reviewer', () =>
        ephemeralsAbout(invoiceId, SECOND_REVIEWER).then((e) => e.length > 0 && e),
      );
      assert.doesNotMatch(answer.text, /Recount requested/, `told a recount would run: ${answer.text}`);
      assert.match(answer.text, /being released|releas/i, answer.text);
      const attempts = await eventually('the release and the recount audited', async () => {
        const rows = await h.gate.audit.listReviewAttempts(invoiceId);
        return rows.length === 3 && rows;
      });
      const second = attempts.find((a) => a.slackUserId === SECOND_REVIEWER);
      assert.equal(second?.outcome, 'not_held', 'the refused recount is not audited as decided');
    } finally {
      await h.stripeEmulator.admin.clearFaults();
    }
  });

  test('Recount after the late ledger rows arrived: "recounting", then auto-released and finalized', async () => {
    const c = await divergingInvoice('Late Rows Recount Co');
    const { alert } = await heldAlert(c.invoiceId);

    await h.addLedgerEvents(c.customerId, c.eventName, c.usage.slice(100));
    const click = await h.slackEmulator.admin.click({
      channel: alert.channel,
      ts: alert.ts,
      actionId: 'gate_recount',
      userId: REVIEWER,
    });
    assert.equal(click.status, 200, click.body);
    assert.ok(click.ms < 3000);

    const result: GateState = await h.decision(c.invoiceId);
    assert.equal(result.status, 'auto_released');
    assert.equal(result.recounts, 1);
    assert.equal(result.comparison?.lines[0].ledgerQuantity, '120');
    assert.equal((await h.stripe.invoices.retrieve(c.invoiceId)).status, 'open');

    const updated = await h.slackEmulator.admin.message(alert.channel, alert.ts);
    const versions = [
      ...updated.edits.map((e) => `${e.previousText} ${JSON.stringify(e.previousBlocks ?? [])}`),
      messageText(updated),
    ];
    assert.ok(
      versions.some((v) => /recounting/i.test(v)),
      `a "recounting" version: ${JSON.stringify(updated.edits.map((e) => e.previousText))}`,
    );
    assert.match(messageText(updated), /Auto-released after recount/);
    assert.doesNotMatch(messageText(updated), /gate_release|gate_recount/);

    const run = await h.gate.audit.getRun(c.invoiceId);
    assert.equal(run?.outcome, 'auto_released');
    const attempts = await eventually('the audited click', async () => {
      const rows = await h.gate.audit.listReviewAttempts(c.invoiceId);
      return rows.length > 0 && rows;
    });
    assert.deepEqual(
      attempts.map((a) => [a.slackUserId, a.action, a.allowed, a.outcome]),
      [[REVIEWER, 'recount', true, 'decided']],
    );
  });

  test('held for 30 emulated hours: threaded reminders at 4 h and 28 h, still held and paused', async () => {
    const { invoiceId } = await divergingInvoice('Slow Reviewers BV');
    const { alert } = await heldAlert(invoiceId);
    const replies = () => h.slackEmulator.admin.replies(alert.channel, alert.ts);

    await h.temporal.skipTime(4 * HOUR + MINUTE);
    await eventually('the first reminder', () => replies().then((r) => r.length === 1 && r));
    await h.temporal.skipTime(24 * HOUR);
    const both = await eventually('the second reminder', () => replies().then((r) => r.length === 2 && r));
    await h.temporal.skipTime(2 * HOUR);
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal((await replies()).length, 2, 'no third reminder before 52 h');

    for (const [i, reply] of both.entries()) {
      assert.equal(reply.threadTs, alert.ts);
      assert.match(reply.text, new RegExp(`Reminder: invoice ${invoiceId} .* has been held`));
      // Form-encoded by @slack/web-api, so the emulator may keep the metadata as a JSON string.
      const raw = reply.extra.metadata;
      const metadata = (typeof raw === 'string' ? JSON.parse(raw) : raw) as {
        event_type?: string;
        event_payload?: unknown;
      };
      assert.equal(metadata.event_type, 'invoice_gate_reminder');
      assert.deepEqual(metadata.event_payload, { invoice_id: invoiceId, reminder: i + 1 });
    }
    const state = await h.gateState(invoiceId);
    assert.equal(state.status, 'held');
    assert.equal(state.decision, null);
    await assertStillHeld(invoiceId, alert);
    await handle(invoiceId).terminate('test cleanup');
  });

  test("the reminder says how long the invoice has been held on the gate's own clock", async () => {
    const { invoiceId } = await divergingInvoice('Reminder Clock Ltd');
    const { alert } = await heldAlert(invoiceId);
    try {
      await h.temporal.skipTime(4 * HOUR + MINUTE);
      const [reminder] = await eventually('the first reminder', () =>
        h.slackEmulator.admin.replies(alert.channel, alert.ts).then((r) => r.length === 1 && r),
      );
      assert.match(reminder.text, /has been held for 4 h( \d+ min)?\./, reminder.text);
    } finally {
      await handle(invoiceId).terminate('test cleanup');
    }
  });

  test('Slack failing for a while delays the alert, never the pause; the alert arrives after recovery', async () => {
    const c = await seedDivergingCustomer(h, 'Slack Outage Ltd');
    await h.slackEmulator.admin.clearRequests();
    // chat.postMessage fails until the test ends the outage, so what the gate does meanwhile is checked
    // during the outage on any machine (a two-failure outage ended after ~3 s, sometimes before the check).
    await h.slackEmulator.admin.setFaults({ methods: ['chat.postMessage'], count: 1_000, error: 'internal_error' });
    try {
      const invoiceId = await closePeriod(h, c.periodEnd, c.customerId);

      const failedPosts = async () =>
        (await h.slackEmulator.admin.requests()).filter(
          (r) => r.apiMethod === 'chat.postMessage' && r.fault !== undefined,
        );
      await eventually('two failed alerts (the first attempt and a retry)', () =>
        failedPosts().then((f) => f.length >= 2 && f),
      );
      const during = await h.gateState(invoiceId);
      assert.equal(during.status, 'held');
      assert.equal(during.slackMessage, null, 'no alert yet');
      let invoice = await h.stripe.invoices.retrieve(invoiceId);
      assert.equal(invoice.status, 'draft');
      assert.equal(invoice.auto_advance, false, 'paused before Slack was asked');
      // Stripe's own finalization (an hour after invoice.created) must not happen meanwhile.
      await h.stripeEmulator.admin.advanceClock(2 * 3600);
      assert.equal((await h.stripe.invoices.retrieve(invoiceId)).status, 'draft');

      // Slack recovers: the activity's next retry (Temporal's backoff) delivers the alert.
      await h.slackEmulator.admin.clearFaults();
      const { state, alert } = await heldAlert(invoiceId);
      assert.ok((await failedPosts()).length >= 2, 'failed attempts, then delivered');
      assert.match(messageText(alert), new RegExp(invoiceId));
      assert.match(messageText(alert), /gate_release/);
      assert.equal(
        (await h.slackEmulator.admin.messages(CHANNEL)).filter((m) => m.text.includes(invoiceId)).length,
        1,
        'posted once',
      );
      assert.deepEqual(state.slackMessage, { channel: CHANNEL, ts: alert.ts });
      invoice = await h.stripe.invoices.retrieve(invoiceId);
      assert.equal(invoice.status, 'draft');
      assert.equal(invoice.auto_advance, false);
      assert.equal((await h.gate.audit.getRun(invoiceId))?.slack?.ts, alert.ts);
      await handle(invoiceId).terminate('test cleanup');
    } finally {
      await h.slackEmulator.admin.clearFaults();
    }
  });
});
