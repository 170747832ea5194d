// The Slack review loop over Socket Mode (SLACK_APP_TOKEN set): the gate connects out to the Slack
// emulator, clicks arrive as `interactive` envelopes on that socket, the same handlers signal the
// Temporal gate, and POST /slack/interactions is not used.
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
import { SLACK_EMULATOR_DEFAULTS } from '../../emulators/slack';
import { releaseWithReason } from './slack-release';

const CHANNEL = SLACK_EMULATOR_DEFAULTS.channelId;
const REVIEWER = 'U0ALICE';
const OUTSIDER = 'U0BOB';
const APP_TOKEN = 'xapp-1-A0GATEAPP-1-e2e-socket-mode';

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

describe('Slack review loop over Socket Mode', () => {
  let h: GateHarness;
  before(async () => {
    h = await startGateHarness({ reviewerIds: [REVIEWER], env: { SLACK_APP_TOKEN: APP_TOKEN } });
    await eventually('the gate connected to the socket', async () => {
      const { connections } = await h.slackEmulator.admin.socketMode();
      return connections.length === 1;
    });
  });
  after(async () => {
    await h?.stop();
  });

  async function heldInvoice(name: string): Promise<{ invoiceId: string; alert: AdminMessage }> {
    const c = await seedDivergingCustomer(h, name);
    const invoiceId = await closePeriod(h, c.periodEnd, c.customerId);
    // Phase `held` comes after the explanation's edit of the alert: later edits are the click's.
    const state = await h.waitFor(
      invoiceId,
      (s) => s.status === 'held' && s.slackMessage !== null && s.phase === 'held',
    );
    const alert = await h.slackEmulator.admin.message(state.slackMessage!.channel, state.slackMessage!.ts);
    return { invoiceId, alert };
  }

  async function ephemeralsAbout(invoiceId: string, user: string) {
    return (await h.slackEmulator.admin.ephemerals({ channel: CHANNEL, user })).filter((e) =>
      e.text.includes(invoiceId),
    );
  }

  test('the HTTP route is off: a clear 404, no interactivity URL at Slack, an HTTP click has nowhere to go', async () => {
    const res = await fetch(`${h.gate.url}/slack/interactions`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'payload=%7B%7D',
    });
    assert.equal(res.status, 404);
    const body = (await res.json()) as { error: string; message: string };
    assert.equal(body.error, 'socket_mode');
    assert.match(body.message, /Socket Mode/);
    const info = await h.slackEmulator.admin.info();
    assert.equal(info.interactivityUrl, null);
    assert.equal(info.socketMode, true);
  });

  test('a reviewer releases with a reason over the socket: acked at once, the held invoice is finalized, audited', async () => {
    const { invoiceId, alert } = await heldInvoice('Socket Release Ltd');

    const { click, submission } = await releaseWithReason(h.slackEmulator, {
      channel: alert.channel,
      ts: alert.ts,
      userId: REVIEWER,
      reason: 'stripe_correct',
      via: 'socket',
    });
    assert.equal(click.via, 'socket');
    assert.ok(click.via === 'socket' && click.acked);
    assert.ok(click.via === 'socket' && click.attempts === 1, 'acknowledged on the first delivery, no redelivery');
    assert.ok(click.acknowledgedInTime, `acked in ${click.ms} ms`);
    assert.equal(submission.via, 'socket');
    assert.equal(submission.acked, true);
    assert.equal(submission.attempts, 1, 'the submission acknowledged on the first delivery');
    assert.equal(submission.responseAction, 'close', JSON.stringify(submission.errors));

    const result: GateState = await h.decision(invoiceId);
    assert.equal(result.status, 'released');
    assert.deepEqual(result.decision, {
      action: 'release',
      reviewer: REVIEWER,
      reason: 'stripe_correct',
      channel: 'slack_socket',
    });
    assert.equal((await h.stripe.invoices.retrieve(invoiceId)).status, 'open');
    const finalized = await h.stripeEmulator.admin.requests(`/v1/invoices/${invoiceId}/finalize`);
    assert.equal(finalized.filter((r) => r.method === 'POST' && r.status === 200).length, 1);

    const run = await h.gate.audit.getRun(invoiceId);
    assert.equal(run?.outcome, 'released');
    assert.equal(run?.reviewer, REVIEWER);
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
      logged.map((r) => [r.reviewer, r.action, r.reason, r.accepted, r.channel]),
      [[REVIEWER, 'release', 'stripe_correct', true, 'slack_socket']],
    );
    const invoice = await h.stripe.invoices.retrieve(invoiceId);
    assert.equal(invoice.metadata?.invoice_gate_reason, 'Stripe is right');
    const updated = await h.slackEmulator.admin.message(alert.channel, alert.ts);
    assert.match(messageText(updated), /Released by <@U0ALICE>/);
  });

  test('someone who is not a reviewer clicks Release over the socket: acked, told "not allowed", nothing changes', async () => {
    const { invoiceId, alert } = await heldInvoice('Socket Outsider GmbH');

    const click = await h.slackEmulator.admin.clickOverSocket({
      channel: alert.channel,
      ts: alert.ts,
      actionId: 'gate_release',
      userId: OUTSIDER,
    });
    assert.equal(click.acked, true);

    const [answer] = await eventually('the ephemeral answer', () =>
      ephemeralsAbout(invoiceId, OUTSIDER).then((e) => e.length > 0 && e),
    );
    assert.match(answer.text, /not allowed/);
    const attempts = await eventually('the audited attempt', async () => {
      const rows = await h.gate.audit.listReviewAttempts(invoiceId);
      return rows.length > 0 && rows;
    });
    assert.deepEqual(
      attempts.map((a) => [a.slackUserId, a.allowed, a.outcome]),
      [[OUTSIDER, false, 'not_allowed']],
    );
    const state = await h.gateState(invoiceId);
    assert.equal(state.status, 'held');
    assert.equal(state.decision, null);
    const invoice = await h.stripe.invoices.retrieve(invoiceId);
    assert.equal(invoice.status, 'draft');
    assert.equal(invoice.auto_advance, false);
    assert.equal((await h.stripeEmulator.admin.requests(`/v1/invoices/${invoiceId}/finalize`)).length, 0);
    assert.equal(
      (await h.slackEmulator.admin.message(alert.channel, alert.ts)).edits.length,
      alert.edits.length,
      'the alert was not edited by the click',
    );
    await h.gate.client.workflow.getHandle(gateWorkflowId(invoiceId)).terminate('test cleanup');
  });

  test('no click ever reached the gate over HTTP', async () => {
    const posted = (await h.slackEmulator.admin.socketMode()).envelopes;
    assert.ok(posted.length >= 2, 'the clicks above went over the socket');
    assert.ok(posted.every((e) => e.type === 'interactive' && e.ackedAt !== undefined));
    // The emulator has no interactivity URL: an HTTP click is refused instead of being posted.
    await assert.rejects(
      h.slackEmulator.admin.click({ channel: CHANNEL, ts: '1.000000', actionId: 'gate_release' }),
      /HTTP 409 .*no_interactivity_url/,
    );
  });
});
