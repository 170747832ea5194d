// What Stripe tells a gate after its first check: the invoice events that reached it, and the draft
// read and compared again.
import { laterStatus, mayChangeQuantities, statusOfEvent, type InvoiceStatus } from '../../gate/lifecycle';
import { stripeResolution, type StripeResolution } from '../../gate/stripe-resolution';
import { isBypass } from '../../gate/bypass';
import type { Comparison, StripeInvoiceEvent, Tolerance } from '../../gate/types';
import type { GateRun } from './gate-run';

/** What Stripe events that arrived meanwhile mean for the gate. */
export interface StripeNews {
  /** The invoice left draft (finalized, paid, voided, deleted): how, for the audit and the alert. */
  settled: StripeResolution | null;
  /** A draft's quantities may have changed (late usage): compare again. */
  quantitiesChanged: boolean;
  /** Someone other than the gate finalized or resumed the invoice while the gate held it: why, for people. */
  bypass: string | null;
}

/**
 * Applies the Stripe events that arrived: each event id once, Stripe's status only ever forward
 * (recorded in the audit), and says what they mean for the gate.
 */
export async function takeStripeNews(gate: GateRun): Promise<StripeNews> {
  const { state } = gate;
  const fresh = gate.inbox.takeFreshStripeEvents();
  const bypass = bypassIn(gate, fresh);
  const before = state.invoiceStatus as InvoiceStatus | null;
  let status = before;
  let paymentFailed = false;
  for (const event of fresh) {
    const reported = statusOfEvent(event);
    if (reported) status = laterStatus(status, reported);
    if (event.type === 'invoice.payment_failed') {
      paymentFailed = true;
      state.paymentFailures = Math.max((state.paymentFailures ?? 0) + 1, event.attemptCount ?? 0);
    }
  }
  if (status !== null) {
    state.invoiceStatus = status;
    await gate.recordStatus(status, paymentFailed);
  }
  const leftDraft = (before === null || before === 'draft') && status !== null && status !== 'draft';
  const resolution = leftDraft ? stripeResolution(fresh) : null;
  return {
    settled: leftDraft
      ? { reason: resolution?.reason ?? `the invoice became ${status} in Stripe`, invoiceStatus: status! }
      : null,
    quantitiesChanged:
      status === 'draft' && fresh.some((e) => e.type === 'invoice.updated' && mayChangeQuantities(e.changedFields)),
    bypass,
  };
}

/** The first event that moved the held invoice on without the gate (events from older webhooks name no request). */
function bypassIn(gate: GateRun, events: StripeInvoiceEvent[]): string | null {
  const { status, ownRequestIds = [] } = gate.state;
  const holding = status === 'held' || status === 'awaiting_second_approval';
  for (const event of events) {
    if (!event.request) continue;
    const origin = {
      type: event.type,
      invoiceStatus: event.invoiceStatus,
      requestId: event.request.id,
      idempotencyKey: event.request.idempotencyKey,
      changedFields: event.changedFields,
      autoAdvance: event.autoAdvance ?? null,
    };
    if (!isBypass(origin, { holding, ownRequestIds })) continue;
    const what = event.type === 'invoice.finalized' ? 'finalized' : 'auto-advance turned back on';
    const by = event.request.id ? `request ${event.request.id}` : 'no API request';
    const at = event.created ? ` at ${new Date(event.created * 1000).toISOString()}` : '';
    return `${what} outside the gate by ${by}${at} (event ${event.eventId})`;
  }
  return null;
}

/**
 * Late usage changed the draft: compare again. Returns the new comparison (null when the ledger
 * cannot be counted), or 'gone' when the invoice is no longer a draft (or no longer exists).
 */
export async function recheckDraft(gate: GateRun, tolerance: Tolerance): Promise<Comparison | null | 'gone'> {
  gate.lateUsage.recheckStarted(Date.now());
  const previous = gate.state.comparison;
  const invoice = await gate.read();
  if (!invoice) {
    await gate.noteInvoiceStatus('deleted');
    return 'gone';
  }
  if (invoice.status !== 'draft') {
    await gate.noteInvoiceStatus(invoice.status);
    return 'gone';
  }
  const comparison = await gate.countAndCompare(invoice, tolerance, 'late_usage');
  gate.state.previousComparison = previous;
  return comparison;
}
