// `npm run holds-link` (src/bin/holds-link.ts) as a child process: on a shared key it prints a queue link
// the server's RunPageLinks accepts; on the embedded Stripe emulator without GATE_LINK_SECRET there is no
// key a server would share, and it says so with exit 1 instead of printing a link that cannot open.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { runPageLinkKey } from '../../src/run-page/link-signature';
import { RunPageLinks } from '../../src/run-page/run-page-links';
import { cleanEnvironment, REPO_ROOT } from '../support/gate-process';

const run = (env: Record<string, string>) =>
  promisify(execFile)(process.execPath, ['--import', 'tsx', 'src/bin/holds-link.ts'], {
    cwd: REPO_ROOT,
    env: cleanEnvironment(env),
  });

test('prints a link to /holds signed with the key derived from STRIPE_SECRET_KEY, valid for GATE_LINK_EXPIRY', async () => {
  const secretKey = 'sk_test_holdslink0123456789abcdefghijklmnop';
  const before = Date.now();
  const { stdout } = await run({
    STRIPE_SECRET_KEY: secretKey,
    GATE_LINK_EXPIRY: '2h',
    HOST: '127.0.0.1',
    PORT: '4123',
  });
  const link = new URL(stdout.trim());
  assert.equal(`${link.origin}${link.pathname}`, 'http://127.0.0.1:4123/holds');
  const sig = link.searchParams.get('sig')!;
  const expiresAt = Number(sig.split('.')[0]);
  assert.ok(expiresAt * 1000 >= before + 2 * 3_600_000 - 1000 && expiresAt * 1000 <= Date.now() + 2 * 3_600_000);
  const server = (now: number) =>
    new RunPageLinks({
      key: runPageLinkKey({ linkSecret: undefined, stripeSecretKey: secretKey, stripeEmbedded: false }),
      publicUrl: undefined,
      defaultUrl: 'http://127.0.0.1:4123',
      expiryMs: 1000,
      now: () => now,
    });
  assert.equal(server(Date.now()).verifyHolds(sig), true);
  assert.equal(server(expiresAt * 1000 + 1000).verifyHolds(sig), false, 'expired');
});

test('GATE_PUBLIC_URL is the base; without a shared key it refuses with exit 1', async () => {
  const { stdout } = await run({
    GATE_LINK_SECRET: 'holds-link-test-secret-0123456789abcdef',
    GATE_PUBLIC_URL: 'https://ops.example.com/invoice-gate',
  });
  assert.match(stdout, /^https:\/\/ops\.example\.com\/invoice-gate\/holds\?sig=\d+\.[0-9a-f]{64}\n$/);

  await assert.rejects(run({}), (error: { code?: number; stderr?: string }) => {
    assert.equal(error.code, 1);
    assert.match(error.stderr ?? '', /no shared link key: set GATE_LINK_SECRET/);
    return true;
  });
});
