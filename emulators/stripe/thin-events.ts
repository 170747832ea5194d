// Stripe's v2 events as event destinations deliver them: meter error reports built from the rejected
// meter events (world.meterRejections), sent as thin notifications (the v2 envelope, no `data`) signed
// like every webhook (`Stripe-Signature: t=...,v1=...`), the full event at GET /v2/core/events/:id.
// Event destinations: POST/GET/DELETE /v2/core/event_destinations (JSON bodies, as the v2 API takes).
import type { IncomingMessage, ServerResponse } from 'node:http';
import { randomId, type Obj } from './util';
import { signPayload } from './webhooks';
import type { MeterEventRejection, World } from './world';

export const METER_ERROR_EVENT_TYPES = ['v1.billing.meter.error_report_triggered', 'v1.billing.meter.no_meter_found'];

/** Sample errors kept per error code in one report (Stripe sends a few, not all). */
const MAX_SAMPLES = 5;
const MAX_ATTEMPTS = 5;

interface Destination {
  obj: Obj;
  url: string;
  secret: string;
}

class V2Error extends Error {
  constructor(
    readonly status: number,
    readonly type: string,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

const iso = (unixSeconds: number) => new Date(unixSeconds * 1000).toISOString();

export class ThinEvents {
  private readonly destinations = new Map<string, Destination>();
  /** Full v2 events by id. */
  readonly events = new Map<string, Obj>();
  private readonly timers = new Set<NodeJS.Timeout>();

  constructor(
    private readonly world: World,
    private readonly apiKey: string,
    private readonly retryBaseMs: number,
    private readonly log: (msg: string) => void,
  ) {}

  reset(): void {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    this.destinations.clear();
    this.events.clear();
  }

  /**
   * Turns the pending rejections into error reports, one per meter (one `no_meter_found` for events
   * naming no meter), and sends them. Returns the new events' ids.
   */
  report(): string[] {
    const pending = this.world.meterRejections;
    if (pending.length === 0) return [];
    this.world.meterRejections = [];
    const byMeter = new Map<string, MeterEventRejection[]>();
    for (const r of pending) {
      const key = r.meterId ?? '';
      const list = byMeter.get(key);
      if (list) list.push(r);
      else byMeter.set(key, [r]);
    }
    const ids: string[] = [];
    for (const [meterId, rejections] of byMeter) {
      const event = this.errorReport(meterId || null, rejections);
      this.events.set(event.id, event);
      ids.push(event.id);
      this.send(event);
    }
    return ids;
  }

  private errorReport(meterId: string | null, rejections: MeterEventRejection[]): Obj {
    const byCode = new Map<string, MeterEventRejection[]>();
    for (const r of rejections) {
      const list = byCode.get(r.code);
      if (list) list.push(r);
      else byCode.set(r.code, [r]);
    }
    const times = rejections.map((r) => r.receivedAt);
    const count = rejections.length;
    return {
      id: randomId('evt_test_', 40),
      object: 'v2.core.event',
      context: null,
      created: new Date().toISOString(),
      data: {
        developer_message_summary: count === 1 ? 'There is 1 invalid event' : `There are ${count} invalid events`,
        reason: {
          error_count: count,
          error_types: [...byCode].map(([code, list]) => ({
            code,
            error_count: list.length,
            sample_errors: list.slice(0, MAX_SAMPLES).map((r) => ({
              error_message: r.message,
              request: { identifier: r.identifier },
            })),
          })),
        },
        validation_end: iso(Math.max(...times) + 1),
        validation_start: iso(Math.min(...times)),
      },
      livemode: false,
      reason: null,
      ...(meterId
        ? { related_object: { id: meterId, type: 'billing.meter', url: `/v1/billing/meters/${meterId}` } }
        : {}),
      type: meterId ? 'v1.billing.meter.error_report_triggered' : 'v1.billing.meter.no_meter_found',
    };
  }

  /** The thin notification: the envelope without `data`. */
  private notification(event: Obj): Obj {
    const { data: _data, ...thin } = event;
    return thin;
  }

  private send(event: Obj): void {
    for (const d of this.destinations.values()) {
      const enabled = d.obj.enabled_events as string[];
      if (d.obj.status !== 'enabled' || !(enabled.includes('*') || enabled.includes(event.type))) continue;
      void this.attempt(d, this.notification(event), 1);
    }
  }

  private async attempt(d: Destination, thin: Obj, n: number): Promise<void> {
    const payload = JSON.stringify(thin, null, 2);
    let status: number | null = null;
    try {
      const res = await fetch(d.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json; charset=utf-8',
          'user-agent': 'Stripe/1.0 (+https://stripe.com/docs/webhooks)',
          'stripe-signature': signPayload(payload, d.secret, Math.floor(Date.now() / 1000)),
        },
        body: payload,
        signal: AbortSignal.timeout(10_000),
      });
      await res.arrayBuffer().catch(() => undefined);
      status = res.status;
    } catch (err) {
      this.log(`thin event ${thin.id} -> ${d.url}: ${(err as Error).message}`);
    }
    if (status !== null && status >= 200 && status < 300) return;
    if (!this.destinations.has(d.obj.id) || n >= MAX_ATTEMPTS) return;
    const timer = setTimeout(
      () => {
        this.timers.delete(timer);
        void this.attempt(d, thin, n + 1);
      },
      this.retryBaseMs * 2 ** (n - 1),
    );
    this.timers.add(timer);
  }

