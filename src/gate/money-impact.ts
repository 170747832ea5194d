// What a quantity difference costs at a line's price, the way Stripe turns quantities into money:
// per unit, package pricing (`transform_quantity`), graduated and volume tiers. Pure and exact
// (decimal.js), so the workflow can call it; a shape it cannot price is reported, never guessed.
import Decimal from 'decimal.js';
import type { DecimalString, LinePricing, MeteredLine, PriceTier } from './types';

export type MoneyImpact =
  { impactMinor: DecimalString; unavailable: null } | { impactMinor: null; unavailable: string };

/** An amount in minor units, or why there is none. */
type Amount = { minor: Decimal } | { unavailable: string };

const unavailable = (reason: string): Amount => ({ unavailable: reason });

function perUnit(pricing: LinePricing, quantity: Decimal): Amount {
  if (pricing.unitAmountDecimal === null) return unavailable('the price has no unit amount');
  const transform = pricing.transformQuantity;
  if (!transform) return { minor: quantity.times(pricing.unitAmountDecimal) };
  if (!Number.isInteger(transform.divideBy) || transform.divideBy <= 0) {
    return unavailable(`transform_quantity.divide_by ${transform.divideBy} is not a positive integer`);
  }
  if (transform.round !== 'up' && transform.round !== 'down') {
    return unavailable(`transform_quantity.round '${transform.round}' is neither up nor down`);
  }
  if (quantity.isNegative()) return unavailable('package pricing of a negative quantity');
  // Stripe bills whole packages: usage / divide_by, rounded as the price says.
  const packages = quantity
    .div(transform.divideBy)
    .toDecimalPlaces(0, transform.round === 'up' ? Decimal.ROUND_CEIL : Decimal.ROUND_FLOOR);
  return { minor: packages.times(pricing.unitAmountDecimal) };
}

function tierUnit(tier: PriceTier): Decimal {
  return new Decimal(tier.unitAmountDecimal ?? 0);
}

function tierFlat(tier: PriceTier): Decimal {
  return new Decimal(tier.flatAmountDecimal ?? 0);
}

/** Tiers must rise, and only the last may be open-ended (`inf`). */
function tiersProblem(tiers: PriceTier[]): string | null {
  if (tiers.length === 0) return 'the price has no tiers';
  let previous = new Decimal(-1);
  for (const [i, tier] of tiers.entries()) {
    if (tier.upTo === null) return i === tiers.length - 1 ? null : 'a tier before the last one has no upper bound';
    const upTo = new Decimal(tier.upTo);
    if (!upTo.greaterThan(previous)) return 'the tiers are not in ascending order';
    previous = upTo;
  }
  return null;
}

/** The first tier whose upper bound (inclusive) holds the quantity. */
function tierIndexOf(tiers: PriceTier[], quantity: Decimal): number {
  return tiers.findIndex((tier) => tier.upTo === null || quantity.lessThanOrEqualTo(tier.upTo));
}

/**
 * Graduated: each tier bills the units inside its bounds at its unit amount, plus its flat amount
 * once the quantity reaches the tier. The first tier is always reached (its flat amount is the
 * base fee), so its flat amount is the same for every quantity and never changes an impact.
 */
function graduated(tiers: PriceTier[], quantity: Decimal): Decimal {
  let total = new Decimal(0);
  let lower = new Decimal(0);
  for (const [i, tier] of tiers.entries()) {
    if (i > 0 && !quantity.greaterThan(lower)) break;
    const upper = tier.upTo === null ? quantity : Decimal.min(quantity, tier.upTo);
    const units = Decimal.max(0, upper.minus(lower));
    total = total.plus(units.times(tierUnit(tier))).plus(tierFlat(tier));
    if (tier.upTo === null) break;
    lower = new Decimal(tier.upTo);
  }
  return total;
}

/** Volume: the whole quantity at the unit amount of the tier it falls into, plus that tier's flat amount. */
function volume(tier: PriceTier, quantity: Decimal): Decimal {
  return quantity.times(tierUnit(tier)).plus(tierFlat(tier));
}

function tiered(pricing: LinePricing, quantity: Decimal): Amount {
  if (pricing.transformQuantity) return unavailable('transform_quantity on a tiered price');
  if (pricing.tiersMode !== 'graduated' && pricing.tiersMode !== 'volume') {
    return unavailable(`tiers_mode '${pricing.tiersMode ?? 'none'}' is neither graduated nor volume`);
  }
  if (pricing.tiers === null) return unavailable('Stripe did not send the price tiers');
  const problem = tiersProblem(pricing.tiers);
  if (problem) return unavailable(problem);
  if (quantity.isNegative()) return unavailable('tiered pricing of a negative quantity');
  const index = tierIndexOf(pricing.tiers, quantity);
  if (index < 0) return unavailable(`quantity ${quantity.toFixed()} is beyond the last tier`);
  return {
    minor:
      pricing.tiersMode === 'graduated' ? graduated(pricing.tiers, quantity) : volume(pricing.tiers[index], quantity),
  };
}

/** What Stripe bills for `quantity` at this price, in minor units, before rounding the line to the minor unit. */
export function amountAt(pricing: LinePricing, quantity: Decimal.Value): Amount {
  if (pricing.customUnitAmount) return unavailable('the price has a custom unit amount');
  if (pricing.currency !== pricing.billedCurrency) {
    return unavailable(`the price is in ${pricing.currency}, the invoice in ${pricing.billedCurrency}`);
  }
  const q = new Decimal(quantity);
  if (pricing.billingScheme === 'per_unit') return perUnit(pricing, q);
  if (pricing.billingScheme === 'tiered') return tiered(pricing, q);
  return unavailable(`billing_scheme '${pricing.billingScheme}' is not known to the gate`);
}

/**
 * The money impact of a line: what Stripe bills for its quantity minus what it would bill for the
 * ledger's quantity, exact, in minor units. Equal quantities cost nothing at any price.
 */
export function lineMoneyImpact(
  line: Pick<MeteredLine, 'pricing' | 'unitAmountDecimal'>,
  stripeQuantity: Decimal.Value,
  ledgerQuantity: Decimal.Value,
): MoneyImpact {
  const stripe = new Decimal(stripeQuantity);
  const ledger = new Decimal(ledgerQuantity);
  if (stripe.equals(ledger)) return { impactMinor: '0', unavailable: null };
  if (!line.pricing) {
    // Read before the gate read price shapes: per unit at the line's unit amount, as the gate did then.
    return line.unitAmountDecimal === null
      ? { impactMinor: null, unavailable: 'the line has no unit amount' }
      : { impactMinor: stripe.minus(ledger).times(line.unitAmountDecimal).toFixed(), unavailable: null };
  }
  const billed = amountAt(line.pricing, stripe);
  if ('unavailable' in billed) return { impactMinor: null, unavailable: billed.unavailable };
  const counted = amountAt(line.pricing, ledger);
  if ('unavailable' in counted) return { impactMinor: null, unavailable: counted.unavailable };
  return { impactMinor: billed.minor.minus(counted.minor).toFixed(), unavailable: null };
}
