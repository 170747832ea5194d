// All emulator state in memory, plus event emission and `expand` resolution.
import { Clock } from './clock';
import { eventObject } from './objects';
import type { TierObject } from './pricing';
import { clone, randomId, type Obj } from './util';

export interface RequestInfo {
  id: string | null;
  idempotency_key: string | null;
}

export const NO_REQUEST: RequestInfo = { id: null, idempotency_key: null };

export interface MeterEventRecord {
  event_name: string;
  identifier: string;
  customer: string;
  value: string;
  timestamp: number;
  created: number;
  seq: number;
  payload: Record<string, string>;
}

/**
 * A meter event Stripe accepted but could not use (its validation is asynchronous): reported later
 * as a thin `v1.billing.meter.error_report_triggered` (or `no_meter_found`) event, see thin-events.ts.
 */
export interface MeterEventRejection {
  /** The meter the event was meant for; null when no meter has its event_name (`no_meter`). */
  meterId: string | null;
  eventName: string;
  code: 'meter_event_no_customer_defined' | 'meter_event_value_too_many_digits' | 'no_meter';
  message: string;
  identifier: string;
  /** Emulated unix seconds when Stripe received the event. */
  receivedAt: number;
}

export interface InvoiceState {
  lines: Obj[];
  /** Emulated unix seconds of the automatic payment attempt, or null. */
  paymentDueAt: number | null;
  /** Event id of invoice.created, to start the finalization grace period when it is delivered. */
  createdEventId: string | null;
  /** For send_invoice collection. */
  daysUntilDue: number | null;
  /**
   * True when `automatically_finalizes_at` was set explicitly (API parameter or admin): a custom
   * time is not moved by the delivery of invoice.created, as at Stripe.
   */
  customFinalizeAt: boolean;
}

/** Timing of automatic billing actions, in emulated seconds (admin `setBillingSettings`). */
export interface BillingSettings {
  /** Finalization grace period after invoice.created was answered with a 2xx (Stripe: 1 h by default, up to 72 h). */
  gracePeriodSeconds: number;
  /** Finalization after creation while no endpoint answered invoice.created with a 2xx (Stripe: 72 h). */
  noWebhookResponseFinalizeSeconds: number;
  /** Automatic payment attempt after finalization of an auto-advancing charge_automatically invoice (1 h). */
  autoPayDelaySeconds: number;
}

export const DEFAULT_BILLING_SETTINGS: BillingSettings = {
  gracePeriodSeconds: 3600,
  noWebhookResponseFinalizeSeconds: 72 * 3600,
  autoPayDelaySeconds: 3600,
};

export interface SubscriptionState {
  interval: string;
  intervalCount: number;
  anchor: number;
  /** Number of periods already closed. */
  periodIndex: number;
}

export type EventListener = (event: Obj) => void;

export class World {
  readonly clock = new Clock();
  customers = new Map<string, Obj>();
  products = new Map<string, Obj>();
  prices = new Map<string, Obj>();
  /** `price.tiers` is includable: kept aside and added to a price only where `tiers` is expanded. */
  priceTiers = new Map<string, TierObject[]>();
  meters = new Map<string, Obj>();
  meterEvents: MeterEventRecord[] = [];
  /** The same events by `${event_name} ${customer}`, for aggregation. */
  meterEventIndex = new Map<string, MeterEventRecord[]>();
  meterIdentifiers = new Map<string, number>();
  /** Rejected meter events not yet reported (thin-events.ts drains them). */
  meterRejections: MeterEventRejection[] = [];
  subscriptions = new Map<string, Obj>();
  subscriptionState = new Map<string, SubscriptionState>();
  subscriptionItems = new Map<string, Obj>();
  /** Read freely; added and removed through addInvoice / removeInvoice, which keep the index by customer. */
  readonly invoices = new Map<string, Obj>();
  /** Invoice ids by customer, oldest first: a customer's invoice list must not scan the whole account's. */
  private readonly invoiceIdsByCustomer = new Map<string, string[]>();
  invoiceState = new Map<string, InvoiceState>();
  invoiceItems = new Map<string, Obj>();
  webhookEndpoints = new Map<string, Obj>();
  webhookSecrets = new Map<string, string>();
  events: Obj[] = [];
  eventsById = new Map<string, Obj>();
  /** Per customer: whether automatic and API payments succeed. */
  paymentBehavior = new Map<string, 'succeed' | 'fail'>();
  billing: BillingSettings;
  private seq = 0;
  private listeners: EventListener[] = [];

  constructor(private readonly defaultBilling: BillingSettings = DEFAULT_BILLING_SETTINGS) {
    this.billing = { ...defaultBilling };
  }

  addMeterEvent(event: MeterEventRecord): void {
    this.meterEvents.push(event);
    const key = `${event.event_name} ${event.customer}`;
    const list = this.meterEventIndex.get(key);
    if (list) list.push(event);
    else this.meterEventIndex.set(key, [event]);
  }

  addInvoice(invoice: Obj): void {
    this.invoices.set(invoice.id, invoice);
    const ids = this.invoiceIdsByCustomer.get(invoice.customer);
    if (ids) ids.push(invoice.id);
    else this.invoiceIdsByCustomer.set(invoice.customer, [invoice.id]);
  }

