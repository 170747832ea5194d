import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import Fastify from 'fastify';
import { homePage } from '../../../src/http/home-page';
import { runPageRoutes } from '../../../src/http/run-page/run-page-routes';
import { signRunPageLink } from '../../../src/run-page/link-signature';
import { RunPageLinks } from '../../../src/run-page/run-page-links';
import { createLogger } from '../../../src/observability/logger';
import { fastifyOptions } from '../../../src/server';
import { invoiceRecord } from './fixtures';

const KEY = Buffer.from('route-test-secret-route-test-secret-0123');
const NOW_MS = Date.parse('2026-11-02T00:00:00Z');
const NOW = NOW_MS / 1000;

// The gate's own logger and log controller: they keep the signature out of the request log.
const buildApp = (sink: Writable) => Fastify(fastifyOptions(createLogger({ level: 'info' }, sink)));

describe('GET /invoices/:invoiceId', () => {
  let app: ReturnType<typeof buildApp>;
  const logLines: string[] = [];
  const links = new RunPageLinks({
    key: KEY,
    publicUrl: 'http://gate.test',
    defaultUrl: 'http://gate.test',
    expiryMs: 3_600_000,
    now: () => NOW_MS,
  });
  const reads: string[] = [];

  before(async () => {
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        logLines.push(chunk.toString());
        done();
      },
    });
    app = buildApp(sink);
    await app.register(homePage);
    await app.register(runPageRoutes, {
      verify: (id, sig) => links.verify(id, sig),
      read: async (id) => {
        reads.push(id);
        return id === 'in_1Page' ? invoiceRecord() : null;
      },
      livemode: false,
      now: () => new Date(NOW_MS),
    });
  });
  after(async () => {
    await app?.close();
  });

  const get = (url: string) => app.inject({ method: 'GET', url });
  const path = (link: string) => new URL(link).pathname + new URL(link).search;

  test('a signed link answers the page, uncached, with no script allowed and no referrer sent on', async () => {
    const res = await get(path(links.urlFor('in_1Page')));
    assert.equal(res.statusCode, 200);
    assert.match(res.headers['content-type'] as string, /^text\/html; charset=utf-8/);
    assert.match(res.body, /data-field="stripe-quantity">1,200</);
    assert.equal(res.headers['cache-control'], 'no-store');
    assert.equal(res.headers['referrer-policy'], 'no-referrer');
    const csp = res.headers['content-security-policy'] as string;
    assert.match(csp, /default-src 'none'/);
    assert.match(csp, /style-src 'sha256-[A-Za-z0-9+/=]+'/);
    assert.doesNotMatch(csp, /script-src|unsafe-inline/);
  });

  test("no, forged, expired or another invoice's signature, an unknown invoice, a bad id: the same 404", async () => {
    const good = new URL(links.urlFor('in_1Page')).searchParams.get('sig')!;
    const forged = `${good.slice(0, -1)}${good.endsWith('0') ? '1' : '0'}`;
    const expired = signRunPageLink(KEY, 'in_1Page', NOW - 1);
    const tamperedExpiry = `${NOW + 999_999}.${good.split('.')[1]}`;
    const otherInvoice = new URL(links.urlFor('in_1Other')).searchParams.get('sig')!;
    const unknown = path(links.urlFor('in_1Unknown'));
    const urls = [
      '/invoices/in_1Page',
      `/invoices/in_1Page?sig=${forged}`,
      `/invoices/in_1Page?sig=${expired}`,
      `/invoices/in_1Page?sig=${tamperedExpiry}`,
      `/invoices/in_1Page?sig=${otherInvoice}`,
      `/invoices/in_1Page?sig=${good}&sig=${good}`,
      unknown,
      `/invoices/cus_1Page?sig=${signRunPageLink(KEY, 'cus_1Page', NOW + 60)}`,
      `/invoices/in_..%2Fx?sig=${signRunPageLink(KEY, 'in_../x', NOW + 60)}`,
    ];
    const bodies = new Set<string>();
    reads.length = 0;
    for (const url of urls) {
      const res = await get(url);
      assert.equal(res.statusCode, 404, url);
      assert.match(res.headers['content-type'] as string, /^text\/html/);
      bodies.add(res.body);
    }
    assert.equal(bodies.size, 1, 'every refusal looks the same');
    assert.deepEqual(reads, ['in_1Unknown'], 'only a correctly signed link reaches the database');
  });

  test('the signature never reaches the log', async () => {
    const link = path(links.urlFor('in_1Page'));
    const sig = new URL(link, 'http://x').searchParams.get('sig')!;
    logLines.length = 0;
    await get(link);
    await get(`/invoices/in_1Page?sig=${sig.slice(0, -1)}0`);
    const logged = logLines.join('');
    assert.match(logged, /\/invoices\/in_1Page\?sig=\[redacted\]/);
    assert.ok(!logged.includes(sig.split('.')[1].slice(0, 20)), logged);
  });

  test('GET / says what the service is and links health, readiness and metrics', async () => {
    const res = await get('/');
    assert.equal(res.statusCode, 200);
    assert.match(res.headers['content-type'] as string, /^text\/html/);
    assert.match(res.body, /<h1>invoice-gate<\/h1>/);
    for (const p of ['/healthz', '/readyz', '/metrics']) assert.match(res.body, new RegExp(`<a href="${p}">`));
  });
});
