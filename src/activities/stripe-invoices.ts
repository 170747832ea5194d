// Activities that read and change the invoice in Stripe. Their log lines carry the invoice id; Temporal's
// activity logger adds the workflow id and attempt.
import { log } from '@temporalio/activity';
import type Stripe from 'stripe';
import type { InvoiceSnapshot } from '../gate/types';
import {
  finalizeInvoice,
  pauseInvoice,
  releaseInvoice,
  resumeInvoice,
  type InvoiceActionResult,
  type ReleaseRecord,
} from '../stripe/invoice-actions';
import { cachedMeterLookup, cachedPriceLookup, readInvoiceSnapshot, type PriceLookup } from '../stripe/read-invoice';

export function createStripeInvoiceActivities(stripe: Stripe, prices: PriceLookup = cachedPriceLookup(stripe)) {
  const meters = cachedMeterLookup(stripe);
  return {
    async readInvoice(invoiceId: string): Promise<InvoiceSnapshot> {
      const snapshot = await readInvoiceSnapshot(stripe, invoiceId, meters, prices);
      log.info('invoice read', { invoiceId, status: snapshot.status, meteredLines: snapshot.meteredLines.length });
      return snapshot;
    },

    /** auto_advance=false stops Stripe's scheduled finalization; the metadata tells a human why. */
    async pauseInvoice(invoiceId: string, workflowId: string, pauseNumber = 1): Promise<InvoiceActionResult> {
      const metadata = { invoice_gate_status: 'held', invoice_gate_workflow_id: workflowId };
      const result = await pauseInvoice(stripe, invoiceId, metadata, pauseNumber);
      log.info(result.applied ? 'invoice paused' : 'invoice could not be paused', {
        invoiceId,
        pauseNumber,
        ...result,
      });
      return result;
    },

    /** auto_advance=true again after a pause the gate no longer needs: Stripe finalizes on its schedule. */
    async resumeInvoice(invoiceId: string, pauseNumber: number): Promise<InvoiceActionResult> {
      const result = await resumeInvoice(stripe, invoiceId, { invoice_gate_status: 'passed' }, pauseNumber);
      log.info(result.applied ? 'invoice resumed' : 'invoice was no longer a draft', {
        invoiceId,
        pauseNumber,
        ...result,
      });
      return result;
    },

    /** A reviewer's release: auto-advance on again, with who released it and why in the invoice's metadata. */
    async releaseInvoice(invoiceId: string, release: ReleaseRecord, pauseNumber: number): Promise<InvoiceActionResult> {
      const result = await releaseInvoice(stripe, invoiceId, release, pauseNumber);
      log.info(result.applied ? 'invoice released' : 'invoice was no longer a draft', {
        invoiceId,
        pauseNumber,
        ...result,
      });
      return result;
    },

    async finalizeInvoice(invoiceId: string): Promise<InvoiceActionResult> {
      const result = await finalizeInvoice(stripe, invoiceId);
      log.info(result.applied ? 'invoice finalized' : 'invoice was already finalized', { invoiceId, ...result });
      return result;
    },
  };
}

export type StripeInvoiceActivities = ReturnType<typeof createStripeInvoiceActivities>;
