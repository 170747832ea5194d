// Which Slack transport start-up picks: HTTP unless SLACK_APP_TOKEN is set, on Slack and on the
// embedded emulator alike; in Socket Mode no signing secret is needed and no interactivity URL is set.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { WebClient } from '@slack/web-api';
import { parseConfig } from '../../src/config/env';
import { resolveServices } from '../../src/services/resolve-services';

const APP_TOKEN = 'xapp-1-A0GATEAPP-1-startup-test';
const otherServices = {
  DATABASE_URL: 'postgres://gate@db.internal/gate',
  TEMPORAL_ADDRESS: 'temporal.internal:7233',
  STRIPE_SECRET_KEY: 'sk_test_configured',
  STRIPE_WEBHOOK_SECRET: 'whsec_configured',
};

test('Slack with SLACK_APP_TOKEN needs no signing secret; without it the signing secret is required', async () => {
  const slack = { SLACK_BOT_TOKEN: 'xoxb-configured', SLACK_CHANNEL_ID: 'C0CONFIGURED' };
  const services = await resolveServices(parseConfig({ ...otherServices, ...slack, SLACK_APP_TOKEN: APP_TOKEN }), {
    emulators: 'external',
    serves: true,
  });
  assert.equal(services.slack.appToken, APP_TOKEN);
  assert.equal(services.slack.embedded, false);
  await services.stop();
  await assert.rejects(
    resolveServices(parseConfig({ ...otherServices, ...slack }), { emulators: 'external', serves: true }),
    /SLACK_SIGNING_SECRET and SLACK_CHANNEL_ID are required/,
  );
});

test('embedded Slack: HTTP by default, the interactivity URL set once the server listens', async () => {
  const services = await resolveServices(parseConfig(otherServices), {
    emulators: 'in-process',
    ports: 'random',
    serves: true,
  });
  try {
    assert.equal(services.slack.appToken, undefined);
    await services.serverListening('http://127.0.0.1:3999');
    const info = (await (await fetch(`${services.slack.apiUrl!.replace(/\/api\/$/, '')}/_emulator/info`)).json()) as {
      interactivityUrl: string | null;
      socketMode: boolean;
    };
    assert.equal(info.interactivityUrl, 'http://127.0.0.1:3999/slack/interactions');
    assert.equal(info.socketMode, false);
  } finally {
    await services.stop();
  }
});

test('embedded Slack with SLACK_APP_TOKEN: the emulator takes that token, Socket Mode on, no interactivity URL', async () => {
  const services = await resolveServices(parseConfig({ ...otherServices, SLACK_APP_TOKEN: APP_TOKEN }), {
    emulators: 'in-process',
    ports: 'random',
    serves: true,
  });
  try {
    assert.equal(services.slack.appToken, APP_TOKEN);
    assert.ok(
      services.notes.some((n) => /Slack: emulator .*Socket Mode/.test(n)),
      services.notes.join('\n'),
    );
    await services.serverListening('http://127.0.0.1:3999');
    const opened = await new WebClient(APP_TOKEN, { slackApiUrl: services.slack.apiUrl }).apps.connections.open();
    assert.match(opened.url ?? '', /^ws:\/\//);
    const info = (await (await fetch(`${services.slack.apiUrl!.replace(/\/api\/$/, '')}/_emulator/info`)).json()) as {
      interactivityUrl: string | null;
      socketMode: boolean;
    };
    assert.equal(info.interactivityUrl, null);
    assert.equal(info.socketMode, true);
  } finally {
    await services.stop();
  }
});
