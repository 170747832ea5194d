// Reads a draft invoice down to what the gate compares: every line (all pages), and for metered
// lines price -> meter -> event_name and aggregation formula.
import type Stripe from 'stripe';
import type { AggregationFormula, InvoiceSnapshot, LinePricing, MeteredLine, PriceTier } from '../gate/types';
import { FailureType, GateError } from '../gate/failures';
import { callStripe, stripeErrorCode } from './stripe-failure';

const LINE_PAGE_SIZE = 100;
const FORMULAS: readonly string[] = ['count', 'sum', 'last'] satisfies AggregationFormula[];

function decimalText(value: unknown): string | null {
  return value === null || value === undefined ? null : String(value);
}

function idOf(value: string | { id: string } | null | undefined): string | null {
  if (!value) return null;
  return typeof value === 'string' ? value : value.id;
}

/** Prices and meters are shared by many lines: read each once per invoice. */
function memoize<T>(load: (id: string) => Promise<T>): (id: string) => Promise<T> {
  const cache = new Map<string, Promise<T>>();
  return (id) => {
    let hit = cache.get(id);
    if (!hit) {
      hit = load(id);
      cache.set(id, hit);
    }
    return hit;
  };
}

function tierOf(tier: Stripe.Price.Tier): PriceTier {
  return {
    upTo: tier.up_to === null ? null : String(tier.up_to),
    unitAmountDecimal: decimalText(tier.unit_amount_decimal) ?? decimalText(tier.unit_amount),
    flatAmountDecimal: decimalText(tier.flat_amount_decimal) ?? decimalText(tier.flat_amount),
  };
}

/** The price's shape as Stripe has it, for the money impact (src/gate/money-impact.ts). */
export function linePricingOf(price: Stripe.Price, lineCurrency: string): LinePricing {
  return {
    billingScheme: price.billing_scheme,
    currency: price.currency,
    billedCurrency: lineCurrency,
    unitAmountDecimal: decimalText(price.unit_amount_decimal) ?? decimalText(price.unit_amount),
    transformQuantity: price.transform_quantity
      ? { divideBy: price.transform_quantity.divide_by, round: price.transform_quantity.round }
      : null,
    tiersMode: price.tiers_mode ?? null,
    tiers: price.tiers ? price.tiers.map(tierOf) : null,
    customUnitAmount: price.custom_unit_amount !== null && price.custom_unit_amount !== undefined,
  };
}

export type MeterLookup = (meterId: string) => Promise<Stripe.Billing.Meter>;

/** Meters change rarely and every customer on a plan shares them: one read per meter per TTL. */
export function cachedMeterLookup(stripe: Stripe, ttlMs = 5 * 60_000): MeterLookup {
  const cache = new Map<string, { at: number; meter: Promise<Stripe.Billing.Meter> }>();
  return (meterId) => {
    const hit = cache.get(meterId);
    if (hit && Date.now() - hit.at < ttlMs) return hit.meter;
    const meter = callStripe('meter retrieve', () => stripe.billing.meters.retrieve(meterId));
    cache.set(meterId, { at: Date.now(), meter });
    meter.catch(() => cache.delete(meterId));
    return meter;
  };
}

export type PriceLookup = (priceId: string) => Promise<Stripe.Price>;

/**
 * A price with its tiers, which Stripe includes only when expanded. Read on its own (one level of
 * expansion) rather than through the lines list, where `data.pricing.price_details.price.tiers`
 * would pass Stripe's limit of four expansion levels.
 */
function retrievePrice(stripe: Stripe, priceId: string): Promise<Stripe.Price> {
  return callStripe('price retrieve', () => stripe.prices.retrieve(priceId, { expand: ['tiers'] }));
}

/**
 * A price's meter, usage type and unit amount cannot change once it exists (Stripe makes a new price
 * instead), and a month end bills thousands of lines on a handful of prices: one read per price per TTL.
 */
export function cachedPriceLookup(stripe: Stripe, ttlMs = 5 * 60_000): PriceLookup {
  const cache = new Map<string, { at: number; price: Promise<Stripe.Price> }>();
  return (priceId) => {
    const hit = cache.get(priceId);
    if (hit && Date.now() - hit.at < ttlMs) return hit.price;
    const price = retrievePrice(stripe, priceId);
    cache.set(priceId, { at: Date.now(), price });
    price.catch(() => cache.delete(priceId));
    return price;
  };
}

