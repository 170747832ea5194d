// The review queue in a real headless browser (support/chromium.ts) against a real gate on the
// emulators: `npm run holds-link`'s entry point prints the link, a held invoice is listed with a link to
// its run page, the filter form narrows the list, unsigned and forged links get the 404 page, and the
// hold gauges on /metrics move as the hold comes and goes (held, then recounted once the ledger caught up).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { chromium as playwright, type BrowserContext, type Page } from 'playwright-core';
import { SLACK_EMULATOR_DEFAULTS } from '../../emulators/slack';
import { chromiumExecutable } from '../support/chromium';
import { closePeriod, seedDivergingCustomer, startGateHarness, type GateHarness } from '../support/gate-harness';
import { cleanEnvironment, REPO_ROOT } from '../support/gate-process';

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
const LINK_SECRET = 'holds-browser-test-secret-0123456789abcdef';
const REVIEWER = 'U0ALICE';

/** What `npm run holds-link` prints, on the gate's link secret and public address. */
async function holdsLink(publicUrl: string): Promise<string> {
  const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', 'src/bin/holds-link.ts'], {
    cwd: REPO_ROOT,
    env: cleanEnvironment({ GATE_LINK_SECRET: LINK_SECRET, GATE_PUBLIC_URL: publicUrl, GATE_LINK_EXPIRY: '10m' }),
  });
  return stdout.trim();
}

async function gauge(url: string, sample: string): Promise<number | undefined> {
  const body = await (await fetch(`${url}/metrics`)).text();
  const line = body.split('\n').find((l) => l.startsWith(`${sample} `));
  return line === undefined ? undefined : Number(line.slice(sample.length + 1));
}

describe('the review queue in a headless browser', () => {
  let h: GateHarness;
  let browser: BrowserContext;
  let profile: string;
  let page: Page;

  before(async () => {
    const chromium = await chromiumExecutable();
    profile = mkdtempSync(join(tmpdir(), 'holds-chromium-'));
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

  test('a held invoice is listed, and leaves the queue and the gauges once decided', async () => {
    assert.equal(await gauge(h.gate.url, 'invoice_gate_held_invoices{status="held"}'), 0);
    const link = await holdsLink(h.gate.url);
    assert.ok(link.startsWith(`${h.gate.url}/holds?sig=`), link);

    const c = await seedDivergingCustomer(h, 'Queue <b>Corp</b>', 120, 100);
    const invoiceId = await closePeriod(h, c.periodEnd, c.customerId);
    const state = await h.waitFor(invoiceId, (s) => s.status === 'held' && s.slackMessage !== null);
    assert.equal(await gauge(h.gate.url, 'invoice_gate_held_invoices{status="held"}'), 1);
    const age = await gauge(h.gate.url, 'invoice_gate_oldest_hold_age_seconds{status="held"}');
    assert.ok(age !== undefined && age >= 0 && age < 600, `oldest hold age ${age}`);
    assert.ok((await gauge(h.gate.url, 'invoice_gate_held_money_minor{currency="usd"}'))! > 0, 'money at stake');

    const response = await page.goto(link);
    assert.equal(response?.status(), 200);
    assert.equal(await page.locator('h1').innerText(), 'Review queue');
    const row = page.locator(`#holds tbody tr[data-invoice-id="${invoiceId}"]`);
    assert.equal(await row.count(), 1);
    assert.equal(await row.locator('[data-field="status"]').innerText(), 'held for review');
    assert.equal(await row.locator('[data-field="customer"]').innerText(), c.customerId);
    assert.match(await row.locator('[data-field="money"]').innerText(), /^USD \d/);
    assert.match(await row.locator('[data-field="age"]').innerText(), /min/);
    assert.equal(await row.locator('[data-field="first-approver"]').innerText(), '–');

    // The filter form keeps the signature: another customer shows nothing, this one its invoice.
    await page.locator('input[name="customer"]').fill('cus_nobody');
    await page.getByRole('button', { name: 'Filter' }).click();
    await page.waitForURL(/customer=cus_nobody/);
    assert.equal(await page.locator('#summary').innerText(), 'Nothing waits for a reviewer.');
    await page.locator('input[name="customer"]').fill(c.customerId);
    await page.locator('select[name="status"]').selectOption('held');
    await page.getByRole('button', { name: 'Filter' }).click();
    await page.waitForURL(new RegExp(`customer=${c.customerId}`));
    assert.equal(await page.locator('#holds tbody tr').count(), 1);

    // The CSV link carries the signature and the filter.
    const csv = await page.request.get(
      new URL((await page.locator('#csv-link').getAttribute('href'))!, page.url()).href,
    );
    assert.equal(csv.status(), 200);
    assert.match(await csv.text(), new RegExp(`^${invoiceId},${c.customerId},held,`, 'm'));

    // The invoice link opens its run page.
    await row.getByRole('link', { name: invoiceId }).click();
    await page.waitForURL(new RegExp(`/invoices/${invoiceId}\\?sig=`));
    assert.equal(await page.locator('h1').innerText(), `Invoice ${invoiceId}`);

    // Unsigned and forged links: the 404 page, which names nothing.
    const signature = new URL(link).searchParams.get('sig')!;
    const forged = `${signature.slice(0, -1)}${signature.endsWith('0') ? '1' : '0'}`;
    for (const bad of [`${h.gate.url}/holds`, `${h.gate.url}/holds?sig=${forged}`, `${h.gate.url}/holds.csv`]) {
      const res = await page.goto(bad);
      assert.equal(res?.status(), 404, bad);
      assert.doesNotMatch(await page.locator('body').innerText(), new RegExp(invoiceId));
    }

    // The ledger catches up and a reviewer recounts: the gate releases it itself, the queue is empty
    // and the gauges are back to 0. (A recount, not a release: it needs no reason, on either Slack flow.)
    await h.addLedgerEvents(c.customerId, c.eventName, c.usage.slice(100));
    await h.slackEmulator.admin.click({
      channel: SLACK_EMULATOR_DEFAULTS.channelId,
      ts: state.slackMessage!.ts,
      actionId: 'gate_recount',
      userId: REVIEWER,
    });
    await h.waitFor(invoiceId, (s) => s.status === 'auto_released');
    let held: number | undefined;
    for (let i = 0; i < 50 && (held = await gauge(h.gate.url, 'invoice_gate_held_invoices{status="held"}')) !== 0; i++)
      await new Promise((r) => setTimeout(r, 100));
    assert.equal(held, 0, 'the audit records the decision');
    assert.equal(await gauge(h.gate.url, 'invoice_gate_held_money_minor{currency="usd"}'), undefined);
    await page.goto(link);
    assert.equal(await page.locator('#summary').innerText(), 'Nothing waits for a reviewer.');
  });
});
