// Modals in the Slack emulator, through the real @slack/bolt over HTTP (ExpressReceiver, which verifies
// signatures as the gate's receiver does): a Release click opens the reason modal with its trigger_id,
// the view_submission is signed like a click, and the app's answer closes, keeps (errors), updates,
// pushes or clears views as on Slack. Also views.open / update / push errors, straight from WebClient.
import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { App, ExpressReceiver, LogLevel } from '@slack/bolt';
import { ErrorCode, WebClient, type WebAPIPlatformError } from '@slack/web-api';
import { SLACK_EMULATOR_DEFAULTS, startSlackEmulator, type SlackEmulator } from '../../../emulators/slack/index';
import {
  eventually,
  RELEASE_CALLBACK_ID,
  registerReleaseModal,
  releaseReasonView,
  type ReleaseModalRecorder,
} from './release-modal-app';

const CHANNEL = SLACK_EMULATOR_DEFAULTS.channelId;
const SIGNING_SECRET = 'modal-test-signing-secret';
/** WebClient logs every platform error; these tests provoke them on purpose. */
const quiet = {
  debug() {},
  info() {},
  warn() {},
  error() {},
  setLevel() {},
  getLevel: () => LogLevel.ERROR,
  setName() {},
};

let emu: SlackEmulator;
let app: App;
let server: Server;
let interactivityUrl: string;
let rec: ReleaseModalRecorder;
let web: WebClient;

