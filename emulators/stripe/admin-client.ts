// Typed client for the emulator's admin API (/_emulator/...), for tests, the demo and scripts.
import type { SeedOptions } from './admin';
import type { FaultSettings } from './faults';
import type { RequestLogEntry } from './server';
import type { Delivery, DeliverySettings } from './webhooks';
import type { BillingSettings } from './world';

export type { SeedOptions, FaultSettings, RequestLogEntry, Delivery, DeliverySettings, BillingSettings };

/** A Stripe object as JSON (the `stripe` package's types describe them; cast as needed). */
export type StripeJson = Record<string, any>;

export interface ClockState {
  /** Emulated now, unix seconds. */
  now: number;
  iso: string;
  offset_seconds: number;
  /** The next time-based action (period end, automatic finalization, payment), or null. */
  next_due_at: number | null;
}

export interface SeedResult {
  customer: StripeJson;
  meter: StripeJson;
  product: StripeJson;
  metered_price: StripeJson;
  licensed_price: StripeJson | null;
  subscription: StripeJson;
  /** With `secret` (whsec_...) when `webhook_url` was given. */
  webhook_endpoint: (StripeJson & { secret: string }) | null;
}

export interface MeterEventRecord {
  event_name: string;
  identifier: string;
  customer: string;
  value: string;
  timestamp: number;
  created: number;
  payload: Record<string, string>;
}

export class StripeEmulatorAdmin {
  private readonly base: string;

  constructor(baseUrl: string) {
    this.base = baseUrl.replace(/\/+$/, '') + '/_emulator';
  }

