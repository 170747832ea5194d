// POST /webhooks/stripe: verify, then start or signal the invoice's gate. It answers 2xx only once
// Temporal has durably accepted the work, and 503 when it could not, so Stripe retries. Every answer
// notes its result on the reply; one onResponse hook counts it (webhooks by type and result) and logs
// it as one line (Fastify's own two request lines are off for this route: at month end they were a
// sixth of the route's CPU).
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type Stripe from 'stripe';
import { FifoLimiter, SlotWaitTimeoutError } from './fifo-limiter';
import type { GateLauncher, SignalResult, StartResult } from '../client/gate-client';
import {
  FOLLOW_UP_EVENTS,
  invoiceFromEvent,
  STARTS_GATE,
  stripeEventSchema,
  type InvoiceFromEvent,
  type StripeEventEnvelope,
} from './stripe-event';

export interface StripeEventRecord {
  eventId: string;
  type: string;
  invoiceId: string | null;
  createdAt: number | null;
}

export interface StripeWebhookOptions {
  /** The endpoint's signing secret (whsec_...). */
  webhookSecret: string;
  /** Used only for stripe.webhooks.constructEvent. */
  stripe: Stripe;
  gates: GateLauncher;
  /** Audit of every received event id (duplicates are recorded once). */
  recordEvent: (event: StripeEventRecord) => Promise<unknown>;
  /** Counts each answered webhook by event type and result (GateMetrics satisfies it). */
  metrics?: { webhookReceived(eventType: string, result: string): void };
  /** Stripe events are a few KB; 1 MiB leaves room for invoices with many lines. */
  bodyLimit?: number;
  /**
   * The mode of the configured Stripe key (true: live). An event of the other mode reached the wrong
   * deployment: it is acknowledged and ignored, never gated. Undefined: no check.
   */
  livemode?: boolean;
  /**
   * Events being handed to the gate at once (Temporal start or signal plus the audit insert). Beyond
   * it the webhook answers 503 at once: Stripe retries later, instead of a queue that grows until its
   * requests time out at Stripe's sender (10 s) and the server spends its time on answers nobody reads.
   */
  maxInFlight?: number;
  /**
   * Of those, the events whose Temporal start or signal is outstanding at once; the others wait their
   * turn in arrival order (see DEFAULT_TEMPORAL_CALLS_AT_ONCE).
   */
  temporalCallsAtOnce?: number;
}

/**
 * Stripe's concurrency, not ours, sets how many deliveries wait at once; the bound only stops a queue
 * that would outgrow Stripe's timeout. 400 is about 1.5 s of hand-offs at the combined process's rate
 * (bench/README.md, ingress), and 200 concurrent deliveries (the benchmark) are never refused.
 */
export const DEFAULT_MAX_IN_FLIGHT = 400;

/**
 * grpc-js multiplexes every call on one HTTP/2 connection. With 200 outstanding, answers came back in
 * no useful order: p50 64 ms but p99 0.5 s and the slowest 1.5 s. With 32 outstanding and the rest
 * queued here in arrival order, the same load has p99 at about twice p50 (bench/README.md, ingress).
 */
export const DEFAULT_TEMPORAL_CALLS_AT_ONCE = 32;

/**
 * An event waits at most this long for its turn; then it gets a 503 and Stripe retries. With the
 * gate client's 8 s deadline on the call itself, the answer still comes inside Stripe's ~10 s.
 */
const TEMPORAL_CALL_MAX_WAIT_MS = 1_000;

/** What the webhook made of one request: the event type ('unknown' before verification) and the result. */
export interface StripeWebhookResult {
  eventType: string;
  result: 'rejected' | 'ignored' | 'unavailable' | 'overloaded' | StartResult | SignalResult;
  stripeEventId?: string;
  invoiceId?: string;
  /** Why a request was rejected. */
  reason?: string;
}

export const STRIPE_WEBHOOK_PATH = '/webhooks/stripe';

