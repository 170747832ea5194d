// The two writes the gate makes to an invoice. Both carry idempotency keys derived from the invoice id,
// so a Temporal retry of the activity replays Stripe's saved answer instead of acting twice.
import Stripe from 'stripe';
import { callStripe, stripeErrorCode } from './stripe-failure';

export interface InvoiceActionResult {
  /** True when this call changed the invoice; false when Stripe had already moved it on. */
  applied: boolean;
  status: string;
  /**
   * Stripe's id of the request that made the change (the `request.id` of the events it caused; for an
   * idempotent replay, the original request's); null when this call changed nothing.
   */
  requestId?: string | null;
}

/** What a reviewer's release writes on the invoice, so the decision is visible in Stripe too. */
export interface ReleaseRecord {
  releasedBy: string;
  reason: string;
  /** The second approver, above the approval limit. */
  approvedBy?: string | null;
}

/** Stripe allows 500 characters a metadata value. */
const METADATA_VALUE_LIMIT = 500;

export function releaseMetadata(release: ReleaseRecord): Record<string, string> {
  const fit = (text: string) =>
    text.length <= METADATA_VALUE_LIMIT ? text : `${text.slice(0, METADATA_VALUE_LIMIT - 1)}…`;
  return {
    invoice_gate_status: 'released',
    invoice_gate_released_by: fit(
      release.approvedBy ? `${release.releasedBy}, approved by ${release.approvedBy}` : release.releasedBy,
    ),
    invoice_gate_reason: fit(release.reason),
  };
}

/** The id of the request that made a change: an idempotent replay names the original request. */
function causingRequestId(response: Stripe.Response<unknown>): string | null {
  const original = response.lastResponse?.headers?.['original-request'];
  return (typeof original === 'string' && original) || response.lastResponse?.requestId || null;
}

/** Stripe refuses these when the invoice is no longer a draft; that is an answer, not a failure. */
const ALREADY_MOVED_ON = new Set(['invoice_not_editable', 'invoice_unexpected_state', 'resource_missing']);

async function statusWhenRefused(stripe: Stripe, invoiceId: string, error: unknown): Promise<InvoiceActionResult> {
  const code = stripeErrorCode(error);
  if (!code || !ALREADY_MOVED_ON.has(code)) throw error;
  if (code === 'resource_missing') return { applied: false, status: 'deleted' };
  const invoice = await callStripe('invoice retrieve', () => stripe.invoices.retrieve(invoiceId));
  if (invoice.status === 'draft') throw error;
  return { applied: false, status: invoice.status ?? 'unknown' };
}

/**
 * Each pause of one invoice is its own write (a gate can pause, resume on a passing recheck, and pause
 * again on late usage): `pauseNumber` 1, 2, ... keeps their idempotency keys apart.
 */
export async function pauseInvoice(
  stripe: Stripe,
  invoiceId: string,
  metadata: Record<string, string>,
  pauseNumber = 1,
): Promise<InvoiceActionResult> {
  try {
    const invoice = await stripe.invoices.update(
      invoiceId,
      { auto_advance: false, metadata },
      {
        idempotencyKey:
          pauseNumber === 1 ? `invoice-gate-pause-${invoiceId}` : `invoice-gate-pause-${invoiceId}-${pauseNumber}`,
      },
    );
    return {
      applied: invoice.status === 'draft',
      status: invoice.status ?? 'unknown',
      requestId: causingRequestId(invoice),
    };
  } catch (error) {
    return callStripe('invoice pause', () => statusWhenRefused(stripe, invoiceId, error));
  }
}

/** Turns auto-advance back on after pause `pauseNumber`: Stripe finalizes the draft on its own schedule. */
export async function resumeInvoice(
  stripe: Stripe,
  invoiceId: string,
  metadata: Record<string, string>,
  pauseNumber: number,
): Promise<InvoiceActionResult> {
  try {
    const invoice = await stripe.invoices.update(
      invoiceId,
      { auto_advance: true, metadata },
      { idempotencyKey: `invoice-gate-resume-${invoiceId}-${pauseNumber}` },
    );
    return {
      applied: invoice.status === 'draft',
      status: invoice.status ?? 'unknown',
      requestId: causingRequestId(invoice),
    };
  } catch (error) {
    return callStripe('invoice resume', () => statusWhenRefused(stripe, invoiceId, error));
  }
}

/**
 * A reviewer's release: auto-advance back on with who released it and why, in one idempotent write
 * (keyed by the pause it ends), before the gate finalizes the invoice.
 */
export async function releaseInvoice(
  stripe: Stripe,
  invoiceId: string,
  release: ReleaseRecord,
  pauseNumber: number,
): Promise<InvoiceActionResult> {
  try {
    const invoice = await stripe.invoices.update(
      invoiceId,
      { auto_advance: true, metadata: releaseMetadata(release) },
      { idempotencyKey: `invoice-gate-release-${invoiceId}-${pauseNumber}` },
    );
    return {
      applied: invoice.status === 'draft',
      status: invoice.status ?? 'unknown',
      requestId: causingRequestId(invoice),
    };
  } catch (error) {
    return callStripe('invoice release', () => statusWhenRefused(stripe, invoiceId, error));
  }
}

export async function finalizeInvoice(stripe: Stripe, invoiceId: string): Promise<InvoiceActionResult> {
  try {
    const invoice = await stripe.invoices.finalizeInvoice(
      invoiceId,
      { auto_advance: true },
      { idempotencyKey: `invoice-gate-finalize-${invoiceId}` },
    );
    return { applied: true, status: invoice.status ?? 'open', requestId: causingRequestId(invoice) };
  } catch (error) {
    return callStripe('invoice finalize', () => statusWhenRefused(stripe, invoiceId, error));
  }
}
