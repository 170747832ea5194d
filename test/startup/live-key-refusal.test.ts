// `npm start` with a live Stripe key refuses the embedded Temporal engine and database before it
// starts anything, and GATE_ALLOW_EMBEDDED=1 lets it through.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..');
const START = join(ROOT, 'src', 'bin', 'start.ts');
const TSX = join(ROOT, 'node_modules', 'tsx', 'dist', 'loader.mjs');

/** The environment without anything that configures a service, plus `env`. */
function environment(env: Record<string, string>): NodeJS.ProcessEnv {
  const clean = { ...process.env };
  for (const name of Object.keys(clean))
    if (/^(DATABASE_URL|LEDGER_DATABASE_URL|TEMPORAL_|STRIPE_|SLACK_|GATE_|INVOICE_GATE_CONFIG|PORT$)/.test(name))
      delete clean[name];
  return { ...clean, ...env };
}

const live = { STRIPE_SECRET_KEY: 'sk_live_notarealkey', STRIPE_WEBHOOK_SECRET: 'whsec_notarealsecret' };

test('a live Stripe key on the embedded Temporal engine and database: refused, naming both variables', () => {
  // A scratch working directory: no .env of the developer's, no .data/ touched.
  const cwd = mkdtempSync(join(tmpdir(), 'gate-live-'));
  try {
    const result = spawnSync(process.execPath, ['--import', TSX, START], {
      cwd,
      env: environment(live),
      encoding: 'utf8',
      timeout: 60_000,
    });
    assert.equal(result.status, 1, result.stderr);
    assert.match(result.stderr, /Live Stripe key on embedded services/);
    assert.match(result.stderr, /TEMPORAL_ADDRESS: must be set/);
    assert.match(result.stderr, /DATABASE_URL: must be set/);
    assert.match(result.stderr, /GATE_ALLOW_EMBEDDED=1/);
    assert.doesNotMatch(result.stderr + result.stdout, /notarealkey/);
    assert.doesNotMatch(result.stdout, /starting invoice-gate/);
  } finally {
    rmSync(cwd, { recursive: true, force: true });
  }
});

test('GATE_ALLOW_EMBEDDED=1 lets the same configuration start', { timeout: 90_000 }, async () => {
  const cwd = mkdtempSync(join(tmpdir(), 'gate-live-'));
  // Temporal on a closed port and Slack configured: nothing listens on a well-known port; the
  // process gets past the check, logs its start and is stopped there.
  const child = spawn(process.execPath, ['--import', TSX, START], {
    cwd,
    env: environment({
      ...live,
      GATE_ALLOW_EMBEDDED: '1',
      TEMPORAL_ADDRESS: '127.0.0.1:1',
      STRIPE_API_URL: 'http://127.0.0.1:1',
      SLACK_BOT_TOKEN: 'xoxb-test',
      SLACK_SIGNING_SECRET: 'signing-secret',
      SLACK_CHANNEL_ID: 'C0TEST',
      SLACK_API_URL: 'http://127.0.0.1:1/api/',
      PORT: '0',
    }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stderr.on('data', (chunk) => (stderr += chunk));
  try {
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (chunk) => {
        stdout += chunk;
        if (stdout.includes('starting invoice-gate')) resolve();
      });
      child.on('exit', (code) => reject(new Error(`exited ${code} before starting\n${stdout}\n${stderr}`)));
    });
    assert.doesNotMatch(stderr, /invalid configuration/);
    assert.match(stdout, /"allowEmbedded":true/);
  } finally {
    child.kill('SIGKILL');
    rmSync(cwd, { recursive: true, force: true });
  }
});
