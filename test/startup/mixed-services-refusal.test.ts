// `npm start` with Stripe, Temporal and the database configured but Slack forgotten: refused before it
// starts anything (no Slack emulator whose secret would verify clicks for a real Stripe account), naming
// the Slack variables; the split commands refuse the same way.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cleanEnvironment, REPO_ROOT, TSX_LOADER } from '../support/gate-process';

const partlyConfigured = {
  // Nothing listens on these: a process that got past the check would fail on them, not start.
  TEMPORAL_ADDRESS: '127.0.0.1:1',
  DATABASE_URL: 'postgres://gate@127.0.0.1:1/gate',
  STRIPE_SECRET_KEY: 'sk_test_partly',
  STRIPE_WEBHOOK_SECRET: 'whsec_partly',
  PORT: '0',
};

for (const entry of ['start', 'server', 'worker']) {
  test(`npm ${entry === 'start' ? 'start' : `run ${entry}`} with every service but Slack: refused, naming the Slack variables`, () => {
    // A scratch working directory: no .env of the developer's, no .data/ touched.
    const cwd = mkdtempSync(join(tmpdir(), 'gate-mixed-'));
    try {
      const result = spawnSync(
        process.execPath,
        ['--import', TSX_LOADER, join(REPO_ROOT, 'src', 'bin', `${entry}.ts`)],
        {
          cwd,
          env: cleanEnvironment(partlyConfigured),
          encoding: 'utf8',
          timeout: 60_000,
        },
      );
      assert.equal(result.status, 1, result.stderr);
      assert.match(result.stderr, /Embedded and real services mixed/);
      assert.match(result.stderr, /SLACK_BOT_TOKEN: must be set \(with SLACK_SIGNING_SECRET and SLACK_CHANNEL_ID\)/);
      assert.doesNotMatch(result.stderr, /TEMPORAL_ADDRESS: must be set|DATABASE_URL: must be set/);
      assert.doesNotMatch(result.stdout, /starting invoice-gate/);
    } finally {
      rmSync(cwd, { recursive: true, force: true });
    }
  });
}