/** For Fastify's LogController: this route writes one line per request itself. */
export function logsItsOwnRequests(request: { method?: string; url?: string }): boolean {
  return request.method === 'POST' && (request.url?.startsWith(STRIPE_WEBHOOK_PATH) ?? false);
}

declare module 'fastify' {
  interface FastifyReply {
    /** Set by POST /webhooks/stripe before it answers; null on other routes. */
    stripeWebhookResult: StripeWebhookResult | null;
  }
}

interface ErrorBody {
  error: string;
  message: string;
}

const errorBody = {
  type: 'object',
  required: ['error', 'message'],
  properties: { error: { type: 'string' }, message: { type: 'string' } },
} as const;

const routeSchema = {
  // Checked here, answered by the handler: a missing signature gets the same JSON error as a bad one.
  headers: {
    type: 'object',
    required: ['stripe-signature'],
    properties: { 'stripe-signature': { type: 'string', minLength: 1 } },
  },
  response: {
    200: {
      type: 'object',
      required: ['received'],
      properties: { received: { type: 'boolean' }, ignored: { type: 'boolean' }, result: { type: 'string' } },
    },
    400: errorBody,
    503: errorBody,
  },
} as const;

export const stripeWebhook: FastifyPluginAsync<StripeWebhookOptions> = async (app, options) => {
  const bodyLimit = options.bodyLimit ?? 1024 * 1024;
  // The signature covers the exact bytes, so this route keeps the raw body (encapsulated: other
  // routes keep Fastify's JSON parser).
  app.addContentTypeParser('application/json', { parseAs: 'buffer', bodyLimit }, (_request, body, done) =>
    done(null, body),
  );
  app.decorateReply('stripeWebhookResult', null);
  const metrics = options.metrics;
  const maxInFlight = options.maxInFlight ?? DEFAULT_MAX_IN_FLIGHT;
  const temporalCalls = new FifoLimiter(options.temporalCallsAtOnce ?? DEFAULT_TEMPORAL_CALLS_AT_ONCE);
  let inFlight = 0;
  app.addHook('onResponse', async (request, reply) => {
    const noted = reply.stripeWebhookResult;
    if (noted) metrics?.webhookReceived(noted.eventType, noted.result);
    const line = {
      method: request.method,
      url: request.url,
      statusCode: reply.statusCode,
      responseTime: reply.elapsedTime,
    };
    // Refused before the handler ran (body too large, wrong content type): Fastify's answer, logged here.
    if (!noted) request.log.warn(line, 'stripe webhook refused before verification');
    else request.log[reply.statusCode < 400 ? 'info' : 'warn']({ ...noted, ...line }, 'stripe webhook answered');
  });

  app.post(STRIPE_WEBHOOK_PATH, { bodyLimit, schema: routeSchema, attachValidation: true }, async (request, reply) => {
    const verified = verifyStripeEvent(request, options);
    if ('rejected' in verified)
      return answer(
        reply,
        400,
        { eventType: 'unknown', result: 'rejected', reason: verified.rejected.error },
        verified.rejected,
      );
    const event = verified.event;
    const noted = { eventType: event.type, stripeEventId: event.id };

    if (event.type !== STARTS_GATE && !FOLLOW_UP_EVENTS.has(event.type)) {
      return answer(reply, 200, { ...noted, result: 'ignored' }, { received: true, ignored: true });
    }
    const invoice = invoiceFromEvent(event);
    if ('error' in invoice) {
      return answer(
        reply,
        400,
        { ...noted, result: 'rejected', reason: 'invalid_event' },
        { error: 'invalid_event', message: invoice.error },
      );
    }

    const about = { ...noted, invoiceId: invoice.id };
    if (options.livemode !== undefined && invoice.livemode !== null && invoice.livemode !== options.livemode) {
      request.log.warn(
        { ...about, eventLivemode: invoice.livemode, keyLivemode: options.livemode },
        'a Stripe event of the other mode reached this deployment; acknowledged and ignored',
      );
      return answer(reply, 200, { ...about, result: 'ignored' }, { received: true, ignored: true });
    }
    if (inFlight >= maxInFlight) {
      return overloaded(reply, about, `${inFlight} events are being handed to the gate`);
    }
    let result: StartResult | SignalResult;
    inFlight += 1;
    try {
      result = await handToGate(event, invoice, options, temporalCalls);
    } catch (error) {
      if (error instanceof SlotWaitTimeoutError) return overloaded(reply, about, error.message);
      request.log.error({ ...about, err: error }, 'could not hand the event to the gate; Stripe will retry');
      return answer(
        reply,
        503,
        { ...about, result: 'unavailable' },
        { error: 'temporarily_unavailable', message: 'the gate could not accept the event; retry later' },
      );
    } finally {
      inFlight -= 1;
    }
    return answer(reply, 200, { ...about, result }, { received: true, result });
  });
};

