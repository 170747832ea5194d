// Reads a draft invoice down to what the gate compares: every line (all pages), and for metered
// lines price -> meter -> event_name and aggregation formula.
import type Stripe from 'stripe';
import type { AggregationFormula, InvoiceSnapshot, MeteredLine } from '../gate/types';
import { callStripe } from './stripe-failure';

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

export async function readInvoiceSnapshot(stripe: Stripe, invoiceId: string): Promise<InvoiceSnapshot> {
  const invoice = await callStripe('invoice retrieve', () =>
    stripe.invoices.retrieve(invoiceId, { expand: ['customer'] }),
  );
  const customer = typeof invoice.customer === 'object' && invoice.customer && !('deleted' in invoice.customer && invoice.customer.deleted)
    ? (invoice.customer as Stripe.Customer)
    : null;
  const customerId = idOf(invoice.customer as string | { id: string } | null);
  if (!customerId) throw new Error(`invoice ${invoiceId} has no customer`);

  const lines = await callStripe('invoice lines list', async () => {
    const all: Stripe.InvoiceLineItem[] = [];
    for await (const line of stripe.invoices.listLineItems(invoiceId, { limit: LINE_PAGE_SIZE })) all.push(line);
    return all;
  });

  const price = memoize((id) => callStripe('price retrieve', () => stripe.prices.retrieve(id)));
  const meter = memoize((id) => callStripe('meter retrieve', () => stripe.billing.meters.retrieve(id)));

  const meteredLines: MeteredLine[] = [];
  for (const line of lines) {
    const priceId = idOf(line.pricing?.price_details?.price as string | { id: string } | undefined);
    if (!priceId) continue;
    const linePrice = await price(priceId);
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
