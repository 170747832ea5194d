// SLACK_APP_TOKEN: an app-level token (xapp-...) switches Slack interactivity to Socket Mode.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, describeConfig, parseConfig } from '../../src/config/env';

test('unset (or empty): HTTP interactivity', () => {
  assert.equal(parseConfig({}).slack.appToken, undefined);
  assert.equal(parseConfig({ SLACK_APP_TOKEN: '  ' }).slack.appToken, undefined);
  assert.equal((describeConfig(parseConfig({})) as any).slack.interactivity, 'POST /slack/interactions');
});

test('an xapp- token is taken (trimmed)', () => {
  const config = parseConfig({ SLACK_APP_TOKEN: ' xapp-1-A0123-456-abcdef ' });
  assert.equal(config.slack.appToken, 'xapp-1-A0123-456-abcdef');
});

test('a bot, user or signing secret in its place is refused, naming the variable', () => {
  for (const wrong of ['xoxb-1-2-3', 'xoxp-1-2', 'abc123', 'xapp-', 'xapp-with space']) {
    assert.throws(
      () => parseConfig({ SLACK_APP_TOKEN: wrong }),
      (error: unknown) =>
        error instanceof ConfigError &&
        error.issues.some((i) => i.variable === 'SLACK_APP_TOKEN' && /app-level token \(xapp-/.test(i.message)),
      wrong,
    );
  }
});

test('the token never appears in the described configuration', () => {
  const token = 'xapp-1-A0123-456-verysecretvalue';
  const described = describeConfig(parseConfig({ SLACK_APP_TOKEN: token })) as any;
  assert.doesNotMatch(JSON.stringify(described), /verysecretvalue/);
  assert.equal(described.slack.appToken, 'xapp-***');
  assert.equal(described.slack.interactivity, 'socket mode');
});
