// `npm run backfill` end to end: the real command (a child process) against the Stripe emulator holding
// three months of finalized invoices (some diverging, one of 300 lines, decimal quantities, two
// currencies), a PostgreSQL ledger and the Temporal emulator. The CSV and the summary are checked
// against values computed here from what was seeded; the run is killed midway and resumed on a fresh
// engine without repeating a line; and nothing but GETs ever reaches Stripe.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Decimal from 'decimal.js';
import { Client as PgClient } from 'pg';
import { startStripeEmulator, type StripeJson } from '../../emulators/stripe';
import { startTemporalEmulator, type TemporalEmulator } from '../../emulators/temporal';
import { BACKFILL_CSV_COLUMNS } from '../../src/backfill/csv';
import { formatBackfillSummary, type BackfillSummary } from '../../src/backfill/summary';
import { createDatabase, ensureDefaultLedgerTable, migrateToLatest } from '../../src/db';
import { createStripeClient } from '../../src/stripe/client';
import { quantityOf, seedThreeMonths, usageKey, type SeededAccount } from '../support/backfill-seed';

const ADMIN_URL = process.env.TEST_DATABASE_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const REPO = join(__dirname, '..', '..');

async function createTestDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `backfill_e2e_${randomBytes(6).toString('hex')}`;
  const admin = new PgClient({ connectionString: ADMIN_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(ADMIN_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const again = new PgClient({ connectionString: ADMIN_URL });
      await again.connect();
      await again.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await again.end();
    },
  };
}

interface Cli {
  child: ChildProcess;
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>;
}

function runCli(args: string[], env: Record<string, string>): Cli {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/bin/backfill.ts', ...args], {
    cwd: REPO,
    env: { ...process.env, LOG_LEVEL: 'silent', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>(
    (resolve) => child.on('exit', (code, signal) => resolve({ code, signal, stdout, stderr })),
  );
  return { child, exit };
}

const day = (unixSeconds: number) => new Date(unixSeconds * 1000).toISOString().slice(0, 10);
const iso = (unixSeconds: number) => new Date(unixSeconds * 1000).toISOString().replace('.000Z', 'Z');

/** The CSV rows the report must hold, computed from the seed: Stripe's quantities are what the meters got. */
function expectedRows(
  seed: SeededAccount,
  invoices: StripeJson[],
  filter: (invoice: StripeJson) => boolean = () => true,
): string[][] {
  const rows: Array<{ created: number; invoiceId: string; position: number; row: string[] }> = [];
  for (const invoice of invoices.filter(filter)) {
    let position = 0;
    for (const line of invoice.lines.data as StripeJson[]) {
      const priceId = line.pricing?.price_details?.price;
      const price = seed.prices.get(typeof priceId === 'string' ? priceId : priceId?.id);
      if (!price) continue;
      const usage = seed.usage.get(
        usageKey({ customerId: invoice.customer, eventName: price.eventName, periodStart: line.period.start }),
      ) ?? { stripe: [], ledger: [] };
      const stripeQty = quantityOf(price.formula, usage.stripe);
      const ledgerQty = quantityOf(price.formula, usage.ledger);
      const diff = stripeQty.minus(ledgerQty);
      // Default tolerance: 1 % of the ledger, and never billing usage the ledger does not have.
      const passed = !(ledgerQty.isZero() && stripeQty.gt(0)) && diff.abs().lte(ledgerQty.abs().div(100));
      rows.push({
        created: invoice.created,
        invoiceId: invoice.id,
        position: position++,
        row: [
          invoice.id,
          invoice.customer,
          invoice.status,
          iso(invoice.created),
          line.id,
          price.eventName,
          iso(line.period.start),
          iso(line.period.end),
          stripeQty.toFixed(),
          ledgerQty.toFixed(),
          diff.toFixed(),
          ledgerQty.isZero() ? '' : diff.div(ledgerQty).times(100).toDecimalPlaces(4).toFixed(),
          diff.times(price.unitAmountDecimal).toFixed(),
          price.currency,
          String(passed),
        ],
      });
    }
  }
  // Report order: created, then invoice id bytewise, then the line's position on the invoice.
  const bytewise = (x: string, y: string) => (x < y ? -1 : x > y ? 1 : 0);
  rows.sort((a, b) => a.created - b.created || bytewise(a.invoiceId, b.invoiceId) || a.position - b.position);
  return rows.map((r) => r.row);
}

/** The summary, summed here from the expected rows (column indexes as in the CSV). */
function expectedSummary(rows: string[][], invoices: number): BackfillSummary {
  const currencies = new Map<string, { over: Decimal; under: Decimal; lines: number; diverging: number }>();
  const customers = new Map<
    string,
    { customerId: string; currency: string; abs: Decimal; net: Decimal; lines: number; diverging: number }
  >();
  for (const row of rows) {
    const [, customerId, , , , , , , , , , , impactText, currency, passed] = row;
    const impact = new Decimal(impactText);
    const c = currencies.get(currency) ?? { over: new Decimal(0), under: new Decimal(0), lines: 0, diverging: 0 };
    c.lines += 1;
    if (passed === 'false') c.diverging += 1;
    if (impact.gt(0)) c.over = c.over.plus(impact);
    else c.under = c.under.plus(impact.neg());
    currencies.set(currency, c);
    const key = `${customerId}/${currency}`;
    const k = customers.get(key) ?? {
      customerId,
      currency,
      abs: new Decimal(0),
      net: new Decimal(0),
      lines: 0,
      diverging: 0,
    };
    k.abs = k.abs.plus(impact.abs());
    k.net = k.net.plus(impact);
    k.lines += 1;
    if (passed === 'false') k.diverging += 1;
    customers.set(key, k);
  }
  return {
    invoices,
    invoicesFailed: 0,
    lines: rows.length,
    divergingLines: rows.filter((r) => r[14] === 'false').length,
    currencies: [...currencies.entries()]
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([currency, c]) => ({
        currency,
        overBilledMinor: c.over.toFixed(),
        underBilledMinor: c.under.toFixed(),
        netMinor: c.over.minus(c.under).toFixed(),
        lines: c.lines,
        divergingLines: c.diverging,
        linesWithoutImpact: 0,
      })),
    topCustomers: [...customers.values()]
      .filter((k) => !k.abs.isZero())
      .sort((a, b) => b.abs.comparedTo(a.abs) || (a.customerId < b.customerId ? -1 : 1))
      .slice(0, 10)
      .map((k) => ({
        customerId: k.customerId,
        currency: k.currency,
        absoluteImpactMinor: k.abs.toFixed(),
        netImpactMinor: k.net.toFixed(),
        lines: k.lines,
        divergingLines: k.diverging,
      })),
  };
}

