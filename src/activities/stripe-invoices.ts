// Activities that read and change the invoice in Stripe.
import type Stripe from 'stripe';
import type { InvoiceSnapshot } from '../gate/types';
import { finalizeInvoice, pauseInvoice, type InvoiceActionResult } from '../stripe/invoice-actions';
import { cachedMeterLookup, readInvoiceSnapshot } from '../stripe/read-invoice';

export function createStripeInvoiceActivities(stripe: Stripe) {
  const meters = cachedMeterLookup(stripe);
  return {
    async readInvoice(invoiceId: string): Promise<InvoiceSnapshot> {
      return readInvoiceSnapshot(stripe, invoiceId, meters);
    },

    /** auto_advance=false stops Stripe's scheduled finalization; the metadata tells a human why. */
    async pauseInvoice(invoiceId: string, workflowId: string): Promise<InvoiceActionResult> {
      return pauseInvoice(stripe, invoiceId, {
        invoice_gate_status: 'held',
        invoice_gate_workflow_id: workflowId,
      });
    },

    async finalizeInvoice(invoiceId: string): Promise<InvoiceActionResult> {
      return finalizeInvoice(stripe, invoiceId);
    },
  };
}
