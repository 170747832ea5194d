import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { STRIPE_EMULATOR_DEFAULTS } from '../../emulators/stripe/defaults';
import { linkKeyOrigin, runPageLinkKey, signRunPageLink, verifyRunPageLink } from '../../src/run-page/link-signature';
import { RunPageLinks } from '../../src/run-page/run-page-links';

const KEY = Buffer.from('a-test-link-secret-of-at-least-32-characters');
const NOW = 1_800_000_000;
const INVOICE = 'in_1RunPage';

describe('run page link signatures', () => {
  const valid = signRunPageLink(KEY, INVOICE, NOW + 3600);

  test('a signature opens its invoice until it expires', () => {
    assert.match(valid, /^1800003600\.[0-9a-f]{64}$/);
    assert.equal(verifyRunPageLink(KEY, INVOICE, valid, NOW), true);
    assert.equal(verifyRunPageLink(KEY, INVOICE, valid, NOW + 3599), true);
  });

  test('expired: at and after its expiry', () => {
    assert.equal(verifyRunPageLink(KEY, INVOICE, valid, NOW + 3600), false);
    assert.equal(verifyRunPageLink(KEY, INVOICE, valid, NOW + 86_400), false);
  });

  test('another invoice: the same signature opens nothing else', () => {
    assert.equal(verifyRunPageLink(KEY, 'in_1Other', valid, NOW), false);
    assert.equal(verifyRunPageLink(KEY, `${INVOICE}x`, valid, NOW), false);
  });

  test('a tampered expiry (a later one with the old MAC) is refused', () => {
    const mac = valid.split('.')[1];
    assert.equal(verifyRunPageLink(KEY, INVOICE, `${NOW + 999_999}.${mac}`, NOW), false);
    assert.equal(verifyRunPageLink(KEY, INVOICE, `0${valid}`, NOW), true, 'the same number, written with a leading 0');
  });

  test('forged: another key, a changed digit, or a guess', () => {
    assert.equal(verifyRunPageLink(Buffer.from('another-key'), INVOICE, valid, NOW), false);
    const flipped = `${valid.slice(0, -1)}${valid.endsWith('0') ? '1' : '0'}`;
    assert.equal(verifyRunPageLink(KEY, INVOICE, flipped, NOW), false);
    assert.equal(verifyRunPageLink(KEY, INVOICE, `${NOW + 3600}.${'0'.repeat(64)}`, NOW), false);
  });

  test('malformed values are refused, never thrown on', () => {
    for (const bad of [
      undefined,
      null,
      '',
      ['a', 'b'],
      42,
      valid.toUpperCase(),
      valid.slice(0, -2),
      `${valid}00`,
      `-1.${valid.split('.')[1]}`,
      valid.replace('.', ''),
    ]) {
      assert.equal(verifyRunPageLink(KEY, INVOICE, bad, NOW), false, JSON.stringify(bad));
    }
  });

  test('signing refuses an expiry that is not positive whole seconds', () => {
    assert.throws(() => signRunPageLink(KEY, INVOICE, 1.5), RangeError);
    assert.throws(() => signRunPageLink(KEY, INVOICE, 0), RangeError);
  });
});

