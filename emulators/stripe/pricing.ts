// Price shapes as Stripe bills them: per unit, package pricing (`transform_quantity`), and tiered
// prices (`billing_scheme=tiered`, `tiers_mode` graduated or volume). Parses the create parameters
// and computes a line's amount, decimal-exact, rounded half up to the minor unit at the end.
import Decimal from 'decimal.js';
import { parameterInvalid, parameterMissing } from './errors';
import type { FormValue, Params } from './form';
import { optArray, optDecimalString, optInt, optObject, optString, type Obj } from './util';

/** A tier as the API returns it (`up_to: null` is `inf`). */
export interface TierObject {
  flat_amount: number | null;
  flat_amount_decimal: string | null;
  unit_amount: number | null;
  unit_amount_decimal: string | null;
  up_to: number | null;
}

/** `unit_amount` (integer) or `unit_amount_decimal`, never both: the pair Stripe returns, or nulls. */
function amountPair(params: Params, name: string, path: string): [number | null, string | null] {
  const whole = optInt(params, name, `${path}[${name}]`);
  const decimal = optDecimalString(params, `${name}_decimal`, `${path}[${name}_decimal]`);
  if (whole !== undefined && decimal !== undefined) {
    throw parameterInvalid(
      `${path}[${name}_decimal]`,
      `You may only specify one of these parameters: ${name}, ${name}_decimal.`,
    );
  }
  const value = decimal ?? (whole === undefined ? undefined : String(whole));
  if (value === undefined) return [null, null];
  const d = new Decimal(value);
  if (d.isNegative()) throw parameterInvalid(`${path}[${name}]`, `Invalid ${name}: must be at least 0`);
  return [d.isInteger() ? d.toNumber() : null, d.toFixed()];
}

/** `tiers[i][up_to|unit_amount(_decimal)|flat_amount(_decimal)]`: ascending, the last one `inf`. */
export function parseTiers(params: Params): TierObject[] {
  const raw = optArray(params, 'tiers');
  if (!raw || raw.length === 0) throw parameterMissing('tiers');
  let previous = 0;
  return raw.map((value: FormValue, i) => {
    const path = `tiers[${i}]`;
    if (!value || typeof value !== 'object' || Array.isArray(value)) throw parameterInvalid(path, 'Invalid hash');
    const tier = value;
    const upToText = optString(tier, 'up_to', `${path}[up_to]`);
    if (upToText === undefined || upToText === '') throw parameterMissing(`${path}[up_to]`);
    const last = i === raw.length - 1;
    let upTo: number | null;
    if (upToText === 'inf') {
      if (!last) throw parameterInvalid(`${path}[up_to]`, 'Only the last tier can have `up_to` set to `inf`.');
      upTo = null;
    } else {
      if (!/^\d+$/.test(upToText) || Number(upToText) < 1) {
        throw parameterInvalid(`${path}[up_to]`, `Invalid up_to: must be a positive integer or \`inf\``);
      }
      if (last) throw parameterInvalid(`${path}[up_to]`, 'The last tier must have `up_to` set to `inf`.');
      upTo = Number(upToText);
      if (upTo <= previous) {
        throw parameterInvalid(`${path}[up_to]`, 'Tiers must be in ascending order of `up_to`.');
      }
      previous = upTo;
    }
    const [unitAmount, unitAmountDecimal] = amountPair(tier, 'unit_amount', path);
    const [flatAmount, flatAmountDecimal] = amountPair(tier, 'flat_amount', path);
    if (unitAmountDecimal === null && flatAmountDecimal === null) {
      throw parameterMissing(`${path}[unit_amount]`);
    }
    return {
      flat_amount: flatAmount,
      flat_amount_decimal: flatAmountDecimal,
      unit_amount: unitAmount,
      unit_amount_decimal: unitAmountDecimal,
      up_to: upTo,
    };
  });
}

/** `transform_quantity[divide_by]` (a positive integer) and `[round]` (`up` or `down`). */
export function parseTransformQuantity(params: Params): Obj | null {
  const transform = optObject(params, 'transform_quantity');
  if (!transform) return null;
  const divideBy = optInt(transform, 'divide_by', 'transform_quantity[divide_by]');
  if (divideBy === undefined) throw parameterMissing('transform_quantity[divide_by]');
  if (divideBy < 1) throw parameterInvalid('transform_quantity[divide_by]', 'Invalid divide_by: must be at least 1');
  const round = optString(transform, 'round', 'transform_quantity[round]');
  if (round === undefined || round === '') throw parameterMissing('transform_quantity[round]');
  if (round !== 'up' && round !== 'down') {
    throw parameterInvalid('transform_quantity[round]', 'Invalid transform_quantity[round]: must be one of up, down');
  }
  return { divide_by: divideBy, round };
}

const unitOf = (tier: TierObject) => new Decimal(tier.unit_amount_decimal ?? 0);
const flatOf = (tier: TierObject) => new Decimal(tier.flat_amount_decimal ?? 0);

/** Graduated: every tier bills its own units; a tier's flat amount once the quantity reaches it (the first always). */
function graduatedAmount(tiers: TierObject[], quantity: Decimal): Decimal {
  let total = new Decimal(0);
  let lower = new Decimal(0);
  for (const [i, tier] of tiers.entries()) {
    if (i > 0 && quantity.lessThanOrEqualTo(lower)) break;
    const upper = tier.up_to === null ? quantity : Decimal.min(quantity, tier.up_to);
    total = total.plus(Decimal.max(0, upper.minus(lower)).times(unitOf(tier))).plus(flatOf(tier));
    if (tier.up_to === null) break;
    lower = new Decimal(tier.up_to);
  }
  return total;
}

/** Volume: the whole quantity at the tier it falls into (up_to inclusive), plus that tier's flat amount. */
function volumeAmount(tiers: TierObject[], quantity: Decimal): Decimal {
  const tier = tiers.find((t) => t.up_to === null || quantity.lessThanOrEqualTo(t.up_to)) ?? tiers[tiers.length - 1];
  return quantity.times(unitOf(tier)).plus(flatOf(tier));
}

/** What a price bills for a quantity, in minor units, unrounded. */
export function exactPriceAmount(price: Obj, tiers: TierObject[] | undefined, quantity: Decimal.Value): Decimal {
  const q = new Decimal(quantity);
  if (price.billing_scheme === 'tiered' && tiers) {
    return price.tiers_mode === 'volume' ? volumeAmount(tiers, q) : graduatedAmount(tiers, q);
  }
  if (price.unit_amount_decimal === null) return new Decimal(0);
  const transform = price.transform_quantity as { divide_by: number; round: 'up' | 'down' } | null;
  const units = transform
    ? q.div(transform.divide_by).toDecimalPlaces(0, transform.round === 'up' ? Decimal.ROUND_CEIL : Decimal.ROUND_FLOOR)
    : q;
  return units.times(price.unit_amount_decimal);
}

/** The line amount Stripe shows: the exact amount rounded half up to the minor unit. */
export function priceAmount(price: Obj, tiers: TierObject[] | undefined, quantity: Decimal.Value): number {
  return exactPriceAmount(price, tiers, quantity).toDecimalPlaces(0, Decimal.ROUND_HALF_UP).toNumber();
}
