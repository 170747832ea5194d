// The reviewers' run page in a real headless browser (Chromium driven by playwright-core: Debian's, or the
// packaged one, see support/chromium.ts),
// against a real gate on the emulators: a diverging invoice is held, the link is taken from the Slack
// alert and opened; forged and expired links get the 404 page.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium as playwright, type BrowserContext, type Page } from 'playwright-core';
import { SLACK_EMULATOR_DEFAULTS } from '../../emulators/slack';
import { signRunPageLink } from '../../src/run-page/link-signature';
import { chromiumExecutable, type ChromiumExecutable } from '../support/chromium';
import { closePeriod, seedDivergingCustomer, startGateHarness, type GateHarness } from '../support/gate-harness';
import { releaseWithReason } from './slack-release';

// The network is closed here: without these, Chromium keeps trying to reach Google's services.
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
const LINK_SECRET = 'run-page-browser-test-secret-0123456789abcdef';
const REVIEWER = 'U0ALICE';

/** The run page link in a Slack message (mrkdwn `<url|Run page>`). */
function runPageLink(message: { blocks?: unknown[] }): string {
  const match = /<(http[^|>]+)\|Run page>/.exec(JSON.stringify(message.blocks ?? []));
  assert.ok(match, `no run page link in ${JSON.stringify(message.blocks)}`);
  return match[1];
}

describe('the run page in a headless browser', () => {
  let h: GateHarness;
  let browser: BrowserContext;
  let profile: string;
  let page: Page;

  let chromium: ChromiumExecutable;

  before(async () => {
    chromium = await chromiumExecutable();
    profile = mkdtempSync(join(tmpdir(), 'run-page-chromium-'));
    [h, browser] = await Promise.all([
      startGateHarness({ reviewerIds: [REVIEWER], env: { GATE_LINK_SECRET: LINK_SECRET } }),
      playwright.launchPersistentContext(profile, {
        executablePath: chromium.path,
        headless: true,
        args: CHROMIUM_ARGS,
      }),
    ]);
    page = browser.pages()[0] ?? (await browser.newPage());
  });
  after(async () => {
    await browser?.close();
    await h?.stop();
    if (profile) rmSync(profile, { recursive: true, force: true });
  });

  test('the link in the alert opens the page with both counts per line; forged and expired links get a 404', async (t) => {
    t.diagnostic(`browser: ${chromium.description}`);
    const c = await seedDivergingCustomer(h, 'Run Page <script>alert(1)</script> Corp', 120, 100);
    const invoiceId = await closePeriod(h, c.periodEnd, c.customerId);
    const state = await h.waitFor(invoiceId, (s) => s.status === 'held' && s.slackMessage !== null);
    const alert = await h.slackEmulator.admin.message(state.slackMessage!.channel, state.slackMessage!.ts);
    const link = runPageLink(alert);
    assert.ok(link.startsWith(`${h.gate.url}/invoices/${invoiceId}?sig=`), link);

    const response = await page.goto(link);
    assert.equal(response?.status(), 200);
    assert.equal(await page.locator('h1').innerText(), `Invoice ${invoiceId}`);
    const row = page.locator('table.lines tbody tr');
    assert.equal(await row.count(), 1);
    assert.equal(await row.locator('[data-field="stripe-quantity"]').innerText(), '120');
    assert.equal(await row.locator('[data-field="ledger-quantity"]').innerText(), '100');
    assert.match(await row.innerText(), /\+20\b/);
    assert.match(await row.innerText(), /diverges/);
    assert.equal(await page.locator('[data-field="gate-status"]').innerText(), 'held for review');
    assert.equal(await page.locator('[data-field="invoice-status"]').innerText(), 'draft');
    assert.match(await page.locator('#stripe-events').innerText(), /invoice\.created/);
    const stripeLink = page.getByRole('link', { name: 'Invoice in Stripe' });
    assert.equal(await stripeLink.getAttribute('href'), `https://dashboard.stripe.com/test/invoices/${invoiceId}`);
    // The embedded-style harness has no Temporal Web UI: no link that leads nowhere.
    assert.equal(await page.getByRole('link', { name: /in Temporal/ }).count(), 0);

    // A reviewer releases with the button and a reason; the page then shows the click and the decision.
    const { submission } = await releaseWithReason(h.slackEmulator, {
      channel: SLACK_EMULATOR_DEFAULTS.channelId,
      ts: alert.ts,
      userId: REVIEWER,
      reason: 'ledger_late',
      note: 'late batch',
    });
    assert.equal(submission.responseAction, 'close', JSON.stringify(submission.errors));
    await h.decision(invoiceId);
    await page.goto(link);
    assert.match(await page.locator('[data-field="decision"]').innerText(), new RegExp(`${REVIEWER} \\(released\\)`));
    assert.match(await page.locator('#clicks').innerText(), new RegExp(`${REVIEWER}\\s+release\\s+yes\\s+decided`));

    // A forged signature (one hex digit changed), an expired one and one for another invoice: the same 404 page.
    const signature = new URL(link).searchParams.get('sig')!;
    const forged = `${signature.slice(0, -1)}${signature.endsWith('0') ? '1' : '0'}`;
    const expired = signRunPageLink(Buffer.from(LINK_SECRET), invoiceId, Math.floor(Date.now() / 1000) - 60);
    const otherInvoice = signRunPageLink(
      Buffer.from(LINK_SECRET),
      'in_someoneElse',
      Math.floor(Date.now() / 1000) + 600,
    );
    for (const sig of [forged, expired, otherInvoice]) {
      const bad = await page.goto(`${h.gate.url}/invoices/${invoiceId}?sig=${encodeURIComponent(sig)}`);
      assert.equal(bad?.status(), 404, sig);
      assert.equal(await page.locator('h1').innerText(), 'Not found');
      const text = await page.locator('body').innerText();
      assert.doesNotMatch(text, new RegExp(`${invoiceId}|${c.customerId}|120`));
    }
    const unsigned = await page.goto(`${h.gate.url}/invoices/${invoiceId}`);
    assert.equal(unsigned?.status(), 404);
  });

  test('GET / says what the service is and links health, readiness and metrics', async () => {
    const response = await page.goto(`${h.gate.url}/`);
    assert.equal(response?.status(), 200);
    assert.equal(await page.locator('h1').innerText(), 'invoice-gate');
    for (const path of ['/healthz', '/readyz', '/metrics']) {
      assert.equal(await page.getByRole('link', { name: path }).getAttribute('href'), path);
    }
    await page.getByRole('link', { name: '/healthz' }).click();
    assert.match(await page.locator('body').innerText(), /"status":\s*"ok"/);
  });
});
