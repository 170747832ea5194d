// A customer's previous finalized invoices in Stripe, down to what each billed per meter: the history
// check's source for customers the gate has not seen yet.
import Decimal from 'decimal.js';
import type Stripe from 'stripe';
import type { DecimalString, UnixSeconds } from '../gate/types';
import { callStripe } from './stripe-failure';

const FINALIZED = new Set(['open', 'paid', 'uncollectible']);
const LINE_PAGE_SIZE = 100;

/** A price's meter id (null for a price that is not metered); the worker's cached price reads. */
export type PriceMeterLookup = (priceId: string) => Promise<string | null>;

/**
 * Per meter id, the quantities of up to `limit` finalized invoices of the customer whose period ended
 * by `before`, newest first. One invoice list: each listed invoice embeds its first 10 lines, so its
 * lines are listed only when it has more; a line's meter comes from its price through `priceMeter`.
 */
export async function previousMeterQuantities(
  stripe: Stripe,
  request: {
    customerId: string;
    exceptInvoiceId: string;
    before: UnixSeconds;
    meterIds: string[];
    limit: number;
    priceMeter: PriceMeterLookup;
  },
): Promise<Map<string, DecimalString[]>> {
  const invoices = await callStripe('invoice list', async () => {
    const found: Stripe.Invoice[] = [];
    // Newest first; drafts, voids and this invoice are skipped.
    for await (const invoice of stripe.invoices.list({ customer: request.customerId, limit: 20 })) {
      if (invoice.id === request.exceptInvoiceId || !FINALIZED.has(invoice.status ?? '')) continue;
      if (invoice.period_end > request.before) continue;
      found.push(invoice);
      if (found.length >= request.limit) break;
    }
    return found;
  });
  const wanted = new Set(request.meterIds);
  const byMeter = new Map<string, DecimalString[]>();
  for (const invoice of invoices) {
    const lines = invoice.lines?.has_more === false ? invoice.lines.data : await listLines(stripe, invoice.id!);
    const sums = new Map<string, Decimal>();
    for (const line of lines) {
      const price = line.pricing?.price_details?.price as string | Stripe.Price | undefined;
      const priceId = typeof price === 'object' ? price.id : price;
      if (!priceId) continue;
      const meterId = await callStripe('price retrieve', () => request.priceMeter(priceId));
      if (!meterId || !wanted.has(meterId)) continue;
      const quantity = new Decimal(String(line.quantity_decimal ?? line.quantity ?? 0));
      sums.set(meterId, (sums.get(meterId) ?? new Decimal(0)).plus(quantity));
    }
    for (const [meterId, quantity] of sums) byMeter.set(meterId, [...(byMeter.get(meterId) ?? []), quantity.toFixed()]);
  }
  return byMeter;
}

function listLines(stripe: Stripe, invoiceId: string): Promise<Stripe.InvoiceLineItem[]> {
  return callStripe('invoice lines list', async () => {
    const all: Stripe.InvoiceLineItem[] = [];
    for await (const line of stripe.invoices.listLineItems(invoiceId, { limit: LINE_PAGE_SIZE })) all.push(line);
    return all;
  });
}
