// Bypass: a held invoice finalized, or its auto-advance turned back on, by someone other than the gate
// (the Dashboard, another integration). The gate knows the requests it made itself; Stripe names the
// request behind every event (`request.id`, null for what Stripe did on its own).

/** Every idempotency key the gate sends starts with this. */
export const GATE_IDEMPOTENCY_PREFIX = 'invoice-gate-';

export interface InvoiceEventOrigin {
  type: string;
  /** Stripe's status in the event's invoice. */
  invoiceStatus: string | null;
  /** `request.id` of the API call that caused the event; null when Stripe acted on its own. */
  requestId: string | null;
  /** `request.idempotency_key` of that call. */
  idempotencyKey: string | null;
  /** invoice.updated: the keys of `data.previous_attributes`. */
  changedFields?: readonly string[];
  /** The invoice's `auto_advance` in the event. */
  autoAdvance?: boolean | null;
}

export interface HoldingGate {
  /** The gate holds the invoice paused now, waiting for a reviewer. */
  holding: boolean;
  /** Request ids of the gate's own writes to this invoice. */
  ownRequestIds: readonly string[];
}

function movesInvoiceOn(event: InvoiceEventOrigin): boolean {
  if (event.type === 'invoice.finalized') return true;
  if (event.type === 'invoice.updated') {
    return (event.changedFields ?? []).includes('auto_advance') && event.autoAdvance === true;
  }
  return false;
}

function madeByGate(event: InvoiceEventOrigin, gate: HoldingGate): boolean {
  if (event.idempotencyKey?.startsWith(GATE_IDEMPOTENCY_PREFIX)) return true;
  return event.requestId !== null && gate.ownRequestIds.includes(event.requestId);
}

/** True when the event moved a held invoice on and the gate did not make it. */
export function isBypass(event: InvoiceEventOrigin, gate: HoldingGate): boolean {
  return gate.holding && movesInvoiceOn(event) && !madeByGate(event, gate);
}