  removeInvoice(id: string): void {
    const invoice = this.invoices.get(id);
    if (!invoice) return;
    this.invoices.delete(id);
    const ids = this.invoiceIdsByCustomer.get(invoice.customer) ?? [];
    const at = ids.indexOf(id);
    if (at >= 0) ids.splice(at, 1);
  }

  /** One customer's invoices, oldest first. */
  invoicesOf(customer: string): Obj[] {
    return (this.invoiceIdsByCustomer.get(customer) ?? []).map((id) => this.invoices.get(id)!);
  }

  meterEventsOf(eventName: string, customer: string): MeterEventRecord[] {
    return this.meterEventIndex.get(`${eventName} ${customer}`) ?? [];
  }

  nextSeq(): number {
    return ++this.seq;
  }

  onEvent(listener: EventListener): void {
    this.listeners.push(listener);
  }

  reset(): void {
    this.customers.clear();
    this.products.clear();
    this.prices.clear();
    this.priceTiers.clear();
    this.meters.clear();
    this.meterEvents = [];
    this.meterEventIndex.clear();
    this.meterIdentifiers.clear();
    this.meterRejections = [];
    this.subscriptions.clear();
    this.subscriptionState.clear();
    this.subscriptionItems.clear();
    this.invoices.clear();
    this.invoiceIdsByCustomer.clear();
    this.invoiceState.clear();
    this.invoiceItems.clear();
    this.webhookEndpoints.clear();
    this.webhookSecrets.clear();
    this.events = [];
    this.eventsById.clear();
    this.paymentBehavior.clear();
    this.billing = { ...this.defaultBilling };
    this.clock.reset();
  }

  /** The invoice as the API returns it: the first 10 lines embedded, the rest behind `lines.url`. */
  renderInvoice(invoice: Obj): Obj {
    const out = clone(invoice);
    const lines = this.invoiceState.get(invoice.id)?.lines ?? [];
    out.lines = {
      object: 'list',
      data: clone(lines.slice(0, 10)),
      has_more: lines.length > 10,
      url: `/v1/invoices/${invoice.id}/lines`,
    };
    return out;
  }

  render(obj: Obj): Obj {
    if (obj.object === 'invoice' && !obj.deleted) return this.renderInvoice(obj);
    return clone(obj);
  }

  /**
   * Emits an event with a snapshot of the object; webhook delivery listens. As at Stripe,
   * `data.previous_attributes` is only part of `*.updated` events.
   */
  emit(type: string, object: Obj, request: RequestInfo, previousAttributes?: Obj): Obj {
    const event = eventObject({
      id: randomId('evt'),
      created: this.clock.now(),
      type,
      object: this.render(object),
      previousAttributes: type.endsWith('.updated') ? previousAttributes : undefined,
      request,
    });
    this.events.unshift(event);
    this.eventsById.set(event.id, event);
    for (const l of this.listeners) l(event);
    return event;
  }

  findById(id: string): Obj | undefined {
    const maps: Array<[string, Map<string, Obj>]> = [
      ['cus_', this.customers],
      ['prod_', this.products],
      ['price_', this.prices],
      ['mtr_', this.meters],
      ['sub_', this.subscriptions],
      ['si_', this.subscriptionItems],
      ['in_', this.invoices],
      ['ii_', this.invoiceItems],
      ['we_', this.webhookEndpoints],
      ['evt_', this.eventsById],
    ];
    for (const [prefix, map] of maps) if (id.startsWith(prefix)) return map.get(id);
    return undefined;
  }

  /**
   * Applies `expand[]` paths (`customer`, `data.customer`, `lines.data.pricing.price_details.price`,
   * and the includable `tiers` of a price: `tiers`, `data.pricing.price_details.price.tiers`).
   */
  expand(value: Obj, paths: string[]): Obj {
    for (const path of paths) this.expandPath(value, path.split('.'));
    return value;
  }

  private expandPath(node: unknown, parts: string[]): void {
    if (node === null || typeof node !== 'object' || parts.length === 0) return;
    if (Array.isArray(node)) {
      for (const el of node) this.expandPath(el, parts);
      return;
    }
    const obj = node as Obj;
    const [head, ...rest] = parts;
    const v = obj[head];
    if (rest.length === 0) {
      if (head === 'tiers' && obj.object === 'price') {
        const tiers = this.priceTiers.get(obj.id as string);
        if (tiers) obj.tiers = clone(tiers);
        return;
      }
      if (typeof v === 'string') {
        const found = this.findById(v);
        if (found) obj[head] = this.render(found);
      } else if (Array.isArray(v)) {
        obj[head] = v.map((x) => {
          const found = typeof x === 'string' ? this.findById(x) : undefined;
          return found ? this.render(found) : x;
        });
      }
      return;
    }
    if (typeof v === 'string') {
      const found = this.findById(v);
      if (found) {
        obj[head] = this.render(found);
        this.expandPath(obj[head], rest);
      }
      return;
    }
    this.expandPath(v, rest);
  }
}
