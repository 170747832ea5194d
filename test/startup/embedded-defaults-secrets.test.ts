// `npm start` on its embedded defaults (nothing configured): the emulators it runs get secrets of this
// process, never the public constants of emulators/*/defaults.ts, and run page links are signed with a
// random key. A click signed with the Slack emulator's default secret and a link forged from the Stripe
// emulator's default key, with an expiry years away, are both refused. The wiring is npm start's
// (resolveServices in-process, createGateContext, startServer), on random ports so tests run in parallel.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { SLACK_EMULATOR_DEFAULTS, signSlackRequest } from '../../emulators/slack';
import { STRIPE_EMULATOR_DEFAULTS } from '../../emulators/stripe/defaults';
import { parseConfig } from '../../src/config/env';
import { createGateContext, type GateContext } from '../../src/context';
import { createLogger } from '../../src/observability/logger';
import { runPageLinkKey, signRunPageLink } from '../../src/run-page/link-signature';
import { startServer } from '../../src/server';
import { resolveServices, type ResolvedServices } from '../../src/services/resolve-services';

const dataDir = mkdtempSync(join(tmpdir(), 'gate-embedded-secrets-'));
const logged: string[] = [];
let services: ResolvedServices;
let context: GateContext;
let url: string;

before(async () => {
  const config = parseConfig({ PORT: '0', LOG_LEVEL: 'info', GATE_SWEEP_EVERY: 'off', GATE_DIGEST_AT: 'off' });
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      logged.push(chunk.toString());
      done();
    },
  });
  const logger = createLogger({ level: 'info' }, sink);
  services = await resolveServices(config, { emulators: 'in-process', ports: 'random', serves: true });
  logger.info({ embedded: services.notes }, 'embedded defaults in use for what is not configured');
  context = await createGateContext({ config, services, logger, database: { dataDir } });
  url = await startServer(context);
});

after(async () => {
  await context?.stop();
  await services?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

const click = (signingSecret: string) => {
  const body = `payload=${encodeURIComponent(JSON.stringify({ type: 'block_actions', actions: [] }))}`;
  const timestamp = Math.floor(Date.now() / 1000);
  return fetch(`${url}/slack/interactions`, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      'x-slack-request-timestamp': String(timestamp),
      'x-slack-signature': signSlackRequest(signingSecret, timestamp, body),
    },
    body,
  });
};

test('the emulators run on secrets of this process, shown once in the start-up log', () => {
  assert.equal(services.slack.embedded, true);
  assert.equal(services.stripe.embedded, true);
  assert.notEqual(services.slack.signingSecret, SLACK_EMULATOR_DEFAULTS.signingSecret);
  assert.notEqual(services.slack.botToken, SLACK_EMULATOR_DEFAULTS.botToken);
  assert.notEqual(services.stripe.secretKey, STRIPE_EMULATOR_DEFAULTS.apiKey);
  assert.match(services.stripe.secretKey, /^sk_test_emulator_[0-9a-f]{48}$/);
  const log = logged.join('');
  for (const secret of [services.slack.signingSecret, services.slack.botToken, services.stripe.secretKey]) {
    assert.equal(log.split(secret).length - 1, 1, `${secret} is shown exactly once`);
  }
  assert.match(log, /run page links are signed with a random key of this process/);
});

test("a click signed with the Slack emulator's public default secret is refused", async () => {
  const forged = await click(SLACK_EMULATOR_DEFAULTS.signingSecret);
  assert.equal(forged.status, 401);
  // The same request signed with this process's secret gets past verification.
  const genuine = await click(services.slack.signingSecret);
  assert.notEqual(genuine.status, 401);
});

test("a run page link forged from the Stripe emulator's public key is refused", async () => {
  const invoiceId = 'in_1ForgedLink';
  const publicKey = runPageLinkKey({
    linkSecret: undefined,
    stripeSecretKey: STRIPE_EMULATOR_DEFAULTS.apiKey,
    stripeEmbedded: false,
  });
  const farAway = Math.floor(Date.now() / 1000) + 10 * 365 * 86_400;
  const forged = await fetch(`${url}/invoices/${invoiceId}?sig=${signRunPageLink(publicKey, invoiceId, farAway)}`);
  assert.equal(forged.status, 404);
  // This process's own link gets past the signature (and finds no such invoice: the same 404 page),
  // so check the signature itself with the links the worker would put in Slack.
  const own = new URL(context.runPageLinks.urlFor(invoiceId)).searchParams.get('sig');
  assert.equal(context.runPageLinks.verify(invoiceId, own), true);
  assert.equal(context.runPageLinks.verify(invoiceId, signRunPageLink(publicKey, invoiceId, farAway)), false);
});
