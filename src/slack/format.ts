// Text formatting for Slack messages: exact decimals (decimal.js, never floats), money in the
// invoice currency, dates, and mrkdwn escaping.
import Decimal from 'decimal.js';
import type { DecimalString, UnixSeconds } from '../gate/types';

/** ISO 4217 currencies Stripe treats as zero-decimal / three-decimal (docs.stripe.com/currencies). */
const ZERO_DECIMAL = new Set([
  'bif',
  'clp',
  'djf',
  'gnf',
  'jpy',
  'kmf',
  'krw',
  'mga',
  'pyg',
  'rwf',
  'ugx',
  'vnd',
  'vuv',
  'xaf',
  'xof',
  'xpf',
]);
const THREE_DECIMAL = new Set(['bhd', 'jod', 'kwd', 'omr', 'tnd']);

export function currencyExponent(currency: string): number {
  const c = currency.toLowerCase();
  if (ZERO_DECIMAL.has(c)) return 0;
  if (THREE_DECIMAL.has(c)) return 3;
  return 2;
}

/** "1234567.5" -> "1,234,567.5" (exact; the string is not parsed as a float). */
export function groupDigits(plain: string): string {
  const negative = plain.startsWith('-');
  const unsigned = negative ? plain.slice(1) : plain;
  const [int, frac] = unsigned.split('.');
  const grouped = int.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return `${negative ? '-' : ''}${grouped}${frac !== undefined ? `.${frac}` : ''}`;
}

/** A quantity as Stripe and the ledger report it, exactly, with digit grouping. */
export function formatQuantity(q: DecimalString): string {
  return groupDigits(new Decimal(q).toFixed());
}

/**
 * Minor units (may carry fractions of a cent from unit_amount_decimal) -> "USD 1,234.57", rounded
 * half-up to the currency's exponent. `signed` prefixes "+" on positive amounts.
 */
export function formatMoneyMinor(minor: DecimalString, currency: string, opts: { signed?: boolean } = {}): string {
  const exp = currencyExponent(currency);
  const major = new Decimal(minor).div(new Decimal(10).pow(exp)).toDecimalPlaces(exp, Decimal.ROUND_HALF_UP);
  const abs = groupDigits(major.abs().toFixed(exp));
  const sign =
    major.isNegative() && !major.isZero() ? '-' : opts.signed && major.isPositive() && !major.isZero() ? '+' : '';
  return `${sign}${currency.toUpperCase()} ${abs}`;
}

/** "+12.35 %" (two decimals at most, trailing zeros dropped); null -> "n/a". */
export function formatPct(pct: DecimalString | null): string {
  if (pct === null) return 'n/a';
  const d = new Decimal(pct).toDecimalPlaces(2, Decimal.ROUND_HALF_UP);
  const sign = d.isPositive() && !d.isZero() ? '+' : '';
  return `${sign}${d.toFixed()} %`;
}

/** The difference as a signed exact quantity: "+200", "-3.5". */
export function formatSignedQuantity(q: DecimalString): string {
  const d = new Decimal(q);
  return `${d.isPositive() && !d.isZero() ? '+' : ''}${groupDigits(d.toFixed())}`;
}

/** Unix seconds -> "2026-10-01" (UTC). */
export function utcDate(sec: UnixSeconds): string {
  return new Date(sec * 1000).toISOString().slice(0, 10);
}

/** Date -> "2026-10-01 14:05 UTC". */
export function utcDateTime(d: Date): string {
  return `${d.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

/** Slack renders this in the reader's own time zone; the fallback is UTC. */
export function slackDate(d: Date): string {
  const sec = Math.floor(d.getTime() / 1000);
  return `<!date^${sec}^{date_short_pretty} at {time}|${utcDateTime(d)}>`;
}

/** Slack requires &, < and > escaped in mrkdwn text that comes from data. */
export function escapeMrkdwn(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

export function truncate(s: string, max: number): string {
  return s.length <= max ? s : `${s.slice(0, max - 1)}…`;
}

/** 4 h 5 min -> "4 h 5 min"; 28 h -> "28 h"; 3 d 2 h for two days or more. */
export function formatDuration(ms: number): string {
  const totalMin = Math.max(0, Math.floor(ms / 60_000));
  const days = Math.floor(totalMin / 1440);
  const hours = Math.floor((totalMin % 1440) / 60);
  const mins = totalMin % 60;
  if (totalMin < 60) return `${totalMin} min`;
  if (days >= 2) return hours ? `${days} d ${hours} h` : `${days} d`;
  const h = Math.floor(totalMin / 60);
  return mins ? `${h} h ${mins} min` : `${h} h`;
}
