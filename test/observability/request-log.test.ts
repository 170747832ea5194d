// No log line holds a working run page link signature: not on the run page's route, not on a 404 next
// to it (a trailing slash), not when the parameter name is percent-encoded (`?%73ig=` still opens the
// page), not in the Stripe webhook's own request line.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import Fastify from 'fastify';
import Stripe from 'stripe';
import { runPageRoutes } from '../../src/http/run-page/run-page-routes';
import { stripeWebhook } from '../../src/webhook/stripe-webhook';
import { createLogger } from '../../src/observability/logger';
import { redactLinkSignatures, serializeRequest } from '../../src/observability/request-log';
import { RunPageLinks } from '../../src/run-page/run-page-links';
import { fastifyOptions } from '../../src/server';
import { invoiceRecord } from '../http/run-page/fixtures';

const NOW_MS = Date.parse('2026-11-02T00:00:00Z');
const links = new RunPageLinks({
  key: Buffer.from('request-log-test-secret-request-log-test'),
  publicUrl: 'http://gate.test',
  defaultUrl: 'http://gate.test',
  expiryMs: 3_600_000,
  now: () => NOW_MS,
});
const SIG = new URL(links.urlFor('in_1Page')).searchParams.get('sig')!;
const MAC = SIG.split('.')[1];

describe('request logs', () => {
  const logged: string[] = [];
  let app: ReturnType<typeof Fastify>;

  before(async () => {
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        logged.push(chunk.toString());
        done();
      },
    });
    app = Fastify(fastifyOptions(createLogger({ level: 'trace' }, sink)));
    await app.register(runPageRoutes, {
      verify: (id: string, sig: unknown) => links.verify(id, sig),
      read: async (id: string) => (id === 'in_1Page' ? invoiceRecord() : null),
      livemode: false,
      now: () => new Date(NOW_MS),
    });
    await app.register(stripeWebhook, {
      stripe: new Stripe('sk_test_unused'),
      webhookSecret: 'whsec_request_log_test',
      gates: { startGate: async () => 'started', signalInvoiceEvent: async () => 'signalled' },
      recordEvent: async () => undefined,
    });
  });
  after(() => app?.close());

  test('a working link, however it is spelled and wherever it is sent, is logged without its signature', async () => {
    const encodedName = `/invoices/in_1Page?%73ig=${SIG}`;
    const encodedValue = `/invoices/in_1Page?sig=${SIG.replace('.', '%2E')}`;
    // Both still open the page: they are working links, not harmless noise.
    assert.equal((await app.inject({ method: 'GET', url: encodedName })).statusCode, 200);
    assert.equal((await app.inject({ method: 'GET', url: encodedValue })).statusCode, 200);
    assert.equal((await app.inject({ method: 'GET', url: `/invoices/in_1Page?sig=${SIG}` })).statusCode, 200);
    // A trailing slash is another route: Fastify's 404, logged with the URL in its message.
    assert.equal((await app.inject({ method: 'GET', url: `/invoices/in_1Page/?sig=${SIG}` })).statusCode, 404);
    assert.equal((await app.inject({ method: 'GET', url: `/nowhere?x=1&%73ig=${SIG}` })).statusCode, 404);
    const webhook = await app.inject({ method: 'POST', url: `/webhooks/stripe?sig=${SIG}`, payload: {} });
    assert.equal(webhook.statusCode, 400);

    const text = logged.join('');
    assert.ok(!text.includes(MAC), `a signature reached the log:\n${text}`);
    assert.ok(!text.includes(MAC.slice(0, 32)), 'not even half of it');
    assert.match(text, /"url":"\/invoices\/in_1Page\?%73ig=\[redacted\]"/);
    assert.match(text, /Route GET:\/invoices\/in_1Page\/\?sig=\[redacted\] not found/);
    assert.match(text, /Route GET:\/nowhere\?x=1&%73ig=\[redacted\] not found/);
    assert.match(text, /"url":"\/webhooks\/stripe\?sig=\[redacted\]".*"msg":"stripe webhook answered"/);
  });

  test('other query parameters and paths are logged as they are', () => {
    assert.equal(redactLinkSignatures('/readyz'), '/readyz');
    assert.equal(redactLinkSignatures('/holds?status=held&page=2'), '/holds?status=held&page=2');
    assert.equal(redactLinkSignatures(`/x?a=1&sig=${SIG}&b=2`), '/x?a=1&sig=[redacted]&b=2');
    assert.equal(redactLinkSignatures(`/x?other=${SIG}`), '/x?other=[redacted]');
    assert.equal(redactLinkSignatures(`/x?${SIG}`), '/x?[redacted]');
    assert.equal(redactLinkSignatures('/x?sig=%E0%A4%A'), '/x?sig=[redacted]');
    assert.deepEqual(serializeRequest({ method: 'GET', url: `/invoices/in_1?sig=${SIG}`, ip: '10.0.0.1' }), {
      method: 'GET',
      url: '/invoices/in_1?sig=[redacted]',
      host: undefined,
      remoteAddress: '10.0.0.1',
      remotePort: undefined,
    });
  });
});
