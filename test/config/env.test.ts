import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, describeConfig, loadConfig, parseConfig, redactUrl } from '../../src/config/env';
import { formatDuration, parseDuration } from '../../src/config/duration';

function configError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof ConfigError, `expected ConfigError, got ${String(err)}`);
    return err;
  }
  assert.fail('expected a ConfigError');
}

test('an empty environment gives the contract defaults and leaves services unset', () => {
  const c = parseConfig({});
  assert.equal(c.port, 3000);
  assert.equal(c.host, '127.0.0.1');
  assert.equal(c.databaseUrl, undefined);
  assert.equal(c.ledgerDatabaseUrl, undefined);
  assert.deepEqual(c.temporal, {
    address: undefined,
    namespace: 'default',
    taskQueue: 'invoice-gate',
    apiKey: undefined,
    tlsCert: undefined,
    tlsKey: undefined,
    uiUrl: undefined,
    maxCachedWorkflows: undefined,
  });
  assert.deepEqual(c.stripe, {
    secretKey: undefined,
    webhookSecret: undefined,
    thinWebhookSecret: undefined,
    apiUrl: undefined,
    maxRequestsPerSecond: undefined,
  });
  assert.equal(c.meterErrorsAction, 'hold');
  assert.deepEqual(c.slack.reviewerIds, []);
  assert.equal(c.slack.botToken, undefined);
  assert.deepEqual(c.tolerance, { pct: '1', abs: '0' });
  assert.equal(c.gateConfigPath, undefined);
  assert.deepEqual(c.reminder, { afterMs: 4 * 3_600_000, everyMs: 24 * 3_600_000 });
  assert.equal(c.logLevel, 'info');
  assert.deepEqual(c.runPage, { linkSecret: undefined, publicUrl: undefined, linkExpiryMs: 30 * 86_400_000 });
});

test('the run page settings: link secret (never logged), public URL, link expiry', () => {
  const c = parseConfig({
    GATE_LINK_SECRET: 'a'.repeat(40),
    GATE_PUBLIC_URL: 'https://gate.example.com',
    GATE_LINK_EXPIRY: '7d',
  });
  assert.deepEqual(c.runPage, {
    linkSecret: 'a'.repeat(40),
    publicUrl: 'https://gate.example.com',
    linkExpiryMs: 7 * 86_400_000,
  });
  assert.ok(!JSON.stringify(describeConfig(c)).includes('a'.repeat(40)));
  const error = configError(() =>
    parseConfig({ GATE_LINK_SECRET: 'short', GATE_PUBLIC_URL: 'gate.example.com', GATE_LINK_EXPIRY: 'soon' }),
  );
  assert.deepEqual(error.issues.map((i) => i.variable).sort(), [
    'GATE_LINK_EXPIRY',
    'GATE_LINK_SECRET',
    'GATE_PUBLIC_URL',
  ]);
});

