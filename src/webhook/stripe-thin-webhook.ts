// POST /webhooks/stripe/thin: Stripe's thin (v2) events from an event destination. Only meter error
// reports are used: the notification is verified and parsed by the SDK (parseEventNotification), the
// full event fetched from Stripe (fetchEvent: GET /v2/core/events/:id) and stored per meter. A forged
// or malformed notification gets 400 and stores nothing; a fetch or store that fails gets 503, so
// Stripe delivers it again. Like POST /webhooks/stripe, it logs one line per request itself.
import type { FastifyPluginAsync, FastifyReply } from 'fastify';
import type Stripe from 'stripe';
import type { MeterErrorReportInput } from '../audit/meter-error-store';
import { METER_ERROR_EVENT_TYPES, meterErrorReportFromEvent } from './meter-error-report';

export const STRIPE_THIN_WEBHOOK_PATH = '/webhooks/stripe/thin';

export interface StripeThinWebhookOptions {
  /** The event destination's signing secret (whsec_...). */
  thinWebhookSecret: string;
  /** Verifies and parses notifications, and fetches their full events. */
  stripe: Stripe;
  /** Stores a report once; resolves to false for one already stored. */
  recordReport: (report: MeterErrorReportInput) => Promise<boolean>;
  bodyLimit?: number;
}

interface Answer {
  status: number;
  body: Record<string, unknown>;
  eventType?: string;
  eventId?: string;
  result: 'rejected' | 'ignored' | 'stored' | 'duplicate' | 'unavailable';
}

const isMeterErrorType = (type: string): boolean => (METER_ERROR_EVENT_TYPES as readonly string[]).includes(type);

export const stripeThinWebhook: FastifyPluginAsync<StripeThinWebhookOptions> = async (app, options) => {
  const bodyLimit = options.bodyLimit ?? 64 * 1024;
  // The signature covers the exact bytes: this route keeps the raw body (encapsulated to this plugin).
  app.addContentTypeParser('application/json', { parseAs: 'buffer', bodyLimit }, (_request, body, done) =>
    done(null, body),
  );

  app.post(STRIPE_THIN_WEBHOOK_PATH, { bodyLimit }, async (request, reply) => {
    const answer = await handle(request.body, request.headers['stripe-signature'], options, (err, message) =>
      request.log.error({ err }, message),
    );
    const line = {
      method: request.method,
      url: request.url,
      statusCode: answer.status,
      eventType: answer.eventType ?? 'unknown',
      stripeEventId: answer.eventId,
      result: answer.result,
    };
    request.log[answer.status < 400 ? 'info' : 'warn'](line, 'stripe thin event answered');
    return send(reply, answer);
  });
};

function send(reply: FastifyReply, answer: Answer) {
  return reply.code(answer.status).send(answer.body);
}

async function handle(
  body: unknown,
  signature: string | string[] | undefined,
  options: StripeThinWebhookOptions,
  logError: (err: unknown, message: string) => void,
): Promise<Answer> {
  const rejected = (error: string, message: string): Answer => ({
    status: 400,
    body: { error, message },
    result: 'rejected',
  });
  if (typeof signature !== 'string' || signature === '') {
    return rejected('missing_signature', 'Stripe-Signature header is required');
  }
  if (!Buffer.isBuffer(body) || body.length === 0) return rejected('missing_body', 'a JSON body is required');
  let notification: Stripe.V2.Core.EventNotification;
  try {
    notification = options.stripe.parseEventNotification(body, signature, options.thinWebhookSecret);
  } catch (error) {
    const forged = (error as { type?: unknown }).type === 'StripeSignatureVerificationError';
    return rejected(forged ? 'invalid_signature' : 'invalid_event', (error as Error).message);
  }
  // Verified, yet not a thin event of the shape every notification has.
  if (typeof notification.id !== 'string' || typeof notification.type !== 'string' || notification.id === '') {
    return rejected('invalid_event', 'the body is not a Stripe thin event');
  }
  const about = { eventType: notification.type, eventId: notification.id };
  if (!isMeterErrorType(notification.type)) {
    return { ...about, status: 200, body: { received: true, ignored: true }, result: 'ignored' };
  }
  let report: ReturnType<typeof meterErrorReportFromEvent>;
  try {
    // The meter's event_name too: the audit's lines name meters by it (one read per report, which is rare).
    const meter =
      notification.type === 'v1.billing.meter.error_report_triggered' ? await notification.fetchRelatedObject() : null;
    report = meterErrorReportFromEvent(await notification.fetchEvent(), meterEventName(meter));
  } catch (error) {
    logError(error, 'could not fetch the full meter error report from Stripe; Stripe will deliver it again');
    return unavailable(about);
  }
  if ('error' in report) return { ...rejected('invalid_event', report.error), ...about };
  if (report.eventId !== notification.id || report.eventType !== notification.type) {
    return { ...rejected('invalid_event', 'the fetched event is not the one notified'), ...about };
  }
  try {
    const stored = await options.recordReport(report);
    return {
      ...about,
      status: 200,
      body: { received: true },
      result: stored ? 'stored' : 'duplicate',
    };
  } catch (error) {
    logError(error, 'could not store the meter error report; Stripe will deliver it again');
    return unavailable(about);
  }
}

function meterEventName(meter: unknown): string | null {
  const name = (meter as { event_name?: unknown } | null)?.event_name;
  return typeof name === 'string' ? name : null;
}

function unavailable(about: { eventType: string; eventId: string }): Answer {
  return {
    ...about,
    status: 503,
    body: { error: 'temporarily_unavailable', message: 'the report could not be stored; retry later' },
    result: 'unavailable',
  };
}
