// A process configured for real services never loads the emulators: src/ reaches emulators/ only
// through src/services/embedded-emulators.ts, imported when a service is left unset.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { parseConfig } from '../../src/config/env';
import { resolveServices } from '../../src/services/resolve-services';

const ROOT = join(__dirname, '..', '..');

test('loading the server, the worker and the start-up wiring loads nothing from emulators/', () => {
  const script = `
    for (const m of ['./src/command-line', './src/context', './src/server', './src/worker', './src/services/resolve-services']) require(m);
    process.stdout.write(JSON.stringify(Object.keys(require.cache).filter((k) => k.includes('/emulators/') || k.includes('/node_modules/@electric-sql/'))));
  `;
  const result = spawnSync(process.execPath, ['--import', 'tsx', '-e', script], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 30_000,
  });
  assert.equal(result.status, 0, result.stderr);
  assert.deepEqual(JSON.parse(result.stdout), []);
});

const configured = {
  DATABASE_URL: 'postgres://gate@db.internal/gate',
  TEMPORAL_ADDRESS: 'temporal.internal:7233',
  STRIPE_SECRET_KEY: 'sk_live_configured',
  SLACK_BOT_TOKEN: 'xoxb-configured',
  SLACK_SIGNING_SECRET: 'configured-signing-secret',
  SLACK_CHANNEL_ID: 'C0CONFIGURED',
};

test('with every service configured, nothing is embedded and the webhook secret is the configured one', async () => {
  const services = await resolveServices(parseConfig({ ...configured, STRIPE_WEBHOOK_SECRET: 'whsec_configured' }), {
    emulators: 'in-process',
    serves: true,
  });
  assert.deepEqual(services.notes, []);
  assert.equal(services.stripe.webhookSecret, 'whsec_configured');
  assert.deepEqual(
    [services.temporal.embedded, services.stripe.embedded, services.slack.embedded],
    [false, false, false],
  );
  await services.serverListening('http://127.0.0.1:3000');
  await services.stop();
});

test('a server on real Stripe without STRIPE_WEBHOOK_SECRET refuses to start; a worker does not need it', async () => {
  await assert.rejects(
    resolveServices(parseConfig(configured), { emulators: 'external', serves: true }),
    /STRIPE_WEBHOOK_SECRET is required/,
  );
  const worker = await resolveServices(parseConfig(configured), { emulators: 'external', serves: false });
  assert.equal(worker.stripe.webhookSecret, undefined);
  await worker.stop();
});