test('every variable is read', () => {
  const c = parseConfig({
    PORT: '8080',
    HOST: '0.0.0.0',
    DATABASE_URL: 'postgres://gate:pw@db:5432/gate',
    LEDGER_DATABASE_URL: 'postgresql://ro@replica/ledger',
    TEMPORAL_ADDRESS: 'ns.acct.tmprl.cloud:7233',
    TEMPORAL_NAMESPACE: 'ns.acct',
    TEMPORAL_TASK_QUEUE: 'gate-q',
    TEMPORAL_API_KEY: 'tk',
    TEMPORAL_TLS_CERT: '/certs/client.pem',
    TEMPORAL_TLS_KEY: '/certs/client.key',
    TEMPORAL_UI_URL: 'https://cloud.temporal.io/namespaces/ns.acct',
    STRIPE_SECRET_KEY: 'sk_test_abc',
    STRIPE_WEBHOOK_SECRET: 'whsec_abc',
    STRIPE_API_URL: 'http://127.0.0.1:12111',
    SLACK_BOT_TOKEN: 'xoxb-1-2',
    SLACK_SIGNING_SECRET: 'sign',
    SLACK_CHANNEL_ID: 'C0123',
    SLACK_API_URL: 'http://127.0.0.1:12112/api/',
    SLACK_REVIEWER_IDS: ' U1 , U2,,U1 ',
    GATE_TOLERANCE_PCT: '2.5',
    GATE_TOLERANCE_ABS: '10',
    INVOICE_GATE_CONFIG: './gate.json',
    GATE_REMINDER_AFTER: '30m',
    GATE_REMINDER_EVERY: '1d',
    LOG_LEVEL: 'DEBUG',
  });
  assert.equal(c.port, 8080);
  assert.equal(c.host, '0.0.0.0');
  assert.equal(c.databaseUrl, 'postgres://gate:pw@db:5432/gate');
  assert.equal(c.ledgerDatabaseUrl, 'postgresql://ro@replica/ledger');
  assert.equal(c.temporal.address, 'ns.acct.tmprl.cloud:7233');
  assert.equal(c.temporal.namespace, 'ns.acct');
  assert.equal(c.temporal.taskQueue, 'gate-q');
  assert.equal(c.temporal.tlsKey, '/certs/client.key');
  assert.equal(c.stripe.apiUrl, 'http://127.0.0.1:12111');
  assert.equal(c.slack.channelId, 'C0123');
  assert.deepEqual(c.slack.reviewerIds, ['U1', 'U2']);
  assert.deepEqual(c.tolerance, { pct: '2.5', abs: '10' });
  assert.equal(c.gateConfigPath, './gate.json');
  assert.deepEqual(c.reminder, { afterMs: 1_800_000, everyMs: 86_400_000 });
  assert.equal(c.logLevel, 'debug');
});

test('STRIPE_THIN_WEBHOOK_SECRET and GATE_METER_ERRORS_ACTION', () => {
  const c = parseConfig({ STRIPE_THIN_WEBHOOK_SECRET: 'whsec_thin', GATE_METER_ERRORS_ACTION: 'Alert' });
  assert.equal(c.stripe.thinWebhookSecret, 'whsec_thin');
  assert.equal(c.meterErrorsAction, 'alert');
  assert.equal(parseConfig({ GATE_METER_ERRORS_ACTION: 'off' }).meterErrorsAction, 'off');
  assert.ok(!JSON.stringify(describeConfig(c)).includes('whsec_thin'), 'the secret is never described');
  const error = configError(() =>
    parseConfig({ STRIPE_THIN_WEBHOOK_SECRET: 'thin', GATE_METER_ERRORS_ACTION: 'pause' }),
  );
  assert.deepEqual(error.issues.map((i) => i.variable).sort(), [
    'GATE_METER_ERRORS_ACTION',
    'STRIPE_THIN_WEBHOOK_SECRET',
  ]);
});

test('empty values count as unset', () => {
  const c = parseConfig({ PORT: '', DATABASE_URL: '  ', SLACK_REVIEWER_IDS: '' });
  assert.equal(c.port, 3000);
  assert.equal(c.databaseUrl, undefined);
  assert.deepEqual(c.slack.reviewerIds, []);
});