describe('runPageLinkKey', () => {
  test('GATE_LINK_SECRET when configured', () => {
    assert.deepEqual(
      runPageLinkKey({ linkSecret: 'configured-secret', stripeSecretKey: 'sk_test_x', stripeEmbedded: true }),
      Buffer.from('configured-secret'),
    );
  });

  test('else derived one-way from the Stripe secret key: stable, and not the key itself', () => {
    const derived = runPageLinkKey({ linkSecret: undefined, stripeSecretKey: 'sk_test_abc', stripeEmbedded: false });
    assert.deepEqual(
      derived,
      runPageLinkKey({ linkSecret: undefined, stripeSecretKey: 'sk_test_abc', stripeEmbedded: false }),
    );
    assert.notDeepEqual(
      derived,
      runPageLinkKey({ linkSecret: undefined, stripeSecretKey: 'sk_test_abd', stripeEmbedded: false }),
    );
    assert.ok(!derived.toString('latin1').includes('sk_test_abc'));
    assert.equal(derived.length, 32);
    // A plain HMAC of the invoice under the Stripe key (no derivation) would not verify.
    const undervied = createHmac('sha256', 'sk_test_abc')
      .update(`${INVOICE}\n${NOW + 60}`)
      .digest('hex');
    assert.equal(verifyRunPageLink(derived, INVOICE, `${NOW + 60}.${undervied}`, NOW), false);
  });

  test('on the Stripe emulator: random for each process, so a link forged from the public key never opens', () => {
    const embedded = { linkSecret: undefined, stripeSecretKey: STRIPE_EMULATOR_DEFAULTS.apiKey, stripeEmbedded: true };
    assert.equal(linkKeyOrigin(embedded), 'random');
    const key = runPageLinkKey(embedded);
    assert.equal(key.length, 32);
    assert.notDeepEqual(key, runPageLinkKey(embedded), 'another process, another key');
    // What an attacker derives from the repository's emulator key, with an expiry years away.
    const publicKey = runPageLinkKey({ ...embedded, stripeEmbedded: false });
    const forged = signRunPageLink(publicKey, INVOICE, NOW + 10 * 365 * 86_400);
    assert.equal(verifyRunPageLink(key, INVOICE, forged, NOW), false);
    assert.equal(verifyRunPageLink(key, INVOICE, signRunPageLink(key, INVOICE, NOW + 60), NOW), true);
    // GATE_LINK_SECRET still wins, also on the emulator (a split server and worker share it).
    assert.equal(linkKeyOrigin({ ...embedded, linkSecret: 'x'.repeat(32) }), 'link-secret');
  });
});

describe('RunPageLinks', () => {
  const options = { key: KEY, defaultUrl: 'http://127.0.0.1:3000', expiryMs: 30 * 86_400_000, now: () => NOW * 1000 };

  test('links go to the public URL (a path prefix kept) and expire after the configured time', () => {
    const links = new RunPageLinks({ ...options, publicUrl: 'https://gate.example.com/billing/' });
    const url = new URL(links.urlFor(INVOICE));
    assert.equal(`${url.origin}${url.pathname}`, `https://gate.example.com/billing/invoices/${INVOICE}`);
    assert.deepEqual([...url.searchParams.keys()], ['sig']);
    assert.equal(url.searchParams.get('sig')!.split('.')[0], String(NOW + 30 * 86_400));
    assert.equal(links.verify(INVOICE, url.searchParams.get('sig')), true);
    links.serverListening('http://127.0.0.1:45678');
    assert.match(links.urlFor(INVOICE), /^https:\/\/gate\.example\.com\/billing\/invoices\//, 'the public URL wins');
  });

  test("without a public URL: HOST:PORT, then the server's real address once it listens", () => {
    const links = new RunPageLinks({ ...options, publicUrl: undefined });
    assert.match(links.urlFor(INVOICE), /^http:\/\/127\.0\.0\.1:3000\/invoices\/in_1RunPage\?sig=\d+\.[0-9a-f]{64}$/);
    links.serverListening('http://127.0.0.1:45678');
    assert.match(links.urlFor(INVOICE), /^http:\/\/127\.0\.0\.1:45678\/invoices\/in_1RunPage\?sig=/);
  });

  test('a link stops working once its expiry passes on the clock', () => {
    let now = NOW * 1000;
    const links = new RunPageLinks({ ...options, publicUrl: undefined, expiryMs: 60_000, now: () => now });
    const sig = new URL(links.urlFor(INVOICE)).searchParams.get('sig');
    now += 59_000;
    assert.equal(links.verify(INVOICE, sig), true);
    now += 1_000;
    assert.equal(links.verify(INVOICE, sig), false);
  });
});