before(async () => {
  emu = await startSlackEmulator({ port: 0, signingSecret: SIGNING_SECRET });
  const receiver = new ExpressReceiver({
    signingSecret: SIGNING_SECRET,
    endpoints: '/slack/interactions',
    logLevel: LogLevel.ERROR,
  });
  app = new App({
    token: emu.botToken,
    receiver,
    logLevel: LogLevel.ERROR,
    clientOptions: { slackApiUrl: emu.apiUrl, retryConfig: { retries: 0 } },
  });
  rec = registerReleaseModal(app);
  server = (await app.start(0)) as Server;
  interactivityUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/slack/interactions`;
  web = new WebClient(emu.botToken, { slackApiUrl: emu.apiUrl, retryConfig: { retries: 0 }, logger: quiet });
});
after(async () => {
  await app.stop();
  await emu.stop();
});
beforeEach(async () => {
  await emu.admin.reset();
  await emu.admin.setInteractivityUrl(interactivityUrl);
  rec.opened.length = 0;
  rec.decisions.length = 0;
  rec.submissions.length = 0;
  rec.closed.length = 0;
  rec.stackAnswer = undefined;
});

async function postAlert(invoiceId = 'in_123'): Promise<string> {
  const r = await web.chat.postMessage({
    channel: CHANNEL,
    text: `Invoice ${invoiceId} held`,
    blocks: [
      {
        type: 'actions',
        block_id: 'gate_actions',
        elements: [
          {
            type: 'button',
            action_id: 'gate_release',
            text: { type: 'plain_text', text: 'Release' },
            value: invoiceId,
          },
          {
            type: 'button',
            action_id: 'gate_recount',
            text: { type: 'plain_text', text: 'Recount' },
            value: invoiceId,
          },
        ],
      },
    ],
  });
  return r.ts!;
}

/** A Release click, then the modal the app opened for that user. */
async function clickRelease(userId = 'U0ALICE', invoiceId = 'in_123') {
  const ts = await postAlert(invoiceId);
  const click = await emu.admin.click({ channel: CHANNEL, ts, actionId: 'gate_release', userId });
  assert.equal(click.status, 200);
  const opened = await eventually('views.open', () => rec.opened.at(-1));
  assert.equal(opened.ok, true, opened.error);
  const [view] = await emu.admin.openViews(userId);
  return { click, view };
}

/** A trigger_id nobody has used yet: the one a Recount click carried (its listener opens nothing). */
async function freshTrigger(userId = 'U0ALICE'): Promise<string> {
  const ts = await postAlert();
  const click = await emu.admin.click({ channel: CHANNEL, ts, actionId: 'gate_recount', userId });
  return click.payload.trigger_id as string;
}

async function platformError(p: Promise<unknown>): Promise<WebAPIPlatformError['data']> {
  try {
    await p;
  } catch (e) {
    const err = e as WebAPIPlatformError;
    assert.equal(err.code, ErrorCode.PlatformError);
    return err.data;
  }
  assert.fail('expected a Slack platform error');
}

describe('the release modal over HTTP', () => {
  test("a Release click's trigger_id opens the modal; the submission is the decision, and closes it", async () => {
    const { click, view } = await clickRelease('U0BOB');
    assert.match(view.id, /^V[A-Z0-9]{10}$/);
    assert.equal(view.user_id, 'U0BOB');
    assert.equal(view.callback_id, RELEASE_CALLBACK_ID);
    assert.equal(view.private_metadata, 'in_123');
    assert.deepEqual(view.state, { values: {} });
    assert.match(view.hash, /^\d{10}\.[A-Za-z0-9]{8}$/);
    assert.equal(view.root_view_id, view.id);
    assert.equal(view.previous_view_id, null);
    assert.deepEqual(
      view.blocks.map((b: { block_id: string }) => b.block_id).slice(1),
      ['reason', 'note'],
      'given block ids are kept',
    );
    assert.equal(typeof view.blocks[0].block_id, 'string', 'Slack fills in missing block ids');

    const report = await emu.admin.submitView({
      userId: 'U0BOB',
      callbackId: RELEASE_CALLBACK_ID,
      values: { reason: 'ledger_late', note: 'usage arrived after the cut-off' },
    });
    assert.equal(report.via, 'http');
    assert.equal(report.status, 200);
    assert.equal(report.body, '');
    assert.equal(report.acknowledgedInTime, true);
    assert.equal(report.responseAction, 'close');
    assert.equal(report.viewClosed, true);
    assert.deepEqual(report.openViews, []);
    assert.deepEqual(await emu.admin.openViews(), []);
    assert.deepEqual(rec.decisions, [
      {
        invoiceId: 'in_123',
        reviewer: 'U0BOB',
        reason: 'ledger_late',
        note: 'usage arrived after the cut-off',
        viewId: view.id,
      },
    ]);

    // The payload, as Slack sends a view_submission.
    const p = report.payload;
    assert.equal(p.type, 'view_submission');
    assert.deepEqual(p.team, { id: 'T0GATE', domain: 'invoice-gate' });
    assert.deepEqual(p.user, { id: 'U0BOB', username: 'bob', name: 'bob', team_id: 'T0GATE' });
    assert.equal(p.api_app_id, 'A0GATEAPP');
    assert.equal(p.token, click.payload.token);
    assert.equal(typeof p.trigger_id, 'string');
    assert.notEqual(p.trigger_id, click.payload.trigger_id);
    assert.deepEqual(p.response_urls, []);
    assert.equal(p.view.id, view.id);
    assert.equal(p.view.team_id, 'T0GATE');
    assert.equal(p.view.type, 'modal');
    assert.equal(p.view.callback_id, RELEASE_CALLBACK_ID);
    assert.equal(p.view.private_metadata, 'in_123');
    assert.equal(p.view.hash, view.hash);
    assert.deepEqual(p.view.blocks, view.blocks);
    assert.deepEqual(p.view.state.values, {
      reason: {
        reason: {
          type: 'static_select',
          selected_option: { text: { type: 'plain_text', text: 'The ledger was late' }, value: 'ledger_late' },
        },
      },
      note: { note: { type: 'plain_text_input', value: 'usage arrived after the cut-off' } },
    });
    assert.deepEqual(rec.submissions[0], p, 'Bolt received exactly that payload');
  });

  test("an 'errors' answer keeps the view open with the errors; the corrected submission closes it", async () => {
    const { view } = await clickRelease();
    const refused = await emu.admin.submitView({ viewId: view.id, values: { reason: 'other' } });
    assert.equal(refused.status, 200);
    assert.equal(refused.responseAction, 'errors');
    assert.deepEqual(refused.errors, { note: 'Say why the invoice is released.' });
    assert.equal(refused.unknownErrorBlocks, undefined);
    assert.equal(refused.viewClosed, false);
    assert.equal(refused.openViews.length, 1);
    assert.deepEqual(refused.payload.view.state.values.note, { note: { type: 'plain_text_input', value: null } });
    assert.equal(rec.decisions.length, 0);

    // The user adds a note; the reason chosen before is still selected.
    const accepted = await emu.admin.submitView({ viewId: view.id, values: { note: 'contract signed late' } });
    assert.equal(accepted.responseAction, 'close');
    assert.equal(accepted.payload.view.state.values.reason.reason.selected_option.value, 'other');
    assert.deepEqual(
      rec.decisions.map((d) => [d.reason, d.note]),
      [['other', 'contract signed late']],
    );
  });

  test('a required input left empty is not submitted, as Slack’s client refuses it', async () => {
    const { view } = await clickRelease();
    await assert.rejects(
      emu.admin.submitView({ viewId: view.id, values: { note: 'no reason chosen' } }),
      /HTTP 400 .*required_input_missing.*"reason"/,
    );
    await assert.rejects(
      emu.admin.submitView({ viewId: view.id, values: { reason: 'not_an_option' } }),
      /HTTP 400 .*unknown_option/,
    );
    assert.equal(rec.submissions.length, 0);
    // Raw state values go out verbatim, so an app's own checks can be tested.
    const raw = await emu.admin.submitView({
      viewId: view.id,
      stateValues: { reason: { reason: { type: 'static_select', selected_option: null } } },
    });
    assert.deepEqual(raw.payload.view.state.values, {
      reason: { reason: { type: 'static_select', selected_option: null } },
    });
    assert.equal(rec.decisions[0].reason, undefined);
  });

  test('forged and stale signatures are refused by Bolt; the view stays open', async () => {
    const { view } = await clickRelease();
    for (const signature of ['forged', 'stale'] as const) {
      const r = await emu.admin.submitView({ viewId: view.id, values: { reason: 'stripe_correct' }, signature });
      assert.equal(r.status, 401, signature);
      assert.equal(r.acknowledgedInTime, false);
      assert.equal(r.responseAction, 'none');
      assert.equal(r.viewClosed, false);
    }
    assert.equal(rec.submissions.length, 0);
    assert.equal((await emu.admin.openViews()).length, 1);
  });

  test('cancelling a view with notify_on_close sends view_closed', async () => {
    const { view } = await clickRelease('U0CAROL');
    const r = await emu.admin.closeView({ userId: 'U0CAROL', callbackId: RELEASE_CALLBACK_ID });
    assert.deepEqual(r.closed, [view.id]);
    assert.equal(r.notified, true);
    assert.equal(r.status, 200);
    const closed = await eventually('view_closed', () => rec.closed[0]);
    assert.equal(closed.type, 'view_closed');
    assert.equal(closed.user.id, 'U0CAROL');
    assert.equal(closed.view.id, view.id);
    assert.equal(closed.is_cleared, false);
    assert.deepEqual(await emu.admin.openViews(), []);
    await assert.rejects(emu.admin.submitView({ viewId: view.id, values: { reason: 'other' } }), /view_not_found/);
  });
});

describe('views.open, views.update and views.push', () => {
  test('a trigger_id opens one view, once; a used, unknown or expired one is refused', async () => {
    const trigger = await freshTrigger();
    const opened = await web.views.open({ trigger_id: trigger, view: releaseReasonView('in_1') });
    assert.equal(opened.ok, true);
    assert.equal(opened.view?.private_metadata, 'in_1');
    assert.equal(
      (await platformError(web.views.open({ trigger_id: trigger, view: releaseReasonView('in_1') }))).error,
      'exchanged_trigger_id',
    );
    assert.equal(
      (await platformError(web.views.open({ trigger_id: '1.2.deadbeef', view: releaseReasonView('in_1') }))).error,
      'invalid_trigger_id',
    );

    // Slack's 3 seconds, shortened here by the emulator's triggerTtlMs.
    const quick = await startSlackEmulator({ port: 0, signingSecret: SIGNING_SECRET, triggerTtlMs: 50 });
    try {
      await quick.admin.setInteractivityUrl(interactivityUrl);
      const client = new WebClient(quick.botToken, {
        slackApiUrl: quick.apiUrl,
        retryConfig: { retries: 0 },
        logger: quiet,
      });
      const posted = await client.chat.postMessage({
        channel: CHANNEL,
        text: 'held',
        blocks: [
          {
            type: 'actions',
            elements: [{ type: 'button', action_id: 'gate_recount', text: { type: 'plain_text', text: 'Recount' } }],
          },
        ],
      });
      const click = await quick.admin.click({ channel: CHANNEL, ts: posted.ts!, actionId: 'gate_recount' });
      await new Promise((resolve) => setTimeout(resolve, 80));
      const late = client.views.open({ trigger_id: click.payload.trigger_id as string, view: releaseReasonView('x') });
      assert.equal((await platformError(late)).error, 'expired_trigger_id');
    } finally {
      await quick.stop();
    }
  });

  test('views.open validates the view as Slack does', async () => {
    const trigger = await freshTrigger();
    const invalid = async (view: Record<string, unknown>, pointer: RegExp) => {
      const data = await platformError(web.views.open({ trigger_id: trigger, view: view as never }));
      assert.equal(data.error, 'invalid_arguments');
      assert.ok(
        data.response_metadata?.messages?.some((m) => pointer.test(m)),
        `${pointer} in ${JSON.stringify(data.response_metadata)}`,
      );
    };
    const view = releaseReasonView('in_1') as unknown as Record<string, unknown>;
    await invalid({ ...view, type: 'home' }, /json-pointer:\/view\/type/);
    await invalid({ ...view, title: { type: 'plain_text', text: 'x'.repeat(25) } }, /\/view\/title\/text/);
    await invalid({ ...view, title: undefined }, /\/view\/title\]/);
    await invalid({ ...view, submit: undefined }, /submit is required when an input block is present/);
    await invalid({ ...view, private_metadata: 'x'.repeat(3001) }, /\/view\/private_metadata/);
    await invalid({ ...view, blocks: undefined }, /\/view\/blocks/);
    await invalid(
      { ...view, blocks: [{ type: 'input', label: { type: 'plain_text', text: 'x' } }] },
      /\/view\/blocks\/0\/element/,
    );
    assert.equal(
      (
        await platformError(
          web.views.open({ trigger_id: trigger, view: { ...view, private_metadata: 'x'.repeat(300_000) } as never }),
        )
      ).error,
      'view_too_large',
    );
    // A refused view leaves the trigger unused; exactly 3000 characters of metadata are fine.
    const ok = await web.views.open({
      trigger_id: trigger,
      view: { ...view, private_metadata: 'x'.repeat(3000) } as never,
    });
    assert.equal(ok.view?.private_metadata?.length, 3000);
  });

  test('views.update replaces a view (hash checked); views.push stacks up to 3; answers update, push and clear', async () => {
    const stackView = (title: string) => ({
      type: 'modal' as const,
      callback_id: 'stack_test',
      title: { type: 'plain_text' as const, text: title },
      submit: { type: 'plain_text' as const, text: 'Next' },
      blocks: [
        {
          type: 'input' as const,
          block_id: 'q',
          optional: true,
          label: { type: 'plain_text' as const, text: 'Q' },
          element: { type: 'plain_text_input' as const, action_id: 'a' },
        },
      ],
    });
    const opened = (await web.views.open({ trigger_id: await freshTrigger(), view: stackView('one') })).view!;
    const openedId = opened.id!;
    const stale = opened.hash!;
    const updated = (await web.views.update({ view_id: openedId, hash: stale, view: stackView('one, updated') })).view!;
    assert.equal(updated.id, opened.id);
    assert.notEqual(updated.hash, stale);
    assert.equal(updated.title?.text, 'one, updated');
    assert.equal(
      (await platformError(web.views.update({ view_id: openedId, hash: stale, view: stackView('lost') }))).error,
      'hash_conflict',
    );
    assert.equal(
      (await platformError(web.views.update({ view_id: 'VNOPE', view: stackView('x') }))).error,
      'not_found',
    );

    const second = (await web.views.push({ trigger_id: await freshTrigger(), view: stackView('two') })).view!;
    assert.equal(second.previous_view_id, opened.id);
    assert.equal(second.root_view_id, opened.id);
    const third = (await web.views.push({ trigger_id: await freshTrigger(), view: stackView('three') })).view!;
    assert.equal(
      (await platformError(web.views.push({ trigger_id: await freshTrigger(), view: stackView('four') }))).error,
      'push_limit_reached',
    );
    assert.deepEqual(
      (await emu.admin.openViews('U0ALICE')).map((v) => v.id),
      [opened.id, second.id, third.id],
    );

    // Submitting the top view: 'update' replaces it in place, an empty answer closes only it.
    rec.stackAnswer = { response_action: 'update', view: stackView('three, after update') };
    const u = await emu.admin.submitView({ viewId: third.id, values: { q: 'hello' } });
    assert.equal(u.responseAction, 'update');
    assert.equal(u.viewClosed, false, 'an updated view stays open');
    assert.equal(u.openViews.at(-1)?.title.text, 'three, after update');
    assert.equal(u.openViews.at(-1)?.id, third.id);
    assert.deepEqual(u.openViews.at(-1)?.state.values, { q: { a: { type: 'plain_text_input', value: 'hello' } } });
    rec.stackAnswer = undefined;
    const c = await emu.admin.submitView({ viewId: third.id });
    assert.equal(c.responseAction, 'close');
    assert.deepEqual(
      c.openViews.map((v) => v.id),
      [opened.id, second.id],
    );
    rec.stackAnswer = { response_action: 'push', view: stackView('pushed') };
    const p = await emu.admin.submitView({ viewId: second.id });
    assert.equal(p.responseAction, 'push');
    assert.equal(p.openViews.length, 3);
    rec.stackAnswer = { response_action: 'errors', errors: { nope: 'no such block' } };
    const e = await emu.admin.submitView({ viewId: second.id });
    assert.deepEqual(e.unknownErrorBlocks, ['nope']);
    rec.stackAnswer = { response_action: 'clear' };
    const cleared = await emu.admin.submitView({ viewId: second.id });
    assert.equal(cleared.responseAction, 'clear');
    assert.deepEqual(cleared.openViews, []);
  });
});