test('the error names every bad variable and why', () => {
  const err = configError(() =>
    parseConfig({
      PORT: 'eighty',
      DATABASE_URL: 'mysql://x',
      GATE_TOLERANCE_PCT: '-1',
      GATE_TOLERANCE_ABS: '1e3',
      GATE_REMINDER_AFTER: 'soon',
      LOG_LEVEL: 'verbose',
      STRIPE_API_URL: 'not a url',
      SLACK_REVIEWER_IDS: 'U1,<@U2>',
    }),
  );
  const vars = err.issues.map((i) => i.variable).sort();
  assert.deepEqual(vars, [
    'DATABASE_URL',
    'GATE_REMINDER_AFTER',
    'GATE_TOLERANCE_ABS',
    'GATE_TOLERANCE_PCT',
    'LOG_LEVEL',
    'PORT',
    'SLACK_REVIEWER_IDS',
    'STRIPE_API_URL',
  ]);
  assert.match(err.message, /PORT: must be a whole number/);
  assert.match(err.message, /DATABASE_URL: must be a postgres:\/\//);
  assert.match(err.message, /GATE_TOLERANCE_PCT: must be a non-negative decimal/);
  assert.match(err.message, /GATE_REMINDER_AFTER: must be a positive duration/);
  assert.match(err.message, /SLACK_REVIEWER_IDS: .*<@U2>/);
  assert.match(err.message, /LOG_LEVEL: must be one of/);
});

test('port range and mTLS pairs are checked', () => {
  assert.deepEqual(
    configError(() => parseConfig({ PORT: '70000' })).issues.map((i) => i.variable),
    ['PORT'],
  );
  const tls = configError(() => parseConfig({ TEMPORAL_TLS_CERT: '/c.pem' }));
  assert.deepEqual(
    tls.issues.map((i) => i.variable),
    ['TEMPORAL_TLS_KEY'],
  );
  assert.equal(parseConfig({ PORT: '0' }).port, 0);
});

test('TEMPORAL_MAX_CACHED_WORKFLOWS: 0 (no cache) or at least 2, as the SDK accepts', () => {
  assert.equal(parseConfig({ TEMPORAL_MAX_CACHED_WORKFLOWS: '250' }).temporal.maxCachedWorkflows, 250);
  assert.equal(parseConfig({ TEMPORAL_MAX_CACHED_WORKFLOWS: '0' }).temporal.maxCachedWorkflows, 0);
  for (const bad of ['1', '-5', '2.5', 'many']) {
    const error = configError(() => parseConfig({ TEMPORAL_MAX_CACHED_WORKFLOWS: bad }));
    assert.deepEqual(
      error.issues.map((i) => i.variable),
      ['TEMPORAL_MAX_CACHED_WORKFLOWS'],
      bad,
    );
  }
});

test('durations: units, compounds and plain milliseconds', () => {
  assert.equal(parseDuration('4h'), 14_400_000);
  assert.equal(parseDuration('30m'), 1_800_000);
  assert.equal(parseDuration('90s'), 90_000);
  assert.equal(parseDuration('1d'), 86_400_000);
  assert.equal(parseDuration('1h30m'), 5_400_000);
  assert.equal(parseDuration('250ms'), 250);
  assert.equal(parseDuration('1.5h'), 5_400_000);
  assert.equal(parseDuration('60000'), 60_000);
  for (const bad of ['', '0', '0s', '-5m', '4 hours', 'h', '5w', '1h-']) assert.equal(parseDuration(bad), null, bad);
  assert.equal(parseConfig({ GATE_REMINDER_EVERY: '90s' }).reminder.everyMs, 90_000);
  assert.equal(formatDuration(5_400_000), '1h30m');
  assert.equal(formatDuration(86_400_000), '1d');
});

test('describeConfig redacts every secret and database password', () => {
  const c = parseConfig({
    DATABASE_URL: 'postgres://gate:hunter2@db:5432/gate?sslpassword=topsecret',
    LEDGER_DATABASE_URL: 'postgres://ro:ledgerpw@replica/ledger',
    TEMPORAL_API_KEY: 'temporal-key-value',
    TEMPORAL_TLS_CERT: '-----BEGIN CERTIFICATE-----\nAAA\n-----END CERTIFICATE-----',
    TEMPORAL_TLS_KEY: '-----BEGIN PRIVATE KEY-----\nprivatekeybytes\n-----END PRIVATE KEY-----',
    STRIPE_SECRET_KEY: 'sk_live_supersecretvalue',
    STRIPE_WEBHOOK_SECRET: 'whsec_webhooksecretvalue',
    SLACK_BOT_TOKEN: 'xoxb-bot-token-value',
    SLACK_SIGNING_SECRET: 'signingsecretvalue',
    SLACK_REVIEWER_IDS: 'U1',
  });
  const text = JSON.stringify(describeConfig(c));
  for (const secret of [
    'hunter2',
    'topsecret',
    'ledgerpw',
    'temporal-key-value',
    'privatekeybytes',
    'supersecretvalue',
    'webhooksecretvalue',
    'bot-token-value',
    'signingsecretvalue',
  ]) {
    assert.ok(!text.includes(secret), `${secret} leaked: ${text}`);
  }
  const d = describeConfig(c) as any;
  assert.equal(d.stripe.secretKey, 'sk_live_***');
  assert.equal(d.slack.signingSecret, '***');
  assert.match(d.database, /^postgres:\/\/gate:\*\*\*@db:5432\/gate/);
  assert.deepEqual(d.slack.reviewerIds, ['U1']);
  assert.equal(describeConfig(parseConfig({})).database, 'embedded PGlite');
  assert.equal((describeConfig(parseConfig({})) as any).stripe.secretKey, 'unset');
  assert.equal(redactUrl('postgres://u@h/db'), 'postgres://u@h/db');
});

test('loadConfig reads .env without overriding the real environment', () => {
  const dir = mkdtempSync(join(tmpdir(), 'gate-env-'));
  const path = join(dir, '.env');
  writeFileSync(path, 'PORT=4000\nHOST=0.0.0.0\nSLACK_REVIEWER_IDS=U9\n');
  const before = { PORT: process.env.PORT, HOST: process.env.HOST, SLACK_REVIEWER_IDS: process.env.SLACK_REVIEWER_IDS };
  const c = loadConfig({ PORT: '5000' }, { dotenvPath: path });
  assert.equal(c.port, 5000);
  assert.equal(c.host, '0.0.0.0');
  assert.deepEqual(c.slack.reviewerIds, ['U9']);
  assert.deepEqual(
    { PORT: process.env.PORT, HOST: process.env.HOST, SLACK_REVIEWER_IDS: process.env.SLACK_REVIEWER_IDS },
    before,
    'process.env is not modified',
  );
  assert.equal(loadConfig({}, { dotenvPath: join(dir, 'missing.env') }).port, 3000);
  assert.equal(loadConfig({}, { dotenvPath: false }).port, 3000);
});

test('GATE_TOLERANCE_MONEY adds a money limit in minor units; unset, there is none', () => {
  assert.equal('money' in parseConfig({}).tolerance, false);
  assert.deepEqual(parseConfig({ GATE_TOLERANCE_MONEY: '2500' }).tolerance, { pct: '1', abs: '0', money: '2500' });
  assert.deepEqual(parseConfig({ GATE_TOLERANCE_MONEY: '0.5' }).tolerance.money, '0.5');
  for (const bad of ['-1', '1e3', 'USD 10']) {
    const err = configError(() => parseConfig({ GATE_TOLERANCE_MONEY: bad }));
    assert.match(err.message, /GATE_TOLERANCE_MONEY: must be a non-negative decimal/);
  }
});

test('GATE_HISTORY_JUMP and GATE_HISTORY_ACTION: 5x and alert by default, off, and clear errors', () => {
  assert.deepEqual(parseConfig({}).history, { jump: '5', action: 'alert' });
  assert.deepEqual(parseConfig({ GATE_HISTORY_JUMP: '10x', GATE_HISTORY_ACTION: 'HOLD' }).history, {
    jump: '10',
    action: 'hold',
  });
  assert.deepEqual(parseConfig({ GATE_HISTORY_JUMP: 'off' }).history, { jump: null, action: 'alert' });
  assert.deepEqual(describeConfig(parseConfig({ GATE_HISTORY_JUMP: '2.5' })).history, {
    jump: '2.5x',
    action: 'alert',
  });
  const err = configError(() => parseConfig({ GATE_HISTORY_JUMP: '1x', GATE_HISTORY_ACTION: 'pause' }));
  assert.deepEqual(err.issues.map((i) => i.variable).sort(), ['GATE_HISTORY_ACTION', 'GATE_HISTORY_JUMP']);
});
