// POST /webhooks/stripe: verify, then start or signal the invoice's gate. It answers 2xx only once
// Temporal has durably accepted the work, and 503 when it could not, so Stripe retries.
import type { FastifyPluginAsync } from 'fastify';
import type Stripe from 'stripe';
import type { GateLauncher } from './gate-launcher';
import { invoiceFromEvent, stripeEventSchema } from './stripe-event';

export interface StripeEventRecord {
  eventId: string;
  type: string;
  invoiceId: string | null;
  createdAt: number | null;
}

export interface StripeWebhookOptions {
  /** Read per request: with the Stripe emulator it is known only once the endpoint is registered. */
  webhookSecret: () => string | undefined;
  /** Used only for stripe.webhooks.constructEvent. */
  stripe: Stripe;
  gates: GateLauncher;
  /** Audit of every received event id (duplicates are recorded once). */
  recordEvent: (event: StripeEventRecord) => Promise<unknown>;
  onResult?: (eventType: string, result: string) => void;
  /** Stripe events are a few KB; 1 MiB leaves room for invoices with many lines. */
  bodyLimit?: number;
}

const STARTS_GATE = 'invoice.created';
/** Later invoice events that a held gate needs to hear about. */
const FOLLOW_UP_EVENTS = new Set([
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
export const GATE_EVENT_TYPES = [STARTS_GATE, ...FOLLOW_UP_EVENTS];

export const stripeWebhook: FastifyPluginAsync<StripeWebhookOptions> = async (app, options) => {
  const bodyLimit = options.bodyLimit ?? 1024 * 1024;
  // The signature covers the exact bytes, so this route keeps the raw body (encapsulated: other
  // routes keep Fastify's JSON parser).
  app.addContentTypeParser('application/json', { parseAs: 'buffer', bodyLimit }, (_request, body, done) =>
    done(null, body),
  );

  app.post('/webhooks/stripe', { bodyLimit }, async (request, reply) => {
    const signature = request.headers['stripe-signature'];
    if (typeof signature !== 'string' || signature.length === 0) {
      options.onResult?.('unknown', 'rejected');
      return reply.code(400).send({ error: 'missing_signature', message: 'Stripe-Signature header is required' });
    }
    if (!Buffer.isBuffer(request.body) || request.body.length === 0) {
      options.onResult?.('unknown', 'rejected');
      return reply.code(400).send({ error: 'missing_body', message: 'a JSON body is required' });
    }

    const secret = options.webhookSecret();
    if (!secret) {
      options.onResult?.('unknown', 'unavailable');
      return reply.code(503).send({ error: 'not_ready', message: 'the webhook endpoint is not registered yet' });
    }
    let verified: unknown;
    try {
      verified = options.stripe.webhooks.constructEvent(request.body, signature, secret);
    } catch (error) {
      options.onResult?.('unknown', 'rejected');
      return reply.code(400).send({ error: 'invalid_signature', message: (error as Error).message });
    }
    const parsed = stripeEventSchema.safeParse(verified);
    if (!parsed.success) {
      options.onResult?.('unknown', 'rejected');
      return reply.code(400).send({ error: 'invalid_event', message: 'the body is not a Stripe event' });
    }
    const event = parsed.data;
    const log = request.log.child({ stripeEventId: event.id, eventType: event.type });

    if (event.type !== STARTS_GATE && !FOLLOW_UP_EVENTS.has(event.type)) {
      options.onResult?.(event.type, 'ignored');
      return reply.code(200).send({ received: true, ignored: true });
    }
    const invoice = invoiceFromEvent(event);
    if ('error' in invoice) {
      options.onResult?.(event.type, 'rejected');
      return reply.code(400).send({ error: 'invalid_event', message: invoice.error });
    }

    let result: string;
    try {
      result =
        event.type === STARTS_GATE
          ? await options.gates.startGate(invoice, event.id)
          : await options.gates.signalGate(invoice.id, {
              eventId: event.id,
              type: event.type,
              invoiceStatus: event.type === 'invoice.deleted' ? 'deleted' : invoice.status,
            });
      await options.recordEvent({ eventId: event.id, type: event.type, invoiceId: invoice.id, createdAt: event.created ?? null });
    } catch (error) {
      log.error({ err: error, invoiceId: invoice.id }, 'could not hand the event to the gate; Stripe will retry');
      options.onResult?.(event.type, 'unavailable');
      return reply.code(503).send({ error: 'temporarily_unavailable', message: 'the gate could not accept the event; retry later' });
    }
    log.info({ invoiceId: invoice.id, result }, 'stripe event accepted');
    options.onResult?.(event.type, result);
    return reply.code(200).send({ received: true, result });
  });
};
