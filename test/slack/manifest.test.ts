// The Slack app manifests ask for what the code uses; the HTTP one points interactivity at our route,
// the Socket Mode one has no request URL and says how to get the app-level token.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';

test('slack-app-manifest.yml: bot scopes, bot user, interactivity URL', () => {
  const m = parse(readFileSync(join(__dirname, '../../slack-app-manifest.yml'), 'utf8')) as {
    features: { bot_user: { display_name: string } };
    oauth_config: { scopes: { bot: string[] } };
    settings: { interactivity: { is_enabled: boolean; request_url: string }; socket_mode_enabled: boolean };
  };
  for (const scope of ['chat:write', 'users:read', 'channels:read'])
    assert.ok(m.oauth_config.scopes.bot.includes(scope), scope);
  assert.equal(m.features.bot_user.display_name, 'invoice-gate');
  assert.equal(m.settings.interactivity.is_enabled, true);
  assert.match(m.settings.interactivity.request_url, /^https:\/\/[^/]+\/slack\/interactions$/);
  assert.equal(m.settings.socket_mode_enabled, false);
});

test('slack-app-manifest.socket-mode.yml: the same bot, Socket Mode on, no request URL, connections:write documented', () => {
  const text = readFileSync(join(__dirname, '../../slack-app-manifest.socket-mode.yml'), 'utf8');
  const http = parse(readFileSync(join(__dirname, '../../slack-app-manifest.yml'), 'utf8')) as Record<string, any>;
  const m = parse(text) as Record<string, any>;
  assert.deepEqual(m.oauth_config, http.oauth_config, 'the same bot scopes');
  assert.deepEqual(m.features, http.features);
  assert.equal(m.settings.socket_mode_enabled, true);
  assert.equal(m.settings.interactivity.is_enabled, true);
  assert.equal(m.settings.interactivity.request_url, undefined);
  assert.doesNotMatch(text, /YOUR_HOST|request_url:/);
  assert.match(text, /connections:write/);
  assert.match(text, /SLACK_APP_TOKEN/);
});