  async handle(req: IncomingMessage, res: ServerResponse, rawBody: string): Promise<void> {
    const method = (req.method ?? 'GET').toUpperCase();
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    let status = 200;
    let body: unknown;
    try {
      this.authenticate(req.headers.authorization);
      body = this.route(method, path, rawBody);
    } catch (err) {
      const e = err instanceof V2Error ? err : new V2Error(500, 'api_error', 'internal_error', (err as Error).message);
      status = e.status;
      body = { error: { type: e.type, code: e.code, message: e.message } };
    }
    res.statusCode = status;
    res.setHeader('content-type', 'application/json');
    res.setHeader('request-id', randomId('req_', 14));
    res.end(JSON.stringify(body, null, 2));
  }

  private authenticate(header: string | undefined): void {
    const key = header?.startsWith('Bearer ') ? header.slice(7).trim() : null;
    if (key !== this.apiKey) {
      throw new V2Error(401, 'invalid_request_error', 'unauthorized', 'Invalid or missing API key.');
    }
  }

  private route(method: string, path: string, rawBody: string): unknown {
    if (method === 'GET') {
      const event = /^\/v2\/core\/events\/([^/]+)$/.exec(path);
      if (event) return this.found(this.events.get(decodeURIComponent(event[1])), 'event', event[1]);
    }
    if (method === 'POST' && path === '/v2/core/event_destinations') return this.createDestination(rawBody);
    const dest = /^\/v2\/core\/event_destinations\/([^/]+)$/.exec(path);
    if (dest && method === 'GET') return this.found(this.destinations.get(dest[1])?.obj, 'event destination', dest[1]);
    if (dest && method === 'POST') return this.updateDestination(dest[1], rawBody);
    if (dest && method === 'DELETE') {
      this.found(this.destinations.get(dest[1]), 'event destination', dest[1]);
      this.destinations.delete(dest[1]);
      return { id: dest[1], object: 'v2.core.event_destination', deleted: true };
    }
    throw new V2Error(404, 'invalid_request_error', 'not_found', `Unrecognized request URL (${method}: ${path}).`);
  }

  private found<T>(value: T | undefined, what: string, id: string): T {
    if (value === undefined) throw new V2Error(404, 'invalid_request_error', 'not_found', `No such ${what}: '${id}'`);
    return value;
  }

  private jsonBody(rawBody: string): Obj {
    try {
      return JSON.parse(rawBody || '{}') as Obj;
    } catch {
      throw new V2Error(400, 'invalid_request_error', 'invalid_json', 'The request body is not valid JSON.');
    }
  }

  /** Only the URL changes (the gate moves its destination once it knows its port); the secret stays. */
  private updateDestination(id: string, rawBody: string): Obj {
    const d = this.found(this.destinations.get(id), 'event destination', id);
    const url = (this.jsonBody(rawBody).webhook_endpoint as Obj | undefined)?.url;
    if (url !== undefined) {
      if (typeof url !== 'string' || !/^https?:\/\//.test(url)) {
        throw new V2Error(
          400,
          'invalid_request_error',
          'webhook_endpoint.url',
          'webhook_endpoint.url must be an http(s) URL.',
        );
      }
      d.url = url;
      d.obj.updated = new Date().toISOString();
    }
    return d.obj;
  }

  private createDestination(rawBody: string): Obj {
    const params = this.jsonBody(rawBody);
    const invalid = (field: string, message: string) => new V2Error(400, 'invalid_request_error', field, message);
    if (typeof params.name !== 'string' || !params.name) throw invalid('name', 'name is required.');
    if (params.type !== 'webhook_endpoint') throw invalid('type', "type must be 'webhook_endpoint'.");
    if (params.event_payload !== 'thin') throw invalid('event_payload', "event_payload must be 'thin'.");
    const events = params.enabled_events as unknown;
    if (!Array.isArray(events) || events.length === 0 || !events.every((e) => typeof e === 'string')) {
      throw invalid('enabled_events', 'enabled_events must be a non-empty list of event types.');
    }
    const url = (params.webhook_endpoint as Obj | undefined)?.url;
    if (typeof url !== 'string' || !/^https?:\/\//.test(url)) {
      throw invalid('webhook_endpoint.url', 'webhook_endpoint.url must be an http(s) URL.');
    }
    const now = new Date().toISOString();
    const obj: Obj = {
      id: randomId('ed_test_', 40),
      object: 'v2.core.event_destination',
      created: now,
      description: typeof params.description === 'string' ? params.description : '',
      enabled_events: events,
      event_payload: 'thin',
      events_from: ['@self'],
      livemode: false,
      metadata: {},
      name: params.name,
      status: 'enabled',
      status_details: null,
      type: 'webhook_endpoint',
      updated: now,
      webhook_endpoint: null,
    };
    const secret = `whsec_${randomId('', 32)}`;
    this.destinations.set(obj.id, { obj, url, secret });
    // Redacted fields appear only in the create response, and only when asked for with `include`.
    const include = Array.isArray(params.include) ? (params.include as string[]) : [];
    const endpoint: Obj = {};
    if (include.includes('webhook_endpoint.signing_secret')) endpoint.signing_secret = secret;
    if (include.includes('webhook_endpoint.url')) endpoint.url = url;
    return { ...obj, webhook_endpoint: Object.keys(endpoint).length > 0 ? endpoint : null };
  }
}
