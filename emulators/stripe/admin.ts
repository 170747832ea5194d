// The admin API under /_emulator/ (JSON, no auth): reset, seed, clock, state, request log,
// faults, webhook delivery settings, redelivery, wait-for-idle, changes made "in the Dashboard".
import type { IncomingMessage, ServerResponse } from 'node:http';
import { matchRoute } from './api';
import { failPaymentAttempt, nextDueTime, runDue } from './billing';
import { StripeApiError } from './errors';
import type { Faults, FaultSettings } from './faults';
import { jsonToParams, type Params } from './form';
import type { ApiServer } from './server';
import type { ThinEvents } from './thin-events';
import { clone, type Obj } from './util';
import type { DeliverySettings, WebhookDeliverer } from './webhooks';
import { NO_REQUEST, type BillingSettings, type World } from './world';

export interface SeedOptions {
  customer?: { email?: string; name?: string };
  meter?: {
    event_name?: string;
    display_name?: string;
    formula?: 'count' | 'sum' | 'last';
    value_key?: string;
    customer_key?: string;
  };
  product_name?: string;
  /** Unit price of the metered price in minor units (decimal string); default '1'. */
  metered_unit_amount_decimal?: string;
  /**
   * An existing metered price (a plan many customers share) instead of a new product and price;
   * `meter`, `product_name` and `metered_unit_amount_decimal` are then ignored.
   */
  metered_price?: string;
  /** Adds a licensed item with this unit amount (minor units) when set. */
  licensed_unit_amount?: number;
  interval?: 'day' | 'week' | 'month' | 'year';
  /** Registers a webhook endpoint for this URL (enabled_events default ['*']). */
  webhook_url?: string;
  enabled_events?: string[];
}

export class Admin {
  private advancing = false;

  constructor(
    private readonly world: World,
    private readonly api: ApiServer,
    private readonly faults: Faults,
    private readonly hooks: WebhookDeliverer,
    private readonly thin: ThinEvents,
  ) {}

  /** Runs due billing actions at the current emulated time (the background ticker calls this). */
  tick(): number {
    if (this.advancing) return 0;
    return runDue(this.world, (t) => this.hooks.hasSubscribers(t));
  }

  reset(): void {
    this.world.reset();
    this.hooks.reset();
    this.thin.reset();
    this.faults.clear();
    this.api.reset();
  }

  clock(): Obj {
    const now = this.world.clock.now();
    return {
      now,
      iso: new Date(now * 1000).toISOString(),
      offset_seconds: this.world.clock.offsetSeconds,
      next_due_at: nextDueTime(this.world),
    };
  }

  /**
   * Moves emulated time to `target`, stopping at every due action on the way (period ends,
   * automatic finalizations, payment attempts) and letting webhook deliveries settle in between,
   * so invoice.created is answered before the one-hour grace period is measured.
   */
  async advanceTo(target: number, settleMs = 5000): Promise<Obj> {
    this.advancing = true;
    try {
      const hasSubs = (t: string) => this.hooks.hasSubscribers(t);
      for (let i = 0; i < 10_000; i++) {
        runDue(this.world, hasSubs);
        await this.hooks.waitForIdle(settleMs);
        const next = nextDueTime(this.world);
        if (next === null || next > target) break;
        this.world.clock.moveTo(next);
      }
      this.world.clock.moveTo(target);
      runDue(this.world, hasSubs);
      await this.hooks.waitForIdle(settleMs);
    } finally {
      this.advancing = false;
    }
    return this.clock();
  }

  /** Calls an API handler directly (used by seed), as if through the API without a request. */
  call(method: string, path: string, params: Params): Obj {
    const found = matchRoute(method, path);
    if (!found) throw new Error(`no route ${method} ${path}`);
    return found.handler({
      world: this.world,
      params,
      path: found.path,
      request: NO_REQUEST,
      url: path,
      hasSubscribers: (t) => this.hooks.hasSubscribers(t),
    });
  }

