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

const invoiceObject = z.object({
  id: z.string().min(1),
  object: z.literal('invoice'),
  status: z.string().nullable().optional(),
  customer: z.union([z.string(), z.object({ id: z.string() }), z.null()]).optional(),
});

export const stripeEventSchema = z.object({
  id: z.string().min(1),
  type: z.string().min(1),
  created: z.number().int().optional(),
  data: z.object({ object: z.object({ object: z.string().optional() }).passthrough() }),
});

export type StripeEventEnvelope = z.infer<typeof stripeEventSchema>;
export type InvoiceFromEvent = { id: string; status: string | null; customerId: string | null };

export function invoiceFromEvent(event: StripeEventEnvelope): InvoiceFromEvent | { error: string } {
  const parsed = invoiceObject.safeParse(event.data.object);
  if (!parsed.success) {
    return { error: `event ${event.id} (${event.type}) does not carry an invoice: ${z.prettifyError(parsed.error)}` };
  }
  const { id, status, customer } = parsed.data;
  return {
    id,
    status: status ?? null,
    customerId: typeof customer === 'string' ? customer : customer?.id ?? null,
  };
}
