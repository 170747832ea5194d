// The backfill report's summary: invoices, lines, diverging lines, money over- and under-billed per
// currency, and the customers with the largest absolute impact. Built line by line (the report streams
// its lines from the audit tables), decimal-exact, then printed as plain text tables.
import Decimal from 'decimal.js';
import type { BackfillReportLine } from './report-line';

export const TOP_CUSTOMERS = 10;

export interface CurrencyTotals {
  currency: string;
  /** Sum of positive impacts: Stripe billed more than the ledger counted (minor units). */
  overBilledMinor: string;
  /** Sum of negative impacts, as a positive amount: Stripe billed less (minor units). */
  underBilledMinor: string;
  /** over - under. */
  netMinor: string;
  lines: number;
  divergingLines: number;
  /** Lines whose difference has no price (no unit amount): not in the sums. */
  linesWithoutImpact: number;
}

export interface CustomerImpact {
  customerId: string;
  currency: string;
  /** Sum of |impact| over the customer's lines in this currency (minor units). */
  absoluteImpactMinor: string;
  netImpactMinor: string;
  lines: number;
  divergingLines: number;
}

export interface BackfillSummary {
  invoices: number;
  /** Invoices read but not comparable (their reason is in backfill_invoices.error). */
  invoicesFailed: number;
  lines: number;
  divergingLines: number;
  currencies: CurrencyTotals[];
  topCustomers: CustomerImpact[];
}

interface Sums {
  over: Decimal;
  under: Decimal;
  lines: number;
  diverging: number;
  unpriced: number;
}

const emptySums = (): Sums => ({ over: new Decimal(0), under: new Decimal(0), lines: 0, diverging: 0, unpriced: 0 });

function addTo(sums: Sums, line: BackfillReportLine): void {
  sums.lines += 1;
  if (!line.passed) sums.diverging += 1;
  if (line.estimatedImpactMinor === null) {
    sums.unpriced += 1;
    return;
  }
  const impact = new Decimal(line.estimatedImpactMinor);
  if (impact.isPositive()) sums.over = sums.over.plus(impact);
  else sums.under = sums.under.minus(impact);
}

/** Ids order bytewise, as the report's SQL does (collation "C"), whatever the locale. */
const bytewise = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

export class BackfillSummaryBuilder {
  private readonly byCurrency = new Map<string, Sums>();
  private readonly byCustomer = new Map<string, { customerId: string; currency: string; sums: Sums }>();
  private lines = 0;
  private diverging = 0;

  add(line: BackfillReportLine): void {
    this.lines += 1;
    if (!line.passed) this.diverging += 1;
    let currency = this.byCurrency.get(line.currency);
    if (!currency) this.byCurrency.set(line.currency, (currency = emptySums()));
    addTo(currency, line);
    const key = `${line.customerId}\u0000${line.currency}`;
    let customer = this.byCustomer.get(key);
    if (!customer) {
      customer = { customerId: line.customerId, currency: line.currency, sums: emptySums() };
      this.byCustomer.set(key, customer);
    }
    addTo(customer.sums, line);
  }

  build(invoices: { done: number; failed: number }): BackfillSummary {
    const currencies = [...this.byCurrency.entries()]
      .sort(([a], [b]) => bytewise(a, b))
      .map(([currency, s]) => ({
        currency,
        overBilledMinor: s.over.toFixed(),
        underBilledMinor: s.under.toFixed(),
        netMinor: s.over.minus(s.under).toFixed(),
        lines: s.lines,
        divergingLines: s.diverging,
        linesWithoutImpact: s.unpriced,
      }));
    const topCustomers = [...this.byCustomer.values()]
      .map(({ customerId, currency, sums }) => ({ customerId, currency, absolute: sums.over.plus(sums.under), sums }))
      .filter((c) => !c.absolute.isZero())
      .sort(
        (a, b) =>
          b.absolute.comparedTo(a.absolute) || bytewise(a.customerId, b.customerId) || bytewise(a.currency, b.currency),
      )
      .slice(0, TOP_CUSTOMERS)
      .map(({ customerId, currency, absolute, sums }) => ({
        customerId,
        currency,
        absoluteImpactMinor: absolute.toFixed(),
        netImpactMinor: sums.over.minus(sums.under).toFixed(),
        lines: sums.lines,
        divergingLines: sums.diverging,
      }));
    return {
      invoices: invoices.done,
      invoicesFailed: invoices.failed,
      lines: this.lines,
      divergingLines: this.diverging,
      currencies,
      topCustomers,
    };
  }
}