  seed(opts: SeedOptions = {}): Obj {
    const s = (v: unknown) => String(v);
    const customer = this.call('POST', '/v1/customers', {
      email: opts.customer?.email ?? 'billing@example.com',
      name: opts.customer?.name ?? 'Example Customer',
    });
    const shared = opts.metered_price === undefined ? undefined : this.world.prices.get(opts.metered_price);
    if (opts.metered_price !== undefined && (shared === undefined || shared.recurring?.usage_type !== 'metered')) {
      throw new StripeApiError(
        400,
        'invalid_request_error',
        `metered_price must name an existing metered price, got '${opts.metered_price}'`,
      );
    }
    const interval = opts.interval ?? shared?.recurring?.interval ?? 'month';
    let meter: Obj;
    let product: Obj;
    let meteredPrice: Obj;
    if (shared) {
      meteredPrice = shared;
      meter = this.world.meters.get(shared.recurring.meter) as Obj;
      product = this.world.products.get(shared.product) as Obj;
    } else {
      const eventName = opts.meter?.event_name ?? 'api_requests';
      const existing = [...this.world.meters.values()].find((m) => m.event_name === eventName && m.status === 'active');
      meter =
        existing ??
        this.call('POST', '/v1/billing/meters', {
          display_name: opts.meter?.display_name ?? eventName,
          event_name: eventName,
          default_aggregation: { formula: opts.meter?.formula ?? 'sum' },
          customer_mapping: { event_payload_key: opts.meter?.customer_key ?? 'stripe_customer_id', type: 'by_id' },
          value_settings: { event_payload_key: opts.meter?.value_key ?? 'value' },
        });
      product = this.call('POST', '/v1/products', { name: opts.product_name ?? 'API usage' });
      meteredPrice = this.call('POST', '/v1/prices', {
        currency: 'usd',
        product: product.id,
        unit_amount_decimal: opts.metered_unit_amount_decimal ?? '1',
        recurring: { interval, usage_type: 'metered', meter: meter.id },
      });
    }
    const items: Params[] = [{ price: meteredPrice.id }];
    let licensedPrice: Obj | null = null;
    if (opts.licensed_unit_amount !== undefined) {
      licensedPrice = this.call('POST', '/v1/prices', {
        currency: 'usd',
        product: product.id,
        unit_amount: s(opts.licensed_unit_amount),
        recurring: { interval, usage_type: 'licensed' },
      });
      items.push({ price: licensedPrice.id, quantity: '1' });
    }
    let webhookEndpoint: Obj | null = null;
    if (opts.webhook_url) {
      webhookEndpoint = this.call('POST', '/v1/webhook_endpoints', {
        url: opts.webhook_url,
        enabled_events: opts.enabled_events ?? ['*'],
      });
    }
    const subscription = this.call('POST', '/v1/subscriptions', { customer: customer.id, items });
    return clone({
      customer: this.world.customers.get(customer.id),
      meter,
      product,
      metered_price: meteredPrice,
      licensed_price: licensedPrice,
      subscription: this.world.subscriptions.get(subscription.id),
      webhook_endpoint: webhookEndpoint,
    });
  }

