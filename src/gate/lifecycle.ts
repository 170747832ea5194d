// Stripe's status of an invoice as the gate follows it. Stripe's statuses only move forward
// (draft -> open -> paid | uncollectible | void; uncollectible -> paid | void; a draft can be deleted),
// while webhooks arrive duplicated and out of order: the gate keeps the furthest status it has seen.
import type { StripeInvoiceEvent } from './types';

export type InvoiceStatus = 'draft' | 'open' | 'paid' | 'uncollectible' | 'void' | 'deleted';

/** How far along each status is; a recorded status is only ever replaced by one further along. */
export const INVOICE_STATUS_RANK: Readonly<Record<InvoiceStatus, number>> = {
  draft: 0,
  open: 1,
  uncollectible: 2,
  paid: 3,
  void: 3,
  deleted: 3,
};
const RANK = INVOICE_STATUS_RANK;

/** What each invoice event says the status is when its object does not say it better. */
const STATUS_OF_EVENT: Record<string, InvoiceStatus> = {
  'invoice.finalized': 'open',
  'invoice.paid': 'paid',
  'invoice.payment_succeeded': 'paid',
  'invoice.payment_failed': 'open',
  'invoice.voided': 'void',
  'invoice.marked_uncollectible': 'uncollectible',
  'invoice.deleted': 'deleted',
};

export function isInvoiceStatus(value: unknown): value is InvoiceStatus {
  return typeof value === 'string' && value in RANK;
}

/** The status an invoice event reports; null for events that say nothing about it. */
export function statusOfEvent(event: Pick<StripeInvoiceEvent, 'type' | 'invoiceStatus'>): InvoiceStatus | null {
  // A deleted draft's last object still reads "draft".
  if (event.type === 'invoice.deleted') return 'deleted';
  if (isInvoiceStatus(event.invoiceStatus)) return event.invoiceStatus;
  return STATUS_OF_EVENT[event.type] ?? null;
}

/** The later of two statuses: a status never moves back (paid never returns to open). */
export function laterStatus(current: InvoiceStatus | null, next: InvoiceStatus): InvoiceStatus {
  if (current === null) return next;
  return RANK[next] > RANK[current] ? next : current;
}

/** Nothing more happens to the invoice that the gate follows it for. */
export function isSettled(status: InvoiceStatus | null): boolean {
  return status === 'paid' || status === 'void' || status === 'uncollectible' || status === 'deleted';
}

/** Stripe's fields that the gate's own writes change: an invoice.updated with only these is the gate's echo. */
const GATE_WRITTEN_FIELDS: ReadonlySet<string> = new Set(['auto_advance', 'metadata', 'automatically_finalizes_at']);

/**
 * Whether an invoice.updated may have changed what the invoice bills (late usage recalculated the
 * draft's lines). Without the list of changed fields, assume it did.
 */
export function mayChangeQuantities(changedFields: readonly string[] | undefined): boolean {
  if (!changedFields || changedFields.length === 0) return true;
  return changedFields.some((field) => !GATE_WRITTEN_FIELDS.has(field));
}