  private async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const res = await fetch(this.base + path, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`stripe emulator admin ${method} ${path}: ${res.status} ${text}`);
    return JSON.parse(text) as T;
  }

  health(): Promise<{ ok: boolean }> {
    return this.call('GET', '/health');
  }

  /** Forgets all objects, events, deliveries, faults, the request log and the clock offset. */
  async reset(): Promise<void> {
    await this.call('POST', '/reset');
  }

  /** Customer + meter + metered (and optionally licensed) price + subscription (+ webhook endpoint). */
  seed(opts: SeedOptions = {}): Promise<SeedResult> {
    return this.call('POST', '/seed', opts);
  }

  clock(): Promise<ClockState> {
    return this.call('GET', '/clock');
  }

  /** Advances emulated time, running every due action on the way and letting webhooks settle. */
  advanceClock(seconds: number, settleMs?: number): Promise<ClockState> {
    return this.call('POST', '/clock/advance', { seconds, settle_ms: settleMs });
  }

  advanceClockTo(timestamp: number, settleMs?: number): Promise<ClockState> {
    return this.call('POST', '/clock/advance-to', { timestamp, settle_ms: settleMs });
  }

  /** Runs due actions now (the background ticker does this every 250 ms anyway). */
  tick(): Promise<{ ran: number }> {
    return this.call('POST', '/tick');
  }

  /** Invoices with all their lines, newest first. */
  invoices(customer?: string): Promise<StripeJson[]> {
    return this.call('GET', '/invoices' + (customer ? `?customer=${encodeURIComponent(customer)}` : ''));
  }

  invoice(id: string): Promise<StripeJson> {
    return this.call('GET', `/invoices/${encodeURIComponent(id)}`);
  }

  /** Events, newest first. */
  events(type?: string): Promise<StripeJson[]> {
    return this.call('GET', '/events' + (type ? `?type=${encodeURIComponent(type)}` : ''));
  }

  deliveries(filter: { eventId?: string; eventType?: string } = {}): Promise<Delivery[]> {
    const q = new URLSearchParams();
    if (filter.eventId) q.set('event_id', filter.eventId);
    if (filter.eventType) q.set('event_type', filter.eventType);
    const qs = q.toString();
    return this.call('GET', '/deliveries' + (qs ? `?${qs}` : ''));
  }

  /** Registered endpoints including their signing secrets. */
  webhookEndpoints(): Promise<Array<StripeJson & { secret: string }>> {
    return this.call('GET', '/webhook-endpoints');
  }

  webhookSettings(): Promise<DeliverySettings> {
    return this.call('GET', '/webhook-settings');
  }

  /** Duplicates, order (in_order | reverse | shuffle), retry attempts and backoff. */
  setWebhookSettings(patch: Partial<DeliverySettings>): Promise<DeliverySettings> {
    return this.call('PUT', '/webhook-settings', patch);
  }

  redeliver(eventId: string, endpointId?: string): Promise<Delivery[]> {
    return this.call('POST', `/events/${encodeURIComponent(eventId)}/redeliver`, { endpoint_id: endpointId });
  }

  requests(pathPrefix?: string): Promise<RequestLogEntry[]> {
    return this.call('GET', '/requests' + (pathPrefix ? `?path_prefix=${encodeURIComponent(pathPrefix)}` : ''));
  }

  async clearRequests(): Promise<void> {
    await this.call('DELETE', '/requests');
  }

  faults(): Promise<FaultSettings> {
    return this.call('GET', '/faults');
  }

  setFaults(settings: FaultSettings): Promise<FaultSettings> {
    return this.call('PUT', '/faults', settings);
  }

  async clearFaults(): Promise<void> {
    await this.call('DELETE', '/faults');
  }

  /** Resolves once no webhook delivery is queued, in flight or waiting for a retry. */
  async waitForIdle(timeoutMs = 10_000): Promise<boolean> {
    const r = await this.call<{ idle: boolean }>('POST', '/wait-for-idle', { timeout_ms: timeoutMs });
    return r.idle;
  }

  /** Makes payments of one customer fail (402 card_declined, invoice.payment_failed) or succeed. */
  async setPaymentBehavior(customer: string, behavior: 'succeed' | 'fail'): Promise<void> {
    await this.call('PUT', `/customers/${encodeURIComponent(customer)}/payment-behavior`, { behavior });
  }

  meterEvents(): Promise<MeterEventRecord[]> {
    return this.call('GET', '/meter-events');
  }

  /**
   * Reports the meter events rejected so far now (the background ticker does this every 250 ms
   * anyway): one thin error report per meter, sent to the event destinations. Returns the event ids.
   */
  async reportMeterErrors(): Promise<string[]> {
    const r = await this.call<{ event_ids: string[] }>('POST', '/meter-error-reports');
    return r.event_ids;
  }

  /** Grace period, no-webhook-response finalization delay and automatic payment delay (emulated seconds). */
  billingSettings(): Promise<BillingSettings> {
    return this.call('GET', '/billing-settings');
  }

  /**
   * Changes them for invoices scheduled from now on (e.g. `{ gracePeriodSeconds: 2 }`: cycle drafts
   * finalize 2 s after invoice.created was answered). `reset()` restores the defaults.
   */
  setBillingSettings(patch: Partial<BillingSettings>): Promise<BillingSettings> {
    return this.call('PUT', '/billing-settings', patch);
  }

  /**
   * Schedules a draft (with auto_advance=true) to be finalized `seconds` from the emulated now, with
   * no event sent. Unless the clock is advanced, that is `seconds` of real time (within the 250 ms
   * ticker). Webhook delivery does not move it. Returns the invoice with all lines.
   */
  finalizeDraftIn(invoiceId: string, seconds: number): Promise<StripeJson> {
    return this.call('PUT', `/invoices/${encodeURIComponent(invoiceId)}/automatically-finalizes-at`, {
      in_seconds: seconds,
    });
  }

  /** As finalizeDraftIn, at an emulated unix time. */
  finalizeDraftAt(invoiceId: string, timestamp: number): Promise<StripeJson> {
    return this.call('PUT', `/invoices/${encodeURIComponent(invoiceId)}/automatically-finalizes-at`, { timestamp });
  }

  /**
   * One declined payment attempt on an open invoice now: `attempt_count` + 1, `attempted: true`,
   * `next_payment_attempt: null`, invoice.payment_failed (request null). The invoice stays open.
   */
  failPayment(invoiceId: string): Promise<StripeJson> {
    return this.call('POST', `/invoices/${encodeURIComponent(invoiceId)}/payment-failure`);
  }

  /**
   * A person changes something in Stripe's Dashboard: the API call at `path` (e.g.
   * `/v1/invoices/in_…/finalize`, or `/v1/invoices/in_…` with `{ auto_advance: true }`) runs as a request
   * of Stripe's own, so its events carry `request: { id, idempotency_key }` that no app sent. Logged in
   * `requests()` with `source: 'dashboard'`. Returns that request and the API's answer.
   */
  dashboard(
    path: string,
    params: Record<string, unknown> = {},
    method: 'POST' | 'DELETE' | 'GET' = 'POST',
  ): Promise<{ request: { id: string; idempotency_key: string | null }; result: StripeJson }> {
    return this.call('POST', '/dashboard', { method, path, params });
  }

  /**
   * Sends these events, one after another in exactly this order (to `endpointId` only, or to every
   * endpoint subscribed to each). Held deliveries (`setWebhookSettings({ hold: true })`) of these
   * events are sent; other events are delivered again (a repeat, as `redeliver`). Resolves once sent.
   */
  deliverEvents(eventIds: string[], endpointId?: string): Promise<Delivery[]> {
    return this.call('POST', '/events/deliver', { event_ids: eventIds, endpoint_id: endpointId });
  }
}