/** Checks the signature over the raw body and the event's shape; says why when it is not one. */
function verifyStripeEvent(
  request: FastifyRequest,
  options: Pick<StripeWebhookOptions, 'stripe' | 'webhookSecret'>,
): { event: StripeEventEnvelope } | { rejected: ErrorBody } {
  const signature = request.headers['stripe-signature'];
  if (request.validationError || typeof signature !== 'string') {
    return { rejected: { error: 'missing_signature', message: 'Stripe-Signature header is required' } };
  }
  if (!Buffer.isBuffer(request.body) || request.body.length === 0) {
    return { rejected: { error: 'missing_body', message: 'a JSON body is required' } };
  }
  let verified: unknown;
  try {
    verified = options.stripe.webhooks.constructEvent(request.body, signature, options.webhookSecret);
  } catch (error) {
    return { rejected: { error: 'invalid_signature', message: (error as Error).message } };
  }
  const parsed = stripeEventSchema.safeParse(verified);
  if (!parsed.success) return { rejected: { error: 'invalid_event', message: 'the body is not a Stripe event' } };
  return { event: parsed.data };
}

/** Starts the invoice's gate (invoice.created) or signals it a later event, then records the event. */
async function handToGate(
  event: StripeEventEnvelope,
  invoice: InvoiceFromEvent,
  options: Pick<StripeWebhookOptions, 'gates' | 'recordEvent'>,
  temporalCalls: FifoLimiter,
): Promise<StartResult | SignalResult> {
  const result = await temporalCalls.run(
    () =>
      event.type === STARTS_GATE
        ? options.gates.startGate(invoice, event.id)
        : options.gates.signalInvoiceEvent(invoice.id, {
            eventId: event.id,
            type: event.type,
            invoiceStatus: event.type === 'invoice.deleted' ? 'deleted' : invoice.status,
            ...(event.created === undefined ? {} : { created: event.created }),
            ...(invoice.changedFields ? { changedFields: invoice.changedFields } : {}),
            ...(invoice.attemptCount === null ? {} : { attemptCount: invoice.attemptCount }),
            ...(invoice.autoAdvance === null ? {} : { autoAdvance: invoice.autoAdvance }),
            request: invoice.request,
          }),
    { maxWaitMs: TEMPORAL_CALL_MAX_WAIT_MS },
  );
  await options.recordEvent({
    eventId: event.id,
    type: event.type,
    invoiceId: invoice.id,
    createdAt: event.created ?? null,
  });
  return result;
}

/** 503 with Retry-After: the gate is busy, not broken; Stripe's retry will be accepted. */
function overloaded(reply: FastifyReply, about: Omit<StripeWebhookResult, 'result'>, why: string): FastifyReply {
  return answer(
    reply.header('retry-after', '1'),
    503,
    { ...about, result: 'overloaded' },
    { error: 'overloaded', message: `${why}; retry later` },
  );
}

function answer(reply: FastifyReply, status: 200 | 400 | 503, noted: StripeWebhookResult, body: object): FastifyReply {
  reply.stripeWebhookResult = noted;
  return reply.code(status).send(body);
}
