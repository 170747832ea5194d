// A customer's previous finalized invoices in Stripe, down to what each billed per meter: the history
// check's source for customers the gate has not seen yet.
import Decimal from 'decimal.js';
import type Stripe from 'stripe';
import type { DecimalString, UnixSeconds } from '../gate/types';
import { callStripe } from './stripe-failure';

const FINALIZED = new Set(['open', 'paid', 'uncollectible']);
const LINE_PAGE_SIZE = 100;

/**
 * Per meter id, the quantities of up to `limit` finalized invoices of the customer whose period ended
 * by `before`, newest first. Costs one invoice list plus one line list per invoice read.
 */
export async function previousMeterQuantities(
  stripe: Stripe,
  request: { customerId: string; exceptInvoiceId: string; before: UnixSeconds; meterIds: string[]; limit: number },
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
    const perMeter = await callStripe('invoice lines list', async () => {
      const sums = new Map<string, Decimal>();
      const pages = stripe.invoices.listLineItems(invoice.id!, {
        limit: LINE_PAGE_SIZE,
        expand: ['data.pricing.price_details.price'],
      });
      for await (const line of pages) {
        const price = line.pricing?.price_details?.price as string | Stripe.Price | undefined;
        const meterId = typeof price === 'object' ? price.recurring?.meter : null;
        if (!meterId || !wanted.has(meterId)) continue;
        const quantity = new Decimal(String(line.quantity_decimal ?? line.quantity ?? 0));
        sums.set(meterId, (sums.get(meterId) ?? new Decimal(0)).plus(quantity));
      }
      return sums;
    });
    for (const [meterId, quantity] of perMeter)
      byMeter.set(meterId, [...(byMeter.get(meterId) ?? []), quantity.toFixed()]);
  }
  return byMeter;
}