export function summarizeBackfill(
  lines: Iterable<BackfillReportLine>,
  invoices: { done: number; failed: number },
): BackfillSummary {
  const builder = new BackfillSummaryBuilder();
  for (const line of lines) builder.add(line);
  return builder.build(invoices);
}

// ISO 4217 currencies whose minor unit is not a hundredth (Stripe's zero- and three-decimal currencies).
const ZERO_DECIMAL = new Set(
  'bif clp djf gnf jpy kmf krw mga pyg rwf ugx vnd vuv xaf xof xpf'.split(' ').map((c) => c.toLowerCase()),
);
const THREE_DECIMAL = new Set(['bhd', 'jod', 'kwd', 'omr', 'tnd']);

/** Minor units as an amount in the currency's major unit, exact: `1234.5` cents -> `USD 12.345`. */
export function formatMoney(minor: string, currency: string): string {
  const exponent = ZERO_DECIMAL.has(currency) ? 0 : THREE_DECIMAL.has(currency) ? 3 : 2;
  const major = new Decimal(minor).div(new Decimal(10).pow(exponent));
  const places = Math.max(exponent, major.decimalPlaces());
  const [whole, fraction] = major.abs().toFixed(places).split('.');
  const grouped = whole.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return `${major.isNegative() ? '-' : ''}${currency.toUpperCase()} ${grouped}${fraction ? `.${fraction}` : ''}`;
}

function table(header: string[], rows: string[][], rightAligned: boolean[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const format = (cells: string[]) =>
    cells
      .map((cell, i) => (rightAligned[i] ? cell.padStart(widths[i]) : cell.padEnd(widths[i])))
      .join('  ')
      .trimEnd();
  return [format(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(format)].join('\n');
}

export function formatBackfillSummary(summary: BackfillSummary): string {
  const out: string[] = [];
  out.push(
    table(
      ['invoices', 'not comparable', 'lines', 'diverging lines'],
      [
        [
          String(summary.invoices),
          String(summary.invoicesFailed),
          String(summary.lines),
          String(summary.divergingLines),
        ],
      ],
      [true, true, true, true],
    ),
  );
  out.push('');
  out.push('Money (every compared line, at its unit price; over = Stripe billed more than the ledger counted):');
  out.push(
    summary.currencies.length === 0
      ? '(no lines)'
      : table(
          ['currency', 'over-billed', 'under-billed', 'net', 'lines', 'diverging', 'unpriced'],
          summary.currencies.map((c) => [
            c.currency.toUpperCase(),
            formatMoney(c.overBilledMinor, c.currency),
            formatMoney(c.underBilledMinor, c.currency),
            formatMoney(c.netMinor, c.currency),
            String(c.lines),
            String(c.divergingLines),
            String(c.linesWithoutImpact),
          ]),
          [false, true, true, true, true, true, true],
        ),
  );
  out.push('');
  out.push(`Top ${TOP_CUSTOMERS} customers by absolute impact:`);
  out.push(
    summary.topCustomers.length === 0
      ? '(none: no line differs at a price)'
      : table(
          ['customer', 'absolute impact', 'net impact', 'lines', 'diverging'],
          summary.topCustomers.map((c) => [
            c.customerId,
            formatMoney(c.absoluteImpactMinor, c.currency),
            formatMoney(c.netImpactMinor, c.currency),
            String(c.lines),
            String(c.divergingLines),
          ]),
          [false, true, true, true, true],
        ),
  );
  return `${out.join('\n')}\n`;
}