function readCsv(path: string): { header: string[]; rows: string[][] } {
  const text = readFileSync(path, 'utf8');
  assert.ok(text.endsWith('\r\n'), 'CRLF line ends');
  assert.ok(!text.includes('"'), 'no field of this report needs quoting');
  const [header, ...rows] = text
    .slice(0, -2)
    .split('\r\n')
    .map((line) => line.split(','));
  return { header, rows };
}

test(
  'the backfill report: exact CSV and summary, read only, resumable after a kill',
  { timeout: 300_000 },
  async (t) => {
    const stripeEmulator = await startStripeEmulator({ port: 0 });
    t.after(() => stripeEmulator.stop());
    const database = await createTestDatabase();
    const db = createDatabase(database.url);
    await migrateToLatest(db);
    await ensureDefaultLedgerTable(db);
    const ledger = new PgClient({ connectionString: database.url });
    await ledger.connect();
    t.after(async () => {
      await ledger.end();
      await db.destroy();
      await database.drop();
    });
    let temporal: TemporalEmulator = await startTemporalEmulator({ port: 0 });
    t.after(() => temporal.stop());
    const outDir = mkdtempSync(join(tmpdir(), 'backfill-e2e-'));
    t.after(() => rmSync(outDir, { recursive: true, force: true }));

    const stripe = createStripeClient({ secretKey: stripeEmulator.apiKey, apiUrl: stripeEmulator.url });
    const seed = await seedThreeMonths(stripe, stripeEmulator, ledger);
    const invoices = (await stripeEmulator.admin.invoices()).filter((i) => i.status !== 'draft');
    assert.equal(invoices.length, 14, "4 first invoices + 3 x 3 monthly ones + the wide customer's");
    const wideInvoice = invoices.find((i) => i.customer === seed.customers.wide && i.lines.data.length > 0)!;
    assert.equal(wideInvoice.lines.data.length, 300);
    const statuses = new Set(invoices.map((i) => i.status));
    assert.deepEqual([...statuses].sort(), ['open', 'paid'], "the euro customer's declined invoices stay open");

    const rows = expectedRows(seed, invoices);
    assert.equal(rows.length, 3 * 3 * 2 + 300);
    const summary = expectedSummary(rows, invoices.length);
    assert.equal(
      summary.divergingLines,
      3 + 6 + 100,
      "the over customer's calls, all the euro lines, every wide_c line",
    );
    assert.deepEqual(
      summary.currencies.map((c) => c.currency),
      ['eur', 'usd'],
    );

    const taskQueue = `backfill-e2e-${randomBytes(4).toString('hex')}`;
    const env = () => ({
      DATABASE_URL: database.url,
      TEMPORAL_ADDRESS: temporal.address,
      TEMPORAL_TASK_QUEUE: taskQueue,
      STRIPE_SECRET_KEY: stripeEmulator.apiKey,
      STRIPE_API_URL: stripeEmulator.url,
    });
    const args = ['--since', day(seed.startedAt), '--until', day(seed.endedAt)];
    await stripeEmulator.admin.clearRequests();

    // 1. Killed midway: slow enough (5 Stripe requests a second) to be caught with some invoices recorded.
    const first = runCli([...args, '--out', join(outDir, 'first.csv')], {
      ...env(),
      STRIPE_MAX_REQUESTS_PER_SECOND: '5',
    });
    let recordedBeforeKill = 0;
    let exited = false;
    void first.exit.then(() => (exited = true));
    const deadline = Date.now() + 120_000;
    while (Date.now() < deadline && !exited) {
      const done = await ledger
        .query<{ n: string }>('SELECT count(*)::text AS n FROM invoice_gate.backfill_invoices')
        .catch(() => ({ rows: [{ n: '0' }] }));
      recordedBeforeKill = Number(done.rows[0].n);
      if (recordedBeforeKill >= 3) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    first.child.kill('SIGKILL');
    const killed = await first.exit;
    assert.equal(killed.signal, 'SIGKILL', `the first run was still running when killed:\n${killed.stderr}`);
    const linesBefore = Number(
      (await ledger.query<{ n: string }>('SELECT count(*)::text AS n FROM invoice_gate.backfill_lines')).rows[0].n,
    );
    const afterKill = Number(
      (await ledger.query<{ n: string }>('SELECT count(*)::text AS n FROM invoice_gate.backfill_invoices')).rows[0].n,
    );
    assert.ok(
      afterKill >= 3 && afterKill < invoices.length,
      `killed midway (${afterKill} of ${invoices.length} invoices)`,
    );

    // 2. The engine restarted too (the embedded default forgets its workflows): the same arguments start
    // again and skip every invoice already recorded.
    await temporal.stop();
    temporal = await startTemporalEmulator({ port: 0 });
    const firstRequests = await stripeEmulator.admin.requests();
    await stripeEmulator.admin.clearRequests();
    const out = join(outDir, 'report.csv');
    const second = await runCli([...args, '--out', out], env()).exit;
    assert.equal(second.code, 0, second.stderr);

    const csv = readCsv(out);
    assert.deepEqual(csv.header, [...BACKFILL_CSV_COLUMNS]);
    assert.deepEqual(csv.rows, rows, 'every compared line once, exact');
    assert.ok(second.stdout.includes(formatBackfillSummary(summary)), `summary:\n${second.stdout}`);
    assert.ok(linesBefore > 0, 'the killed run had recorded lines');

    const resumed = await stripeEmulator.admin.requests();
    await stripeEmulator.admin.clearRequests();
    const retrieved = resumed.filter((r) => /^\/v1\/invoices\/in_[^/]+$/.test(r.path));
    assert.equal(
      retrieved.length,
      invoices.length - afterKill,
      'the resumed run read only the invoices not yet recorded',
    );

    const run = (await ledger.query('SELECT * FROM invoice_gate.backfill_runs')).rows;
    assert.equal(run.length, 1);
    assert.equal(run[0].status, 'completed');
    assert.equal(run[0].invoices_done, invoices.length);
    assert.equal(run[0].lines_done, rows.length);
    assert.equal(run[0].lines_diverging, summary.divergingLines);

    // 3. Filters: one customer, open invoices only; a separate run (other arguments, other id).
    const euro = await runCli(
      [...args, '--customer', seed.customers.euro, '--status', 'open', '--out', join(outDir, 'euro.csv')],
      env(),
    ).exit;
    assert.equal(euro.code, 0, euro.stderr);
    assert.deepEqual(
      readCsv(join(outDir, 'euro.csv')).rows,
      expectedRows(seed, invoices, (i) => i.customer === seed.customers.euro && i.status === 'open'),
    );

    // Read only: every request of every run was a GET.
    const all = [...firstRequests, ...resumed, ...(await stripeEmulator.admin.requests())];
    assert.ok(firstRequests.length > 0 && all.length > invoices.length);
    assert.deepEqual(
      all.filter((r) => r.method !== 'GET').map((r) => `${r.method} ${r.path}`),
      [],
      'the backfill never writes to Stripe',
    );
  },
);
