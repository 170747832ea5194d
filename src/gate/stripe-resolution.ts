// Which later Stripe events settle a held invoice without the gate (someone finalized, voided or
// deleted it in the dashboard, or it was paid). Returns why, or null when the gate should keep waiting.
import type { StripeInvoiceEvent } from './types';

const SETTLING_EVENTS: Record<string, { what: string; status: string }> = {
  'invoice.finalized': { what: 'finalized in Stripe', status: 'open' },
  'invoice.paid': { what: 'paid in Stripe', status: 'paid' },
  'invoice.payment_succeeded': { what: 'paid in Stripe', status: 'paid' },
  'invoice.payment_failed': { what: 'finalized in Stripe (payment failed)', status: 'open' },
  'invoice.voided': { what: 'voided in Stripe', status: 'void' },
  'invoice.marked_uncollectible': { what: 'marked uncollectible in Stripe', status: 'uncollectible' },
  'invoice.deleted': { what: 'deleted in Stripe', status: 'deleted' },
};

export interface StripeResolution {
  reason: string;
  /** The invoice's status after the event (the event's own, when it carries one). */
  invoiceStatus: string;
}

export function stripeResolution(events: StripeInvoiceEvent[]): StripeResolution | null {
  for (const event of events) {
    const settling = SETTLING_EVENTS[event.type];
    if (settling) {
      const invoiceStatus = event.type === 'invoice.deleted' ? 'deleted' : (event.invoiceStatus ?? settling.status);
      return { reason: `the invoice was ${settling.what} (${event.eventId})`, invoiceStatus };
    }
    // invoice.updated carries the status too: a draft that left draft is settled.
    if (event.invoiceStatus && event.invoiceStatus !== 'draft') {
      return {
        reason: `the invoice became ${event.invoiceStatus} in Stripe (${event.eventId})`,
        invoiceStatus: event.invoiceStatus,
      };
    }
  }
  return null;
}