  async handle(req: IncomingMessage, res: ServerResponse, rawBody: string): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const method = (req.method ?? 'GET').toUpperCase();
    const path = url.pathname.replace(/^\/_emulator/, '') || '/';
    let body: Obj = {};
    try {
      body = rawBody ? (JSON.parse(rawBody) as Obj) : {};
    } catch {
      return send(res, 400, { error: { type: 'invalid_request_error', message: 'Admin API bodies are JSON.' } });
    }
    try {
      const result = await this.route(method, path, url.searchParams, body);
      if (result === undefined) {
        return send(res, 404, {
          error: { type: 'invalid_request_error', message: `No admin route ${method} ${url.pathname}` },
        });
      }
      send(res, 200, result);
    } catch (err) {
      if (err instanceof StripeApiError) return send(res, err.status, err.toJSON());
      send(res, 500, { error: { type: 'api_error', message: (err as Error).message } });
    }
  }

  private async route(method: string, path: string, q: URLSearchParams, body: Obj): Promise<unknown> {
    const w = this.world;
    const key = `${method} ${path}`;
    let m: RegExpExecArray | null;
    switch (key) {
      case 'GET /health':
        return { ok: true };
      case 'POST /reset':
        this.reset();
        return { ok: true };
      case 'POST /seed':
        return this.seed(body as SeedOptions);
      case 'GET /clock':
        return this.clock();
      case 'POST /clock/advance':
        return this.advanceTo(w.clock.now() + whole(body.seconds, 'seconds'), body.settle_ms);
      case 'POST /clock/advance-to':
        return this.advanceTo(whole(body.timestamp, 'timestamp'), body.settle_ms);
      case 'POST /tick':
        return { ran: this.tick() };
      case 'POST /meter-error-reports':
        return { event_ids: this.thin.report() };
      case 'GET /invoices': {
        const customer = q.get('customer');
        return [...w.invoices.values()]
          .filter((i) => !customer || i.customer === customer)
          .reverse()
          .map((i) => this.fullInvoice(i));
      }
      case 'GET /events': {
        const type = q.get('type');
        return w.events.filter((e) => !type || e.type === type);
      }
      case 'GET /deliveries': {
        const eventId = q.get('event_id');
        const type = q.get('event_type');
        return this.hooks.deliveries.filter(
          (d) => (!eventId || d.event_id === eventId) && (!type || d.event_type === type),
        );
      }
      case 'GET /webhook-endpoints':
        return [...w.webhookEndpoints.values()].map((ep) => ({ ...ep, secret: w.webhookSecrets.get(ep.id) }));
      case 'GET /webhook-settings':
        return this.hooks.settings;
      case 'PUT /webhook-settings':
        return this.hooks.configure(body as Partial<DeliverySettings>);
      case 'GET /requests': {
        const prefix = q.get('path_prefix');
        return this.api.requestLog.filter((r) => !prefix || r.path.startsWith(prefix));
      }
      case 'DELETE /requests':
        this.api.requestLog.length = 0;
        return { ok: true };
      case 'GET /faults':
        return this.faults.settings;
      case 'PUT /faults':
        return this.faults.set(body as FaultSettings);
      case 'DELETE /faults':
        this.faults.clear();
        return this.faults.settings;
      case 'POST /wait-for-idle': {
        const idle = await this.hooks.waitForIdle(Number(body.timeout_ms ?? 10_000));
        return { idle };
      }
      case 'GET /meter-events':
        return w.meterEvents;
      case 'GET /billing-settings':
        return w.billing;
      case 'PUT /billing-settings':
        return this.setBilling(body);
      case 'POST /dashboard': {
        const apiMethod = typeof body.method === 'string' ? body.method.toUpperCase() : 'POST';
        if (typeof body.path !== 'string' || !body.path.startsWith('/v1/'))
          throw new StripeApiError(400, 'invalid_request_error', 'path must be an API path such as /v1/invoices/in_…');
        const params = body.params && typeof body.params === 'object' ? (body.params as Record<string, unknown>) : {};
        return this.api.asDashboard(apiMethod, body.path, jsonToParams(params));
      }
      case 'POST /events/deliver': {
        const ids = body.event_ids;
        if (!Array.isArray(ids) || ids.some((x) => typeof x !== 'string')) {
          throw new StripeApiError(400, 'invalid_request_error', 'event_ids must be an array of event ids');
        }
        const missing = (ids as string[]).find((id) => !w.eventsById.has(id));
        if (missing)
          throw new StripeApiError(404, 'invalid_request_error', `No such event: '${missing}'`, 'resource_missing');
        return this.hooks.deliverEvents(ids as string[], body.endpoint_id);
      }
    }
    if (method === 'GET' && (m = /^\/invoices\/([^/]+)$/.exec(path))) {
      const inv = w.invoices.get(m[1]);
      if (!inv)
        throw new StripeApiError(404, 'invalid_request_error', `No such invoice: '${m[1]}'`, 'resource_missing');
      return this.fullInvoice(inv);
    }
    if (method === 'POST' && (m = /^\/events\/([^/]+)\/redeliver$/.exec(path))) {
      if (!w.eventsById.has(m[1]))
        throw new StripeApiError(404, 'invalid_request_error', `No such event: '${m[1]}'`, 'resource_missing');
      return this.hooks.redeliver(m[1], body.endpoint_id);
    }
    if (method === 'PUT' && (m = /^\/invoices\/([^/]+)\/automatically-finalizes-at$/.exec(path))) {
      return this.scheduleFinalization(m[1], body);
    }
    if (method === 'POST' && (m = /^\/invoices\/([^/]+)\/payment-failure$/.exec(path))) {
      const inv = this.invoiceOr404(m[1]);
      if (inv.status !== 'open') {
        throw new StripeApiError(
          400,
          'invalid_request_error',
          `Only open invoices can have a failed payment; this invoice is ${inv.status}.`,
        );
      }
      failPaymentAttempt(w, inv, NO_REQUEST);
      return this.fullInvoice(inv);
    }
    if (method === 'PUT' && (m = /^\/customers\/([^/]+)\/payment-behavior$/.exec(path))) {
      if (body.behavior !== 'succeed' && body.behavior !== 'fail') {
        throw new StripeApiError(400, 'invalid_request_error', "behavior must be 'succeed' or 'fail'");
      }
      w.paymentBehavior.set(m[1], body.behavior);
      return { customer: m[1], behavior: body.behavior };
    }
    return undefined;
  }

  private invoiceOr404(id: string): Obj {
    const inv = this.world.invoices.get(id);
    if (!inv) throw new StripeApiError(404, 'invalid_request_error', `No such invoice: '${id}'`, 'resource_missing');
    return inv;
  }

  /**
   * Sets a draft's `automatically_finalizes_at` (emulated unix seconds, or `in_seconds` from the
   * emulated now) without an event, as a custom time that webhook delivery does not move. With the
   * clock not advanced, emulated time runs at wall-clock speed, so `in_seconds: 3` finalizes the
   * draft about 3 real seconds later (the ticker runs every 250 ms).
   */
  private scheduleFinalization(id: string, body: Obj): Obj {
    const inv = this.invoiceOr404(id);
    const now = this.world.clock.now();
    const at =
      body.in_seconds !== undefined ? now + whole(body.in_seconds, 'in_seconds') : whole(body.timestamp, 'timestamp');
    if (inv.status !== 'draft') {
      throw new StripeApiError(
        400,
        'invalid_request_error',
        `Only drafts are finalized automatically; this invoice is ${inv.status}.`,
      );
    }
    if (!inv.auto_advance) {
      throw new StripeApiError(
        400,
        'invalid_request_error',
        'This draft has auto_advance=false and will not be finalized automatically; set auto_advance=true first.',
      );
    }
    inv.automatically_finalizes_at = at;
    this.world.invoiceState.get(inv.id)!.customFinalizeAt = true;
    return this.fullInvoice(inv);
  }

  private setBilling(body: Obj): BillingSettings {
    const patch: Partial<BillingSettings> = {};
    for (const key of ['gracePeriodSeconds', 'noWebhookResponseFinalizeSeconds', 'autoPayDelaySeconds'] as const) {
      if (body[key] !== undefined) patch[key] = whole(body[key], key);
    }
    this.world.billing = { ...this.world.billing, ...patch };
    return this.world.billing;
  }

  /** The invoice with every line (not just the first 10). */
  private fullInvoice(invoice: Obj): Obj {
    const out = this.world.renderInvoice(invoice);
    const lines = this.world.invoiceState.get(invoice.id)?.lines ?? [];
    out.lines = { ...out.lines, data: clone(lines), has_more: false };
    return out;
  }
}

function whole(value: unknown, name: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new StripeApiError(400, 'invalid_request_error', `${name} must be a non-negative number`);
  }
  return Math.floor(value);
}

function send(res: ServerResponse, status: number, body: unknown): void {
  res.statusCode = status;
  res.setHeader('content-type', 'application/json');
  res.end(JSON.stringify(body));
}
