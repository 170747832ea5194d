// The Slack app manifest asks for what the code uses and points interactivity at our route.
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