async function retrieveInvoice(stripe: Stripe, invoiceId: string): Promise<Stripe.Invoice> {
  try {
    return await stripe.invoices.retrieve(invoiceId, { expand: ['customer'] });
  } catch (error) {
    if (stripeErrorCode(error) === 'resource_missing') {
      throw new GateError(`Stripe has no invoice ${invoiceId}`, {
        type: FailureType.invoiceNotFound,
        retryable: false,
        cause: error,
      });
    }
    return callStripe('invoice retrieve', () => Promise.reject(error));
  }
}

/**
 * One request for an invoice with up to 10 lines (the invoice embeds its first 10); the lines are
 * listed (100 a page) only when it has more. Prices and meters come from `price` and `meter`.
 */
export async function readInvoiceSnapshot(
  stripe: Stripe,
  invoiceId: string,
  meter: MeterLookup = cachedMeterLookup(stripe),
  price: PriceLookup = memoize((id) => retrievePrice(stripe, id)),
): Promise<InvoiceSnapshot> {
  const invoice = await retrieveInvoice(stripe, invoiceId);
  const customer =
    typeof invoice.customer === 'object' &&
    invoice.customer &&
    !('deleted' in invoice.customer && invoice.customer.deleted)
      ? (invoice.customer as Stripe.Customer)
      : null;
  const customerId = idOf(invoice.customer as string | { id: string } | null);
  if (!customerId) throw new Error(`invoice ${invoiceId} has no customer`);

  const embedded = invoice.lines as Stripe.ApiList<Stripe.InvoiceLineItem> | undefined;
  const lines =
    embedded && !embedded.has_more
      ? embedded.data
      : await callStripe('invoice lines list', async () => {
          const all: Stripe.InvoiceLineItem[] = [];
          for await (const line of stripe.invoices.listLineItems(invoiceId, { limit: LINE_PAGE_SIZE })) all.push(line);
          return all;
        });

  const meteredLines: MeteredLine[] = [];
  for (const line of lines) {
    const linePriceRef = line.pricing?.price_details?.price as string | Stripe.Price | undefined;
    const priceId = idOf(linePriceRef);
    if (!priceId) continue;
    const linePrice = typeof linePriceRef === 'object' ? linePriceRef : await price(priceId);
    const meterId = linePrice.recurring?.usage_type === 'metered' ? linePrice.recurring.meter : null;
    if (!meterId) continue;
    const lineMeter = await meter(meterId);
    const formula = lineMeter.default_aggregation.formula;
    if (!FORMULAS.includes(formula)) {
      throw new Error(`meter ${meterId} uses aggregation '${formula}', which the gate cannot recount`);
    }
    meteredLines.push({
      lineId: line.id,
      description: line.description,
      priceId,
      meterId,
      eventName: lineMeter.event_name,
      formula: formula as AggregationFormula,
      periodStart: line.period.start,
      periodEnd: line.period.end,
      stripeQuantity: decimalText(line.quantity_decimal) ?? String(line.quantity ?? 0),
      unitAmountDecimal: decimalText(line.pricing?.unit_amount_decimal) ?? decimalText(linePrice.unit_amount_decimal),
      pricing: linePricingOf(linePrice, line.currency),
    });
  }

  return {
    invoiceId: invoice.id,
    customerId,
    customerName: customer?.name ?? invoice.customer_name ?? null,
    customerEmail: customer?.email ?? invoice.customer_email ?? null,
    customerMetadata: { ...(customer?.metadata ?? {}) },
    status: invoice.status ?? 'draft',
    autoAdvance: invoice.auto_advance ?? false,
    currency: invoice.currency,
    livemode: invoice.livemode,
    periodStart: invoice.period_start,
    periodEnd: invoice.period_end,
    automaticallyFinalizesAt: invoice.automatically_finalizes_at ?? null,
    meteredLines,
    otherLineCount: lines.length - meteredLines.length,
  };
}
