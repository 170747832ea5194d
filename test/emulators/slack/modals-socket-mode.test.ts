// The release modal over Socket Mode, through the real @slack/bolt (SocketModeReceiver): the click and
// the view_submission arrive as `interactive` envelopes, and the app's answer travels in the ack's
// payload, which the emulator applies as Slack does.
import { after, before, beforeEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { App, LogLevel, SocketModeReceiver } from '@slack/bolt';
import { WebClient } from '@slack/web-api';
import { SLACK_EMULATOR_DEFAULTS, startSlackEmulator, type SlackEmulator } from '../../../emulators/slack/index';
import { eventually, RELEASE_CALLBACK_ID, registerReleaseModal, type ReleaseModalRecorder } from './release-modal-app';

const CHANNEL = SLACK_EMULATOR_DEFAULTS.channelId;

let emu: SlackEmulator;
let app: App;
let rec: ReleaseModalRecorder;

before(async () => {
  emu = await startSlackEmulator({ port: 0, socketMode: true });
  const receiver = new SocketModeReceiver({
    appToken: emu.appToken,
    logLevel: LogLevel.ERROR,
    installerOptions: { clientOptions: { slackApiUrl: emu.apiUrl } },
  });
  app = new App({
    token: emu.botToken,
    receiver,
    logLevel: LogLevel.ERROR,
    clientOptions: { slackApiUrl: emu.apiUrl, retryConfig: { retries: 0 } },
  });
  rec = registerReleaseModal(app);
  await app.start();
  await eventually('a socket connection', async () => (await emu.admin.socketMode()).connections.length > 0);
});
after(async () => {
  await app.stop();
  await emu.stop();
});
beforeEach(async () => {
  await emu.admin.reset();
  rec.opened.length = 0;
  rec.decisions.length = 0;
  rec.submissions.length = 0;
  rec.closed.length = 0;
});

async function openReleaseModal(userId: string) {
  const web = new WebClient(emu.botToken, { slackApiUrl: emu.apiUrl });
  const posted = await web.chat.postMessage({
    channel: CHANNEL,
    text: 'Invoice in_9 held',
    blocks: [
      {
        type: 'actions',
        elements: [
          { type: 'button', action_id: 'gate_release', text: { type: 'plain_text', text: 'Release' }, value: 'in_9' },
        ],
      },
    ],
  });
  const click = await emu.admin.clickOverSocket({ channel: CHANNEL, ts: posted.ts!, actionId: 'gate_release', userId });
  assert.equal(click.acked, true);
  const opened = await eventually('views.open', () => rec.opened.at(-1));
  assert.equal(opened.ok, true, opened.error);
  return (await emu.admin.openViews(userId))[0];
}

test('a Release click over the socket opens the modal; its submission goes over the socket and closes it', async () => {
  const view = await openReleaseModal('U0CAROL');
  assert.equal(view.callback_id, RELEASE_CALLBACK_ID);
  assert.equal(view.private_metadata, 'in_9');

  const report = await emu.admin.submitView({ viewId: view.id, values: { reason: 'contract_exception' } });
  assert.equal(report.via, 'socket');
  assert.equal(report.acked, true);
  assert.equal(report.attempts, 1);
  assert.equal(report.acknowledgedInTime, true);
  assert.equal(report.responseAction, 'close');
  assert.equal(report.viewClosed, true);
  assert.deepEqual(await emu.admin.openViews(), []);
  assert.deepEqual(
    rec.decisions.map((d) => [d.invoiceId, d.reviewer, d.reason, d.note]),
    [['in_9', 'U0CAROL', 'contract_exception', undefined]],
  );
  const envelope = (await emu.admin.socketMode()).envelopes.at(-1)!;
  assert.equal(envelope.type, 'interactive');
  assert.deepEqual(envelope.payload, report.payload);
  assert.equal(report.payload.type, 'view_submission');
  assert.deepEqual(report.payload.view.state.values.note, { note: { type: 'plain_text_input', value: null } });
});

test("an 'errors' ack payload keeps the view open; view_closed arrives over the socket", async () => {
  const view = await openReleaseModal('U0ALICE');
  const refused = await emu.admin.submitView({ viewId: view.id, values: { reason: 'other' } });
  assert.equal(refused.acked, true);
  assert.deepEqual(refused.ackPayload, {
    response_action: 'errors',
    errors: { note: 'Say why the invoice is released.' },
  });
  assert.equal(refused.responseAction, 'errors');
  assert.equal(refused.viewClosed, false);
  assert.equal((await emu.admin.openViews('U0ALICE')).length, 1);
  assert.equal(rec.decisions.length, 0);

  const closed = await emu.admin.closeView({ viewId: view.id });
  assert.equal(closed.via, 'socket');
  assert.equal(closed.notified, true);
  assert.equal(closed.acked, true);
  const body = await eventually('view_closed', () => rec.closed[0]);
  assert.equal(body.view.id, view.id);
  assert.deepEqual(await emu.admin.openViews(), []);
});
