// The backfill report as CSV (RFC 4180): a header, one row per compared line, CRLF line ends, fields
// quoted when they hold a comma, a quote or a line break. Decimals are exact and plain (no exponent, no
// trailing zeros); times are UTC ISO 8601 to the second (`2026-01-31T00:00:00Z`); an unknown variance
// or impact is an empty field; `passed` is `true`/`false`. Text cells come from Stripe and the account
// (a meter's event name is whatever the account named it): one that a spreadsheet would read as a
// formula is neutralised (csvText), numbers and times are written as they are.
import Decimal from 'decimal.js';
import type { BackfillReportLine } from './report-line';

export const BACKFILL_CSV_COLUMNS = [
  'invoice_id',
  'customer_id',
  'invoice_status',
  'created',
  'line_id',
  'event_name',
  'period_start',
  'period_end',
  'stripe_quantity',
  'ledger_quantity',
  'difference',
  'variance_pct',
  'estimated_impact_minor',
  'currency',
  'passed',
] as const;

const NEEDS_QUOTES = /[",\r\n]/;

export function csvField(value: string): string {
  return NEEDS_QUOTES.test(value) ? `"${value.replaceAll('"', '""')}"` : value;
}

/** What a spreadsheet starts a formula with (OWASP, CSV injection): `=`, `+`, `-`, `@`, tab, CR. */
const FORMULA_START = /^[=+\-@\t\r]/;

/** A text cell that cannot run as a formula: a leading `'` makes a spreadsheet show it as text (OWASP). */
export function csvText(value: string): string {
  return FORMULA_START.test(value) ? `'${value}` : value;
}

export function csvRecord(fields: readonly string[]): string {
  return `${fields.map(csvField).join(',')}\r\n`;
}

/** `2026-01-31T00:00:00Z`: UTC, to the second (Stripe's timestamps have no fractions). */
export function csvTime(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export function csvDecimal(value: string | null): string {
  return value === null ? '' : new Decimal(value).toFixed();
}

export function csvHeader(): string {
  return csvRecord(BACKFILL_CSV_COLUMNS);
}

export function csvLine(line: BackfillReportLine): string {
  return csvRecord([
    csvText(line.invoiceId),
    csvText(line.customerId),
    csvText(line.invoiceStatus),
    csvTime(line.created),
    csvText(line.lineId),
    csvText(line.eventName),
    csvTime(line.periodStart),
    csvTime(line.periodEnd),
    csvDecimal(line.stripeQuantity),
    csvDecimal(line.ledgerQuantity),
    csvDecimal(line.difference),
    csvDecimal(line.variancePct),
    csvDecimal(line.estimatedImpactMinor),
    csvText(line.currency),
    String(line.passed),
  ]);
}
