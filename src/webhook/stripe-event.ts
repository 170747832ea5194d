// The Stripe events the gate acts on, and the part of a verified event it relies on, validated once.
import { z } from 'zod';

/** The event that starts an invoice's gate. */
export const STARTS_GATE = 'invoice.created';
/** Later invoice events that a held gate needs to hear about. */
export const FOLLOW_UP_EVENTS: ReadonlySet<string> = new Set([
  'invoice.updated',
  'invoice.finalized',
  'invoice.paid',
  'invoice.payment_succeeded',
  'invoice.payment_failed',
  'invoice.voided',
  'invoice.marked_uncollectible',
  'invoice.deleted',
]);

/** Every event type the endpoint acts on: what a Stripe webhook endpoint for the gate subscribes to. */
export const GATE_EVENT_TYPES: readonly string[] = [STARTS_GATE, ...FOLLOW_UP_EVENTS];

/** Stripe's invoice ids; anything else (a path, a script, an id too long for a workflow id) is refused. */
export const INVOICE_ID = /^in_[A-Za-z0-9]{1,255}$/;

const invoiceObject = z.object({
  id: z.string().min(1),
  object: z.literal('invoice'),
  status: z.string().nullable().optional(),
  customer: z.union([z.string(), z.object({ id: z.string() }), z.null()]).optional(),
  created: z.number().int().optional(),
  automatically_finalizes_at: z.number().int().nullable().optional(),
  currency: z.string().optional(),
  attempt_count: z.number().int().optional(),
  auto_advance: z.boolean().nullable().optional(),
});

/** Who caused the event: the API request (null for what Stripe did on its own). */
const eventRequest = z
  .union([
    z.object({ id: z.string().nullable().optional(), idempotency_key: z.string().nullable().optional() }),
    z.string(), // API versions before 2017-05-25 sent the request id alone
    z.null(),
  ])
  .optional();

export const stripeEventSchema = z.object({
  id: z.string().min(1),
  type: z.string().min(1),
  created: z.number().int().optional(),
  livemode: z.boolean().optional(),
  request: eventRequest,
  data: z.object({
    object: z.object({ object: z.string().optional() }).passthrough(),
    previous_attributes: z.record(z.string(), z.unknown()).nullable().optional(),
  }),
});

export type StripeEventEnvelope = z.infer<typeof stripeEventSchema>;

/** The invoice an event is about, with what the gate uses of it. */
export interface InvoiceFromEvent {
  id: string;
  status: string | null;
  customerId: string | null;
  createdAt: number | null;
  automaticallyFinalizesAt: number | null;
  currency: string | null;
  livemode: boolean | null;
  /** invoice.payment_failed: attempts so far. */
  attemptCount: number | null;
  /** invoice.updated: the keys of previous_attributes (what changed). */
  changedFields: string[] | null;
  autoAdvance: boolean | null;
  /** The API request that caused the event (id null: Stripe acted on its own). */
  request: { id: string | null; idempotencyKey: string | null };
}

export function invoiceFromEvent(event: StripeEventEnvelope): InvoiceFromEvent | { error: string } {
  const parsed = invoiceObject.safeParse(event.data.object);
  if (!parsed.success) {
    return { error: `event ${event.id} (${event.type}) does not carry an invoice: ${z.prettifyError(parsed.error)}` };
  }
  const invoice = parsed.data;
  if (!INVOICE_ID.test(invoice.id)) {
    return {
      error: `event ${event.id} (${event.type}) names an invoice id that is not a Stripe invoice id (in_ followed by 1 to 255 letters or digits)`,
    };
  }
  const previous = event.data.previous_attributes;
  return {
    id: invoice.id,
    status: invoice.status ?? null,
    customerId: typeof invoice.customer === 'string' ? invoice.customer : (invoice.customer?.id ?? null),
    createdAt: invoice.created ?? null,
    automaticallyFinalizesAt: invoice.automatically_finalizes_at ?? null,
    currency: invoice.currency ?? null,
    livemode: event.livemode ?? null,
    attemptCount: invoice.attempt_count ?? null,
    changedFields: previous ? Object.keys(previous) : null,
    autoAdvance: invoice.auto_advance ?? null,
    request: requestOf(event.request),
  };
}

function requestOf(request: StripeEventEnvelope['request']): { id: string | null; idempotencyKey: string | null } {
  if (typeof request === 'string') return { id: request, idempotencyKey: null };
  return { id: request?.id ?? null, idempotencyKey: request?.idempotency_key ?? null };
}
