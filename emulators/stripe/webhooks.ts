// Webhook delivery as Stripe does it: JSON event bodies signed with `Stripe-Signature:
// t=<unix>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`, retried with exponential backoff on
// non-2xx or network errors. On request: N concurrent copies, reversed or shuffled order.
import { createHmac } from 'node:crypto';
import { randomId, type Obj } from './util';
import type { World } from './world';

export interface DeliveryAttempt {
  at: string;
  status: number | null;
  error: string | null;
  duration_ms: number;
  copies: number;
}

export interface Delivery {
  id: string;
  event_id: string;
  event_type: string;
  endpoint_id: string;
  url: string;
  status: 'pending' | 'succeeded' | 'failed';
  attempts: DeliveryAttempt[];
  next_attempt_at: string | null;
}

export interface DeliverySettings {
  /** Copies of every delivery attempt, sent concurrently (>= 1). */
  duplicates: number;
  /**
   * in_order: sent as emitted; reverse/shuffle: collected for `batchWindowMs`, then sent one by one in
   * that order. Held deliveries, when the hold ends, go out one by one in this order too.
   */
  order: 'in_order' | 'reverse' | 'shuffle';
  batchWindowMs: number;
  /**
   * Hold deliveries instead of sending them: they stay `pending` until `deliverEvents` sends them in
   * a chosen order, or until `hold` is set back to false (then the rest go out in `order`: emission
   * order, reversed or shuffled). Hold, then release with `order: 'reverse'`, reverses exactly the
   * events emitted meanwhile, however long their requests took (a batch window cannot promise that).
   */
  hold: boolean;
  maxAttempts: number;
  retryBaseMs: number;
  timeoutMs: number;
}

export function signPayload(payload: string, secret: string, timestamp: number): string {
  const sig = createHmac('sha256', secret).update(`${timestamp}.${payload}`, 'utf8').digest('hex');
  return `t=${timestamp},v1=${sig}`;
}

export function endpointWants(endpoint: Obj, type: string): boolean {
  if (endpoint.status !== 'enabled') return false;
  const events = endpoint.enabled_events as string[];
  return events.includes('*') || events.includes(type);
}

export class WebhookDeliverer {
  readonly deliveries: Delivery[] = [];
  /** The same deliveries by event id: one delivery's success checks its siblings, not every delivery. */
  private readonly deliveriesByEvent = new Map<string, Delivery[]>();
  settings: DeliverySettings;
  private readonly defaults: DeliverySettings;
  private active = 0;
  private batch: Delivery[] = [];
  private batchTimer: NodeJS.Timeout | null = null;
  private held: Delivery[] = [];
  private timers = new Set<NodeJS.Timeout>();
  private stopped = false;
  /** Aborts the posts in flight on stop, so that no socket to a slow receiver outlives the emulator. */
  private readonly inFlight = new AbortController();
  private notified = new Set<string>();

  constructor(
    private readonly world: World,
    retryBaseMs: number,
    private readonly onAllDelivered: (event: Obj) => void,
    private readonly log: (msg: string) => void,
  ) {
    this.defaults = {
      duplicates: 1,
      order: 'in_order',
      batchWindowMs: 150,
      hold: false,
      maxAttempts: 5,
      retryBaseMs,
      timeoutMs: 10_000,
    };
    this.settings = { ...this.defaults };
    world.onEvent((event) => this.enqueue(event));
  }

  hasSubscribers(type: string): boolean {
    for (const ep of this.world.webhookEndpoints.values()) if (endpointWants(ep, type)) return true;
    return false;
  }

  configure(patch: Partial<DeliverySettings>): DeliverySettings {
    this.settings = { ...this.settings, ...patch };
    if (!this.settings.hold && this.held.length > 0) {
      const released = this.held;
      this.held = [];
      void this.sendInOrder(this.arrange(released));
    }
    return this.settings;
  }

  /** Deliveries held back by `hold`, in emission order. */
  heldDeliveries(): Delivery[] {
    return [...this.held];
  }

  reset(): void {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    if (this.batchTimer) clearTimeout(this.batchTimer);
    this.batchTimer = null;
    this.batch = [];
    this.held = [];
    this.deliveries.length = 0;
    this.deliveriesByEvent.clear();
    this.notified.clear();
    this.settings = { ...this.defaults };
  }

  stop(): void {
    this.stopped = true;
    this.reset();
    this.inFlight.abort(new Error('the Stripe emulator stopped'));
  }

  /** True when nothing is queued, in flight or waiting for a retry (held deliveries do not count). */
  idle(): boolean {
    return this.active === 0 && this.batch.length === 0 && this.timers.size === 0 && this.batchTimer === null;
  }

  async waitForIdle(timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (!this.idle()) {
      if (Date.now() > deadline) return false;
      await new Promise((r) => setTimeout(r, 10));
    }
    return true;
  }

  /** Delivers an already emitted event again (to one endpoint or every subscribed one). */
  redeliver(eventId: string, endpointId?: string): Delivery[] {
    const event = this.world.eventsById.get(eventId);
    if (!event) return [];
    return this.enqueue(event, endpointId);
  }

  /**
   * Sends the given events one after another in exactly this order (each send waits for the one
   * before to be answered; failed ones are retried as usual). An event with held deliveries sends
   * those; any other event is delivered again, as `redeliver` does. Resolves once all were sent.
   */
  async deliverEvents(eventIds: string[], onlyEndpoint?: string): Promise<Delivery[]> {
    const events = eventIds.map((id) => this.world.eventsById.get(id));
    const missing = eventIds.find((_, i) => !events[i]);
    if (missing) throw new Error(`No such event: '${missing}'`);
    const ordered: Delivery[] = [];
    for (const event of events as Obj[]) {
      const mine = (d: Delivery) => d.event_id === event.id && (!onlyEndpoint || d.endpoint_id === onlyEndpoint);
      const held = this.held.filter(mine);
      if (held.length > 0) {
        this.held = this.held.filter((d) => !mine(d));
        ordered.push(...held);
      } else {
        ordered.push(...this.createDeliveries(event, onlyEndpoint));
      }
    }
    await this.sendInOrder(ordered);
    return ordered;
  }

