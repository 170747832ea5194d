// `npm run build` makes a dist/ that runs on its own: the compiled server answers /healthz, the
// compiled worker starts from the prebuilt workflow bundle (no webpack at start), and both exit 0 on
// SIGTERM. Built into a scratch directory under .data/ (ignored everywhere), so the developer's own
// dist/ is untouched; node_modules resolves from the repository as it does for dist/.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { startTemporalEmulator, type TemporalEmulator } from '../../emulators/temporal';
import { PREBUILT_WORKFLOW_BUNDLE } from '../../src/worker';
import { createScratchDatabase, REPO_ROOT, startGateProcess } from '../support/gate-process';

const OUT_DIR = join(REPO_ROOT, '.data', `build-test-${randomBytes(4).toString('hex')}`);
// tsc over src/ and emulators/ plus webpack: about 30 s of CPU, minutes on a busy shared machine.
const BUILD_TIME_LIMIT_MS = 360_000;

let temporal: TemporalEmulator;
let database: { url: string; drop(): Promise<void> };
before(async () => {
  [temporal, database] = await Promise.all([startTemporalEmulator({ port: 0 }), createScratchDatabase('gate_build')]);
});
after(async () => {
  await temporal?.stop();
  await database?.drop();
  rmSync(OUT_DIR, { recursive: true, force: true });
});

const services = () => ({
  DATABASE_URL: database.url,
  TEMPORAL_ADDRESS: temporal.address,
  TEMPORAL_TASK_QUEUE: 'invoice-gate-build-test',
  STRIPE_SECRET_KEY: 'sk_test_build',
  STRIPE_WEBHOOK_SECRET: 'whsec_build',
  STRIPE_API_URL: 'http://127.0.0.1:1',
  SLACK_BOT_TOKEN: 'xoxb-build',
  SLACK_SIGNING_SECRET: 'build-signing-secret',
  SLACK_CHANNEL_ID: 'C0BUILD',
  SLACK_API_URL: 'http://127.0.0.1:1/api/',
  GATE_SWEEP_EVERY: 'off',
});

test(
  'npm run build compiles src/ and emulators/, prebuilds the workflow bundle and records the sources',
  { timeout: BUILD_TIME_LIMIT_MS + 10_000 },
  () => {
    const build = spawnSync(process.execPath, ['scripts/build.mjs', '--out-dir', OUT_DIR], {
      cwd: REPO_ROOT,
      encoding: 'utf8',
      timeout: BUILD_TIME_LIMIT_MS,
    });
    assert.equal(build.status, 0, `${build.stdout}\n${build.stderr}`);
    for (const file of ['src/bin/start.js', 'src/bin/server.js', 'src/bin/worker.js', 'emulators/temporal/index.js'])
      assert.ok(existsSync(join(OUT_DIR, file)), file);
    const bundle = readFileSync(join(OUT_DIR, 'src', PREBUILT_WORKFLOW_BUNDLE), 'utf8');
    assert.match(bundle, /invoiceGate/);
    const info = JSON.parse(readFileSync(join(OUT_DIR, 'build-info.json'), 'utf8')) as Record<string, string>;
    assert.match(info.sourceFingerprint, /^[0-9a-f]{64}$/);
    assert.ok(!Number.isNaN(Date.parse(info.builtAt)));
  },
);

test(
  'the compiled server answers /healthz and the compiled worker runs the prebuilt bundle; both exit 0 on SIGTERM',
  { timeout: 150_000 },
  async () => {
    assert.ok(existsSync(join(OUT_DIR, 'build-info.json')), 'the build test above must pass first');
    const server = startGateProcess([join(OUT_DIR, 'src/bin/server.js')], { ...services(), PORT: '0' });
    const worker = startGateProcess([join(OUT_DIR, 'src/bin/worker.js')], services());
    try {
      const url = await server.waitForUrl(90_000);
      const health = await fetch(`${url}/healthz`);
      assert.equal(health.status, 200);
      await worker.waitForLine(/"msg":"worker started"/, 90_000);
      assert.doesNotMatch(worker.output(), /bundl/i, 'the compiled worker must not bundle at start');

      server.child.kill('SIGTERM');
      worker.child.kill('SIGTERM');
      assert.deepEqual(await server.exited, { code: 0, signal: null }, server.output());
      assert.deepEqual(await worker.exited, { code: 0, signal: null }, worker.output());
      assert.match(worker.output(), /"state":"STOPPED"/);
    } finally {
      server.child.kill('SIGKILL');
      worker.child.kill('SIGKILL');
    }
  },
);
