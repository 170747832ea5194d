// Four eyes above a limit: GATE_SECOND_APPROVAL_ABOVE, the money at stake (minor units of the invoice's
// currency) above which one reviewer's release only records a first approval. Pure, so the workflow and
// the configuration share it.
import Decimal from 'decimal.js';

/** A limit for every currency, per-currency limits, or both (a currency's own limit wins). */
export interface SecondApprovalThreshold {
  /** Minor units, a decimal string; null when only listed currencies have a limit. */
  anyCurrency: string | null;
  /** Lower-case ISO currency -> minor units. */
  perCurrency: Record<string, string>;
}

const AMOUNT = /^\d+$/;
const CURRENCY = /^[a-z]{3}$/;

/** Parses `50000` or `usd=50000,eur=40000` (both may be mixed: `50000,jpy=7000000`); throws naming the bad part. */
export function parseSecondApprovalThreshold(text: string): SecondApprovalThreshold {
  const threshold: SecondApprovalThreshold = { anyCurrency: null, perCurrency: {} };
  const parts = text
    .split(',')
    .map((part) => part.trim())
    .filter((part) => part.length > 0);
  if (parts.length === 0) throw new Error('is empty: give minor units, e.g. 50000 or usd=50000,eur=40000');
  for (const part of parts) {
    const [left, right, ...extra] = part.split('=').map((s) => s.trim());
    if (right === undefined) {
      if (!AMOUNT.test(left!)) throw new Error(`"${part}" is not a whole number of minor units`);
      if (threshold.anyCurrency !== null) throw new Error('has more than one limit for every currency');
      threshold.anyCurrency = new Decimal(left!).toFixed();
      continue;
    }
    const currency = left!.toLowerCase();
    if (extra.length > 0 || !CURRENCY.test(currency) || !AMOUNT.test(right)) {
      throw new Error(`"${part}" is not currency=minor units (e.g. usd=50000)`);
    }
    if (currency in threshold.perCurrency) throw new Error(`names ${currency} twice`);
    threshold.perCurrency[currency] = new Decimal(right).toFixed();
  }
  return threshold;
}

/** The limit that applies to an invoice in `currency`, or null when none does. */
export function limitFor(threshold: SecondApprovalThreshold, currency: string | null): string | null {
  const own = currency ? threshold.perCurrency[currency.toLowerCase()] : undefined;
  return own ?? threshold.anyCurrency;
}

/**
 * The money at stake on an invoice: the sum of its lines' absolute estimated impact (minor units), or
 * null when any line's impact could not be computed.
 */
export function moneyAtStake(lines: ReadonlyArray<{ estimatedImpactMinor: string | null }>): string | null {
  let total = new Decimal(0);
  for (const line of lines) {
    if (line.estimatedImpactMinor === null) return null;
    total = total.plus(new Decimal(line.estimatedImpactMinor).abs());
  }
  return total.toFixed();
}

/**
 * Whether a release needs a second reviewer: above the limit of the invoice's currency; an impact that
 * could not be computed counts as above. No threshold (or none for this currency): one reviewer releases.
 */
export function needsSecondApproval(
  threshold: SecondApprovalThreshold | null,
  atStake: string | null,
  currency: string | null,
): boolean {
  if (threshold === null) return false;
  const limit = limitFor(threshold, currency);
  if (limit === null) return false;
  return atStake === null || new Decimal(atStake).greaterThan(limit);
}