  private async sendInOrder(list: Delivery[]): Promise<void> {
    this.active++;
    try {
      for (const d of list) await this.attempt(d);
    } finally {
      this.active--;
    }
  }

  private enqueue(event: Obj, onlyEndpoint?: string): Delivery[] {
    const created = this.createDeliveries(event, onlyEndpoint);
    if (created.length === 0) return created;
    if (this.settings.hold) {
      this.held.push(...created);
    } else if (this.settings.order === 'in_order') {
      for (const d of created) void this.attempt(d);
    } else {
      this.batch.push(...created);
      if (!this.batchTimer) {
        this.batchTimer = setTimeout(() => void this.flushBatch(), this.settings.batchWindowMs);
      }
    }
    return created;
  }

  private createDeliveries(event: Obj, onlyEndpoint?: string): Delivery[] {
    const created: Delivery[] = [];
    for (const ep of this.world.webhookEndpoints.values()) {
      if (onlyEndpoint ? ep.id !== onlyEndpoint : !endpointWants(ep, event.type)) continue;
      const d: Delivery = {
        id: randomId('whdel'),
        event_id: event.id,
        event_type: event.type,
        endpoint_id: ep.id,
        url: ep.url,
        status: 'pending',
        attempts: [],
        next_attempt_at: null,
      };
      this.deliveries.push(d);
      const siblings = this.deliveriesByEvent.get(d.event_id);
      if (siblings) siblings.push(d);
      else this.deliveriesByEvent.set(d.event_id, [d]);
      created.push(d);
    }
    event.pending_webhooks += created.length;
    return created;
  }

  private async flushBatch(): Promise<void> {
    const batch = this.arrange(this.batch);
    this.batch = [];
    this.batchTimer = null;
    await this.sendInOrder(batch);
  }

  /** The deliveries (in emission order) in the order `settings.order` asks for. */
  private arrange(list: Delivery[]): Delivery[] {
    const arranged = [...list];
    if (this.settings.order === 'reverse') arranged.reverse();
    else if (this.settings.order === 'shuffle') {
      for (let i = arranged.length - 1; i > 0; i--) {
        const j = Math.floor(Math.random() * (i + 1));
        [arranged[i], arranged[j]] = [arranged[j], arranged[i]];
      }
    }
    return arranged;
  }

  private async attempt(d: Delivery): Promise<void> {
    if (this.stopped) return;
    const event = this.world.eventsById.get(d.event_id);
    const endpoint = this.world.webhookEndpoints.get(d.endpoint_id);
    const secret = this.world.webhookSecrets.get(d.endpoint_id);
    if (!event || !endpoint || !secret) {
      d.status = 'failed';
      return;
    }
    this.active++;
    d.next_attempt_at = null;
    const payload = JSON.stringify(event, null, 2);
    // Signatures use real time: receivers check them against their own clock (300 s tolerance).
    const t = Math.floor(Date.now() / 1000);
    const headers = {
      'content-type': 'application/json; charset=utf-8',
      'user-agent': 'Stripe/1.0 (+https://stripe.com/docs/webhooks)',
      'stripe-signature': signPayload(payload, secret, t),
    };
    const started = Date.now();
    const copies = Math.max(1, this.settings.duplicates);
    const results = await Promise.all(Array.from({ length: copies }, () => this.post(d.url, payload, headers)));
    const ok = results.find((r) => r.status !== null && r.status >= 200 && r.status < 300);
    const shown = ok ?? results[0];
    d.attempts.push({
      at: new Date(started).toISOString(),
      status: shown.status,
      error: shown.error,
      duration_ms: Date.now() - started,
      copies,
    });
    this.active--;
    if (this.stopped) return;
    if (ok) {
      if (d.status !== 'succeeded') {
        d.status = 'succeeded';
        event.pending_webhooks = Math.max(0, event.pending_webhooks - 1);
        const siblings = this.deliveriesByEvent.get(d.event_id) ?? [d];
        if (!this.notified.has(event.id) && siblings.every((x) => x.status === 'succeeded')) {
          // Once per event: a manual redelivery does not restart the finalization grace period.
          this.notified.add(event.id);
          this.onAllDelivered(event);
        }
      }
      return;
    }
    this.log(
      `webhook ${d.event_type} ${d.event_id} -> ${d.url}: ${shown.status ?? shown.error} (attempt ${d.attempts.length})`,
    );
    if (d.attempts.length >= this.settings.maxAttempts) {
      d.status = 'failed';
      return;
    }
    const delay = this.settings.retryBaseMs * 2 ** (d.attempts.length - 1);
    d.next_attempt_at = new Date(Date.now() + delay).toISOString();
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      void this.attempt(d);
    }, delay);
    this.timers.add(timer);
  }

  private async post(
    url: string,
    body: string,
    headers: Record<string, string>,
  ): Promise<{ status: number | null; error: string | null }> {
    try {
      const res = await fetch(url, {
        method: 'POST',
        headers,
        body,
        signal: AbortSignal.any([this.inFlight.signal, AbortSignal.timeout(this.settings.timeoutMs)]),
      });
      await res.arrayBuffer().catch(() => undefined);
      return { status: res.status, error: null };
    } catch (err) {
      return { status: null, error: (err as Error).message };
    }
  }
}
