// The REST API v1 resources: routes and handlers. Handlers are synchronous against the in-memory
// world; the server around them does auth, idempotency, faults, expansion and logging.
import Decimal from 'decimal.js';
import { createHash, randomBytes } from 'node:crypto';
import {
  aggregateUsage as billingAggregate,
  announceCreated,
  applyLateUsage,
  attachPendingItems,
  finalizeInvoice,
  invoiceItemLine,
  lineAmount,
  newInvoice,
  newSubscriptionInvoice,
  payInvoice,
  recomputeTotals,
  subscriptionLine,
} from './billing';
import { periodBoundary } from './clock';
import { parameterInvalid, parameterMissing, resourceMissing, stateError, StripeApiError } from './errors';
import type { Params } from './form';
import { parseTiers, parseTransformQuantity, priceAmount, type TierObject } from './pricing';
import {
  customerObject,
  invoiceItemObject,
  meterObject,
  priceObject,
  productObject,
  subscriptionItemObject,
  subscriptionObject,
  webhookEndpointObject,
} from './objects';
import {
  allow,
  applyMetadata,
  clone,
  optArray,
  optBool,
  optDecimalString,
  optInt,
  optObject,
  optString,
  paginate,
  previousAttributes,
  randomId,
  rangeFilter,
  reqString,
  type Obj,
} from './util';
import type { MeterEventRejection, RequestInfo, World } from './world';

export interface HandlerContext {
  world: World;
  params: Params;
  path: Record<string, string>;
  request: RequestInfo;
  url: string;
  hasSubscribers: (type: string) => boolean;
}

export type Handler = (ctx: HandlerContext) => Obj;

interface Route {
  method: string;
  pattern: RegExp;
  names: string[];
  handler: Handler;
}

const routes: Route[] = [];
function route(method: string, template: string, handler: Handler): void {
  const names: string[] = [];
  const pattern = new RegExp('^' + template.replace(/:([a-z_]+)/g, (_, n: string) => (names.push(n), '([^/]+)')) + '$');
  routes.push({ method, pattern, names, handler });
}

export function matchRoute(method: string, path: string): { handler: Handler; path: Record<string, string> } | null {
  for (const r of routes) {
    if (r.method !== method) continue;
    const m = r.pattern.exec(path);
    if (!m) continue;
    const params: Record<string, string> = {};
    r.names.forEach((n, i) => (params[n] = decodeURIComponent(m[i + 1])));
    return { handler: r.handler, path: params };
  }
  return null;
}

// ---------- helpers ----------

function newestFirst(values: Iterable<Obj>): Obj[] {
  return [...values].reverse();
}

function get(map: Map<string, Obj>, kind: string, id: string, param = 'id'): Obj {
  const v = map.get(id);
  if (!v || v.deleted) throw resourceMissing(kind, id, param);
  return v;
}

function enumParam<T extends string>(params: Params, name: string, values: readonly T[], path = name): T | undefined {
  const v = optString(params, name, path);
  if (v === undefined || v === '') return undefined;
  if (!(values as readonly string[]).includes(v)) {
    throw parameterInvalid(path, `Invalid ${path}: must be one of ${values.join(', ')}`);
  }
  return v as T;
}

function nullable(params: Params, name: string): string | null | undefined {
  const v = optString(params, name);
  if (v === undefined) return undefined;
  return v === '' ? null : v;
}

// ---------- customers ----------

const CUSTOMER_FIELDS = ['email', 'name', 'description', 'phone'] as const;

route('POST', '/v1/customers', ({ world, params }) => {
  allow(params, [...CUSTOMER_FIELDS, 'metadata', 'address', 'preferred_locales']);
  const prefix = randomBytes(4).toString('hex').toUpperCase();
  const c = customerObject(randomId('cus', 14), world.clock.now(), prefix);
  for (const f of CUSTOMER_FIELDS) {
    const v = nullable(params, f);
    if (v !== undefined) c[f] = v;
  }
  const address = optObject(params, 'address');
  if (address) {
    c.address = { city: null, country: null, line1: null, line2: null, postal_code: null, state: null };
    for (const [k, v] of Object.entries(address)) if (typeof v === 'string') c.address[k] = v;
  }
  c.metadata = applyMetadata({}, params);
  world.customers.set(c.id, c);
  return c;
});
route('GET', '/v1/customers/:id', ({ world, path }) => {
  const c = world.customers.get(path.id);
  if (!c) throw resourceMissing('customer', path.id);
  return c;
});
route('POST', '/v1/customers/:id', ({ world, params, path }) => {
  allow(params, [...CUSTOMER_FIELDS, 'metadata']);
  const c = get(world.customers, 'customer', path.id);
  for (const f of CUSTOMER_FIELDS) {
    const v = nullable(params, f);
    if (v !== undefined) c[f] = v;
  }
  c.metadata = applyMetadata(c.metadata, params);
  return c;
});
route('DELETE', '/v1/customers/:id', ({ world, path }) => {
  get(world.customers, 'customer', path.id);
  const tomb = { id: path.id, object: 'customer', deleted: true };
  world.customers.set(path.id, tomb);
  return tomb;
});
route('GET', '/v1/customers', ({ world, params, url }) => {
  const email = optString(params, 'email');
  const items = newestFirst(world.customers.values()).filter((c) => !c.deleted && (!email || c.email === email));
  return paginate(items, params, url);
});

// ---------- products ----------

route('POST', '/v1/products', ({ world, params }) => {
  allow(params, [
    'name',
    'description',
    'metadata',
    'active',
    'unit_label',
    'id',
    'statement_descriptor',
    'tax_code',
    'url',
    'images',
    'shippable',
  ]);
  const now = world.clock.now();
  const id = optString(params, 'id') || randomId('prod', 14);
  if (world.products.has(id)) throw stateError(`Product already exists.`, 'resource_already_exists', 'id');
  const p = productObject(id, now, reqString(params, 'name'));
  p.description = nullable(params, 'description') ?? null;
  p.unit_label = nullable(params, 'unit_label') ?? null;
  p.active = optBool(params, 'active') ?? true;
  p.metadata = applyMetadata({}, params);
  world.products.set(p.id, p);
  return p;
});
route('GET', '/v1/products/:id', ({ world, path }) => get(world.products, 'product', path.id));
route('POST', '/v1/products/:id', ({ world, params, path }) => {
  allow(params, ['name', 'description', 'metadata', 'active', 'unit_label', 'default_price']);
  const p = get(world.products, 'product', path.id);
  const name = optString(params, 'name');
  if (name) p.name = name;
  for (const f of ['description', 'unit_label', 'default_price']) {
    const v = nullable(params, f);
    if (v !== undefined) p[f] = v;
  }
  const active = optBool(params, 'active');
  if (active !== undefined) p.active = active;
  p.metadata = applyMetadata(p.metadata, params);
  p.updated = world.clock.now();
  return p;
});
route('DELETE', '/v1/products/:id', ({ world, path }) => {
  get(world.products, 'product', path.id);
  const tomb = { id: path.id, object: 'product', deleted: true };
  world.products.set(path.id, tomb);
  return tomb;
});
route('GET', '/v1/products', ({ world, params, url }) => {
  const active = optBool(params, 'active');
  const items = newestFirst(world.products.values()).filter(
    (p) => !p.deleted && (active === undefined || p.active === active),
  );
  return paginate(items, params, url);
});

// ---------- prices ----------

route('POST', '/v1/prices', ({ world, params }) => {
  allow(params, [
    'currency',
    'product',
    'product_data',
    'unit_amount',
    'unit_amount_decimal',
    'recurring',
    'nickname',
    'lookup_key',
    'metadata',
    'active',
    'billing_scheme',
    'tax_behavior',
    'tiers',
    'tiers_mode',
    'transform_quantity',
  ]);
  const now = world.clock.now();
  const currency = reqString(params, 'currency').toLowerCase();
  let productId = optString(params, 'product');
  const productData = optObject(params, 'product_data');
  if (!productId && productData) {
    const p = productObject(randomId('prod', 14), now, reqString(productData, 'name', 'product_data[name]'));
    world.products.set(p.id, p);
    productId = p.id;
  }
  if (!productId) throw parameterMissing('product');
  get(world.products, 'product', productId, 'product');
  const scheme = enumParam(params, 'billing_scheme', ['per_unit', 'tiered'] as const) ?? 'per_unit';
  const price = priceObject(randomId('price'), now, productId, currency);
  price.billing_scheme = scheme;
  const unitAmount = optInt(params, 'unit_amount');
  const unitAmountDecimal = optDecimalString(params, 'unit_amount_decimal');
  if (unitAmount !== undefined && unitAmountDecimal !== undefined) {
    throw parameterInvalid(
      'unit_amount_decimal',
      'You may only specify one of these parameters: unit_amount, unit_amount_decimal.',
    );
  }
  let tiers: TierObject[] | undefined;
  if (scheme === 'tiered') {
    // Tiered prices take their amounts from the tiers only, and cannot transform the quantity.
    if (unitAmount !== undefined || unitAmountDecimal !== undefined) {
      throw parameterInvalid(
        unitAmount !== undefined ? 'unit_amount' : 'unit_amount_decimal',
        'You may not specify a unit amount when `billing_scheme` is `tiered`.',
      );
    }
    if (params.transform_quantity !== undefined) {
      throw parameterInvalid('transform_quantity', '`transform_quantity` cannot be combined with `tiers`.');
    }
    price.tiers_mode = enumParam(params, 'tiers_mode', ['graduated', 'volume'] as const) ?? null;
    if (!price.tiers_mode) throw parameterMissing('tiers_mode');
    tiers = parseTiers(params);
  } else {
    for (const name of ['tiers', 'tiers_mode']) {
      if (params[name] !== undefined) {
        throw parameterInvalid(name, `\`${name}\` requires \`billing_scheme\` to be set to \`tiered\`.`);
      }
    }
    if (unitAmount === undefined && unitAmountDecimal === undefined) throw parameterMissing('unit_amount');
    const dec = new Decimal(unitAmountDecimal ?? unitAmount!);
    price.unit_amount_decimal = dec.toFixed();
    price.unit_amount = dec.isInteger() ? dec.toNumber() : null;
    price.transform_quantity = parseTransformQuantity(params);
  }
  const recurring = optObject(params, 'recurring');
  if (recurring) {
    const interval = enumParam(recurring, 'interval', ['day', 'week', 'month', 'year'] as const, 'recurring[interval]');
    if (!interval) throw parameterMissing('recurring[interval]');
    const usageType =
      enumParam(recurring, 'usage_type', ['licensed', 'metered'] as const, 'recurring[usage_type]') ?? 'licensed';
    const meter = optString(recurring, 'meter', 'recurring[meter]') || null;
    if (usageType === 'metered' && !meter) throw parameterMissing('recurring[meter]');
    if (meter) get(world.meters, 'billing.meter', meter, 'recurring[meter]');
    price.type = 'recurring';
    price.recurring = {
      interval,
      interval_count: optInt(recurring, 'interval_count', 'recurring[interval_count]') ?? 1,
      meter: usageType === 'metered' ? meter : null,
      trial_period_days: null,
      usage_type: usageType,
    };
  }
  price.nickname = nullable(params, 'nickname') ?? null;
  price.lookup_key = nullable(params, 'lookup_key') ?? null;
  price.tax_behavior =
    enumParam(params, 'tax_behavior', ['exclusive', 'inclusive', 'unspecified'] as const) ?? 'unspecified';
  price.active = optBool(params, 'active') ?? true;
  price.metadata = applyMetadata({}, params);
  world.prices.set(price.id, price);
  if (tiers) world.priceTiers.set(price.id, tiers);
  return price;
});
route('GET', '/v1/prices/:id', ({ world, path }) => get(world.prices, 'price', path.id));
route('POST', '/v1/prices/:id', ({ world, params, path }) => {
  allow(params, ['active', 'metadata', 'nickname', 'lookup_key']);
  const p = get(world.prices, 'price', path.id);
  const active = optBool(params, 'active');
  if (active !== undefined) p.active = active;
  for (const f of ['nickname', 'lookup_key']) {
    const v = nullable(params, f);
    if (v !== undefined) p[f] = v;
  }
  p.metadata = applyMetadata(p.metadata, params);
  return p;
});
route('GET', '/v1/prices', ({ world, params, url }) => {
  const product = optString(params, 'product');
  const active = optBool(params, 'active');
  const type = optString(params, 'type');
  const items = newestFirst(world.prices.values()).filter(
    (p) =>
      (!product || p.product === product) &&
      (active === undefined || p.active === active) &&
      (!type || p.type === type),
  );
  return paginate(items, params, url);
});

// ---------- billing meters ----------

route('POST', '/v1/billing/meters', ({ world, params }) => {
  allow(params, [
    'display_name',
    'event_name',
    'default_aggregation',
    'customer_mapping',
    'value_settings',
    'event_time_window',
  ]);
  const now = world.clock.now();
  const m = meterObject(randomId('mtr'), now);
  m.display_name = reqString(params, 'display_name');
  m.event_name = reqString(params, 'event_name');
  for (const other of world.meters.values()) {
    if (other.status === 'active' && other.event_name === m.event_name) {
      throw stateError(
        `An active meter with event_name '${m.event_name}' already exists.`,
        'resource_already_exists',
        'event_name',
      );
    }
  }
  const agg = optObject(params, 'default_aggregation');
  if (!agg) throw parameterMissing('default_aggregation');
  const formula = enumParam(agg, 'formula', ['count', 'sum', 'last'] as const, 'default_aggregation[formula]');
  if (!formula) throw parameterMissing('default_aggregation[formula]');
  m.default_aggregation = { formula };
  const mapping = optObject(params, 'customer_mapping');
  if (mapping) {
    m.customer_mapping = {
      event_payload_key: reqString(mapping, 'event_payload_key', 'customer_mapping[event_payload_key]'),
      type: enumParam(mapping, 'type', ['by_id'] as const, 'customer_mapping[type]') ?? 'by_id',
    };
  }
  const value = optObject(params, 'value_settings');
  if (value)
    m.value_settings = {
      event_payload_key: reqString(value, 'event_payload_key', 'value_settings[event_payload_key]'),
    };
  m.event_time_window = enumParam(params, 'event_time_window', ['day', 'hour'] as const) ?? null;
  world.meters.set(m.id, m);
  return m;
});
route('GET', '/v1/billing/meters/:id', ({ world, path }) => get(world.meters, 'billing.meter', path.id));
route('POST', '/v1/billing/meters/:id', ({ world, params, path }) => {
  allow(params, ['display_name']);
  const m = get(world.meters, 'billing.meter', path.id);
  const name = optString(params, 'display_name');
  if (name) m.display_name = name;
  m.updated = world.clock.now();
  return m;
});
route('POST', '/v1/billing/meters/:id/deactivate', ({ world, path }) => {
  const m = get(world.meters, 'billing.meter', path.id);
  m.status = 'inactive';
  m.status_transitions.deactivated_at = world.clock.now();
  m.updated = world.clock.now();
  return m;
});
route('POST', '/v1/billing/meters/:id/reactivate', ({ world, path }) => {
  const m = get(world.meters, 'billing.meter', path.id);
  m.status = 'active';
  m.updated = world.clock.now();
  return m;
});
route('GET', '/v1/billing/meters', ({ world, params, url }) => {
  const status = optString(params, 'status');
  const items = newestFirst(world.meters.values()).filter((m) => !status || m.status === status);
  return paginate(items, params, url);
});

const METER_EVENT_MAX_AGE = 35 * 86400;
const METER_EVENT_MAX_FUTURE = 5 * 60;

/** Stripe keeps at most 15 significant digits of a meter event's value. */
const METER_VALUE_MAX_DIGITS = 15;

// Like Stripe, the request checks only its parameters; a missing meter, a missing customer key or too
// many digits are found afterwards: the event is acknowledged, dropped, and reported in a meter error
// report (a thin event, thin-events.ts). A deactivated meter and an unknown customer stay request errors.
route('POST', '/v1/billing/meter_events', ({ world, params }) => {
  allow(params, ['event_name', 'payload', 'timestamp', 'identifier']);
  const eventName = reqString(params, 'event_name');
  const payload = optObject(params, 'payload');
  if (!payload) throw parameterMissing('payload');
  const meters = [...world.meters.values()].filter((m) => m.event_name === eventName);
  const meter = meters.find((m) => m.status === 'active');
  if (!meter && meters.length > 0) {
    throw new StripeApiError(
      400,
      'invalid_request_error',
      `No active meter was found for event_name '${eventName}'.`,
      'resource_missing',
      'event_name',
    );
  }
  const now = world.clock.now();
  const timestamp = optInt(params, 'timestamp') ?? now;
  if (timestamp < now - METER_EVENT_MAX_AGE) {
    throw parameterInvalid('timestamp', 'Timestamp must be within the past 35 days.');
  }
  if (timestamp > now + METER_EVENT_MAX_FUTURE) {
    throw parameterInvalid('timestamp', 'Timestamp must not be more than 5 minutes in the future.');
  }
  const identifier = optString(params, 'identifier') || randomId('mev');
  if (world.meterIdentifiers.has(identifier)) {
    throw stateError(
      `An event with identifier '${identifier}' already exists.`,
      'resource_already_exists',
      'identifier',
    );
  }
  const stringPayload: Record<string, string> = {};
  for (const [k, v] of Object.entries(payload)) if (typeof v === 'string') stringPayload[k] = v;
  const acknowledged = {
    object: 'billing.meter_event',
    created: now,
    event_name: eventName,
    identifier,
    livemode: false,
    payload: stringPayload,
    timestamp,
  };
  const reject = (code: MeterEventRejection['code'], message: string) => {
    world.meterIdentifiers.set(identifier, now);
    world.meterRejections.push({ meterId: meter?.id ?? null, eventName, code, message, identifier, receivedAt: now });
    return acknowledged;
  };
  if (!meter) return reject('no_meter', `No active meter was found for event_name '${eventName}'.`);
  const customerKey = meter.customer_mapping.event_payload_key as string;
  const customer = optString(payload, customerKey, `payload[${customerKey}]`);
  if (!customer)
    return reject('meter_event_no_customer_defined', `Customer mapping key ${customerKey} not found in payload.`);
  const cus = world.customers.get(customer);
  if (!cus || cus.deleted) throw resourceMissing('customer', customer, `payload[${customerKey}]`);
  const valueKey = meter.value_settings.event_payload_key as string;
  let value = optString(payload, valueKey, `payload[${valueKey}]`);
  if (meter.default_aggregation.formula === 'count') value = value ?? '1';
  if (value === undefined) throw parameterMissing(`payload[${valueKey}]`);
  if (!/^-?\d+(\.\d+)?$/.test(value)) {
    throw parameterInvalid(`payload[${valueKey}]`, `The value '${value}' is not a valid number.`);
  }
  if (new Decimal(value).precision(true) > METER_VALUE_MAX_DIGITS) {
    return reject(
      'meter_event_value_too_many_digits',
      `Value ${value} of payload key ${valueKey} for customer ${customer} has more than ${METER_VALUE_MAX_DIGITS} significant digits.`,
    );
  }
  world.meterIdentifiers.set(identifier, now);
  world.addMeterEvent({
    event_name: eventName,
    identifier,
    customer,
    value,
    timestamp,
    created: now,
    seq: world.nextSeq(),
    payload: stringPayload,
  });
  applyLateUsage(world, customer, eventName, timestamp);
  return acknowledged;
});

route('GET', '/v1/billing/meters/:id/event_summaries', ({ world, params, path, url }) => {
  const meter = get(world.meters, 'billing.meter', path.id);
  const customer = get(world.customers, 'customer', reqString(params, 'customer'), 'customer').id as string;
  const start = optInt(params, 'start_time');
  const end = optInt(params, 'end_time');
  if (start === undefined) throw parameterMissing('start_time');
  if (end === undefined) throw parameterMissing('end_time');
  const window = enumParam(params, 'value_grouping_window', ['hour', 'day'] as const);
  // Minute alignment always; with a grouping window, hour or UTC-day alignment (Stripe's docs).
  const align = window === 'hour' ? 3600 : window === 'day' ? 86400 : 60;
  const unit = window === 'hour' ? 'hour' : window === 'day' ? 'UTC day' : 'minute';
  for (const [name, t] of [
    ['start_time', start],
    ['end_time', end],
  ] as const) {
    if (t % align !== 0) throw parameterInvalid(name, `${name} must be aligned to ${unit} boundaries.`);
  }
  if (end <= start) throw parameterInvalid('end_time', 'end_time must be after start_time.');
  const summary = (s: number, e: number): Obj => ({
    id: summaryId(meter.id, customer, s, e),
    object: 'billing.meter_event_summary',
    aggregated_value: aggregateForSummary(world, meter, customer, s, e),
    end_time: e,
    livemode: false,
    meter: meter.id,
    start_time: s,
  });
  // No window: one summary for the whole range, even without events.
  if (!window) return paginate([summary(start, end)], params, url);
  // Per window: only windows that have events, newest first (as Stripe's documented example).
  const buckets = new Set<number>();
  for (const e of world.meterEventsOf(meter.event_name, customer)) {
    if (e.timestamp >= start && e.timestamp < end) buckets.add(e.timestamp - (e.timestamp % align));
  }
  const summaries = [...buckets].sort((a, b) => b - a).map((s) => summary(s, s + align));
  return paginate(summaries, params, url);
});

/** Stable ids, so `starting_after` works across pages of summaries. */
function summaryId(meter: string, customer: string, start: number, end: number): string {
  return (
    'mtrusg_' +
    createHash('sha256')
      .update(`${meter}:${customer}:${start}:${end}`)
      .digest('base64url')
      .replace(/[-_]/g, '')
      .slice(0, 24)
  );
}

function aggregateForSummary(world: World, meter: Obj, customer: string, start: number, end: number): number {
  // aggregated_value is a JSON number in Stripe's API.
  return Number(billingAggregate(world, meter, customer, start, end).toFixed());
}

// ---------- subscriptions ----------

route('POST', '/v1/subscriptions', ({ world, params, request, hasSubscribers }) => {
  allow(params, [
    'customer',
    'items',
    'metadata',
    'collection_method',
    'days_until_due',
    'description',
    'payment_behavior',
    'currency',
  ]);
  const customer = get(world.customers, 'customer', reqString(params, 'customer'), 'customer');
  const itemsParam = optArray(params, 'items');
  if (!itemsParam || itemsParam.length === 0) throw parameterMissing('items');
  const now = world.clock.now();
  const prices = itemsParam.map((it, i) => {
    const priceId = reqString(it, 'price', `items[${i}][price]`);
    const price = get(world.prices, 'price', priceId, `items[${i}][price]`);
    if (!price.recurring) {
      throw parameterInvalid(
        `items[${i}][price]`,
        `The price specified is set to \`type=one_time\` but this field only accepts prices with \`type=recurring\`.`,
      );
    }
    return price;
  });
  const { interval, interval_count: count } = prices[0].recurring;
  if (prices.some((p) => p.recurring.interval !== interval || p.recurring.interval_count !== count)) {
    throw parameterInvalid(
      'items',
      'All prices on a subscription must have the same `recurring.interval` and `recurring.interval_count`.',
    );
  }
  const sub = subscriptionObject(randomId('sub'), now, customer.id, prices[0].currency);
  sub.collection_method =
    enumParam(params, 'collection_method', ['charge_automatically', 'send_invoice'] as const) ?? 'charge_automatically';
  sub.days_until_due = optInt(params, 'days_until_due') ?? null;
  sub.description = nullable(params, 'description') ?? null;
  sub.metadata = applyMetadata({}, params);
  const periodEnd = periodBoundary(now, interval, count, 1);
  sub.items.data = itemsParam.map((it, i) => {
    const item = subscriptionItemObject(randomId('si', 14), now, sub.id, clone(prices[i]));
    item.current_period_start = now;
    item.current_period_end = periodEnd;
    if (prices[i].recurring.usage_type !== 'metered')
      item.quantity = optInt(it, 'quantity', `items[${i}][quantity]`) ?? 1;
    else delete item.quantity;
    item.metadata = applyMetadata({}, it as Params);
    world.subscriptionItems.set(item.id, item);
    return item;
  });
  world.subscriptions.set(sub.id, sub);
  world.subscriptionState.set(sub.id, { interval, intervalCount: count, anchor: now, periodIndex: 0 });
  if (!customer.currency) customer.currency = sub.currency;
  // The first invoice bills licensed items in advance and is finalized at once (charge_automatically).
  const invoice = newSubscriptionInvoice(world, sub, customer, 'subscription_create', {
    start: now,
    end: now,
    created: now,
  });
  const state = world.invoiceState.get(invoice.id)!;
  state.lines = sub.items.data
    .filter((item: Obj) => item.price.recurring.usage_type !== 'metered')
    .map((item: Obj) =>
      subscriptionLine(world, invoice, sub, item, { start: now, end: periodEnd }, new Decimal(item.quantity)),
    );
  state.daysUntilDue = sub.days_until_due;
  recomputeTotals(world, invoice);
  sub.latest_invoice = invoice.id;
  announceCreated(world, invoice, request, hasSubscribers);
  finalizeInvoice(world, invoice, request);
  if (invoice.status === 'open' && sub.collection_method === 'charge_automatically') {
    try {
      payInvoice(world, invoice, request);
    } catch (err) {
      if (!(err instanceof StripeApiError)) throw err;
      sub.status = 'incomplete';
    }
  }
  return sub;
});
route('GET', '/v1/subscriptions/:id', ({ world, path }) => get(world.subscriptions, 'subscription', path.id));
route('POST', '/v1/subscriptions/:id', ({ world, params, path }) => {
  allow(params, ['metadata', 'description']);
  const sub = get(world.subscriptions, 'subscription', path.id);
  const d = nullable(params, 'description');
  if (d !== undefined) sub.description = d;
  sub.metadata = applyMetadata(sub.metadata, params);
  return sub;
});
route('DELETE', '/v1/subscriptions/:id', ({ world, path }) => {
  const sub = get(world.subscriptions, 'subscription', path.id);
  if (sub.status === 'canceled') throw stateError(`No such subscription: '${sub.id}'`, 'resource_missing', 'id');
  const now = world.clock.now();
  sub.status = 'canceled';
  sub.canceled_at = now;
  sub.ended_at = now;
  return sub;
});
route('GET', '/v1/subscriptions', ({ world, params, url }) => {
  const customer = optString(params, 'customer');
  const status = optString(params, 'status');
  const items = newestFirst(world.subscriptions.values()).filter(
    (s) =>
      (!customer || s.customer === customer) &&
      (status === 'all' || (status ? s.status === status : s.status !== 'canceled')),
  );
  return paginate(items, params, url);
});
route('GET', '/v1/subscription_items', ({ world, params, url }) => {
  const subscription = reqString(params, 'subscription');
  const sub = get(world.subscriptions, 'subscription', subscription, 'subscription');
  return paginate([...sub.items.data], params, url);
});
route('GET', '/v1/subscription_items/:id', ({ world, path }) =>
  get(world.subscriptionItems, 'subscription_item', path.id),
);

// ---------- invoices ----------

route('POST', '/v1/invoices', ({ world, params, request, hasSubscribers }) => {
  allow(params, [
    'customer',
    'auto_advance',
    'collection_method',
    'days_until_due',
    'description',
    'metadata',
    'currency',
    'pending_invoice_items_behavior',
    'subscription',
    'footer',
    'automatically_finalizes_at',
  ]);
  const customer = get(world.customers, 'customer', reqString(params, 'customer'), 'customer');
  const now = world.clock.now();
  const currency = (optString(params, 'currency') || customer.currency || 'usd').toLowerCase();
  const autoAdvance = optBool(params, 'auto_advance') ?? false;
  const finalizesAt = optInt(params, 'automatically_finalizes_at');
  if (finalizesAt !== undefined) checkFinalizesAt(finalizesAt, autoAdvance, now);
  const invoice = newInvoice(world, customer, currency, now);
  invoice.auto_advance = autoAdvance;
  if (finalizesAt !== undefined) {
    invoice.automatically_finalizes_at = finalizesAt;
    world.invoiceState.get(invoice.id)!.customFinalizeAt = true;
  }
  invoice.collection_method =
    enumParam(params, 'collection_method', ['charge_automatically', 'send_invoice'] as const) ?? 'charge_automatically';
  const days = optInt(params, 'days_until_due');
  if (invoice.collection_method === 'send_invoice' && days === undefined) throw parameterMissing('days_until_due');
  world.invoiceState.get(invoice.id)!.daysUntilDue = days ?? null;
  invoice.description = nullable(params, 'description') ?? null;
  invoice.footer = nullable(params, 'footer') ?? null;
  invoice.metadata = applyMetadata({}, params);
  const subscription = optString(params, 'subscription');
  if (subscription) {
    const sub = get(world.subscriptions, 'subscription', subscription, 'subscription');
    invoice.parent = {
      type: 'subscription_details',
      quote_details: null,
      subscription_details: { metadata: { ...sub.metadata }, subscription: sub.id },
    };
  }
  const behavior = enumParam(params, 'pending_invoice_items_behavior', ['exclude', 'include'] as const) ?? 'exclude';
  if (behavior === 'include' || subscription) {
    world.invoiceState.get(invoice.id)!.lines = attachPendingItems(world, invoice, subscription);
  }
  recomputeTotals(world, invoice);
  announceCreated(world, invoice, request, hasSubscribers);
  return invoice;
});
route('GET', '/v1/invoices/:id', ({ world, path }) => get(world.invoices, 'invoice', path.id));
route('GET', '/v1/invoices', ({ world, params, url }) => {
  const customer = optString(params, 'customer');
  const subscription = optString(params, 'subscription');
  const status = enumParam(params, 'status', ['draft', 'open', 'paid', 'uncollectible', 'void'] as const);
  const collection = enumParam(params, 'collection_method', ['charge_automatically', 'send_invoice'] as const);
  const created = rangeFilter(params, 'created');
  const dueDate = rangeFilter(params, 'due_date');
  // Newest first by creation time (ties: later created first). One customer's list at a month end
  // reads that customer's invoices only, not every invoice of the account.
  const items = newestFirst(customer ? world.invoicesOf(customer) : world.invoices.values())
    .filter(
      (i) =>
        !i.deleted &&
        (!subscription || i.parent?.subscription_details?.subscription === subscription) &&
        (!status || i.status === status) &&
        (!collection || i.collection_method === collection) &&
        (!created || created(i.created)) &&
        (!dueDate || dueDate(i.due_date)),
    )
    .map((invoice, i) => ({ invoice, i }))
    .sort((a, b) => b.invoice.created - a.invoice.created || a.i - b.i)
    .map((x) => x.invoice);
  return paginate(items, params, url);
});

const MAX_FINALIZE_AHEAD = 5 * 366 * 86400;

/** A custom finalization time needs auto_advance and lies in the future, at most 5 years ahead. */
function checkFinalizesAt(at: number, autoAdvance: boolean, now: number): void {
  if (!autoAdvance) {
    throw parameterInvalid(
      'automatically_finalizes_at',
      'automatically_finalizes_at can only be set when auto_advance is true.',
    );
  }
  if (at <= now)
    throw parameterInvalid('automatically_finalizes_at', 'automatically_finalizes_at must be in the future.');
  if (at > now + MAX_FINALIZE_AHEAD) {
    throw parameterInvalid(
      'automatically_finalizes_at',
      'automatically_finalizes_at must be at most 5 years in the future.',
    );
  }
}

const EDITABLE_WHEN_OPEN = ['metadata', 'auto_advance', 'description', 'footer'];
const EDITABLE_WHEN_CLOSED = ['metadata'];

route('POST', '/v1/invoices/:id', ({ world, params, path, request }) => {
  allow(params, [
    'auto_advance',
    'automatically_finalizes_at',
    'metadata',
    'description',
    'footer',
    'collection_method',
    'days_until_due',
    'due_date',
  ]);
  const invoice = get(world.invoices, 'invoice', path.id);
  if (invoice.status !== 'draft') {
    const allowed = invoice.status === 'open' ? EDITABLE_WHEN_OPEN : EDITABLE_WHEN_CLOSED;
    const blocked = Object.keys(params).find((k) => k !== 'expand' && !allowed.includes(k));
    if (blocked) {
      throw stateError(
        `This invoice is no longer editable: you can't update \`${blocked}\` on an invoice with status \`${invoice.status}\`.`,
        'invoice_not_editable',
        blocked,
      );
    }
  }
  // Every parameter is read and checked before anything changes.
  const now = world.clock.now();
  const autoAdvance = optBool(params, 'auto_advance');
  const texts = (['description', 'footer'] as const).map((f) => [f, nullable(params, f)] as const);
  const cm = enumParam(params, 'collection_method', ['charge_automatically', 'send_invoice'] as const);
  const days = optInt(params, 'days_until_due');
  const due = optInt(params, 'due_date');
  const metadata = applyMetadata(invoice.metadata, params);
  const finalizesAt = optInt(params, 'automatically_finalizes_at');
  if (finalizesAt !== undefined) checkFinalizesAt(finalizesAt, autoAdvance ?? invoice.auto_advance, now);

  const before = clone(invoice);
  const state = world.invoiceState.get(invoice.id)!;
  if (autoAdvance !== undefined) invoice.auto_advance = autoAdvance;
  for (const [f, v] of texts) if (v !== undefined) invoice[f] = v;
  if (cm) invoice.collection_method = cm;
  if (days !== undefined) state.daysUntilDue = days;
  if (due !== undefined) invoice.due_date = due;
  invoice.metadata = metadata;
  if (finalizesAt !== undefined) {
    invoice.automatically_finalizes_at = finalizesAt;
    state.customFinalizeAt = true;
  } else if (autoAdvance !== undefined && autoAdvance !== before.auto_advance) {
    if (invoice.status === 'draft') {
      // Re-enabling schedules finalization after the grace period, never immediately.
      invoice.automatically_finalizes_at = autoAdvance ? now + world.billing.gracePeriodSeconds : null;
      state.customFinalizeAt = false;
    } else if (invoice.status === 'open') {
      state.paymentDueAt =
        autoAdvance && invoice.collection_method === 'charge_automatically'
          ? now + world.billing.autoPayDelaySeconds
          : null;
      invoice.next_payment_attempt = state.paymentDueAt;
    }
  }
  const prev = previousAttributes(before, invoice);
  if (prev) world.emit('invoice.updated', invoice, request, prev);
  return invoice;
});
route('DELETE', '/v1/invoices/:id', ({ world, path, request }) => {
  const invoice = get(world.invoices, 'invoice', path.id);
  if (invoice.status !== 'draft') throw stateError('You can only delete draft invoices.', 'invoice_not_editable');
  if (invoice.parent?.type === 'subscription_details' && invoice.billing_reason !== 'manual') {
    throw stateError("You can't delete invoices created by subscriptions.");
  }
  for (const ii of world.invoiceItems.values()) if (ii.invoice === invoice.id) ii.invoice = null;
  world.emit('invoice.deleted', invoice, request);
  world.removeInvoice(invoice.id);
  world.invoiceState.delete(invoice.id);
  return { id: invoice.id, object: 'invoice', deleted: true };
});
route('POST', '/v1/invoices/:id/finalize', ({ world, params, path, request }) => {
  allow(params, ['auto_advance']);
  const invoice = get(world.invoices, 'invoice', path.id);
  if (invoice.status !== 'draft') {
    throw stateError(
      "This invoice is already finalized, you can't re-finalize a non-draft invoice.",
      'invoice_not_editable',
    );
  }
  const autoAdvance = optBool(params, 'auto_advance');
  if (autoAdvance !== undefined) invoice.auto_advance = autoAdvance;
  finalizeInvoice(world, invoice, request);
  return invoice;
});
route('POST', '/v1/invoices/:id/pay', ({ world, params, path, request }) => {
  allow(params, ['paid_out_of_band', 'payment_method', 'off_session', 'forgive']);
  const invoice = get(world.invoices, 'invoice', path.id);
  payInvoice(world, invoice, request, optBool(params, 'paid_out_of_band') ?? false);
  return invoice;
});
route('POST', '/v1/invoices/:id/void', ({ world, path, request }) => {
  const invoice = get(world.invoices, 'invoice', path.id);
  if (invoice.status !== 'open' && invoice.status !== 'uncollectible') {
    throw stateError(
      `You can only void invoices with status \`open\` or \`uncollectible\`; this invoice is \`${invoice.status}\`.`,
      'invoice_not_editable',
    );
  }
  const previous = { status: invoice.status };
  invoice.status = 'void';
  invoice.status_transitions.voided_at = world.clock.now();
  invoice.next_payment_attempt = null;
  world.invoiceState.get(invoice.id)!.paymentDueAt = null;
  world.emit('invoice.voided', invoice, request, previous);
  return invoice;
});
route('POST', '/v1/invoices/:id/mark_uncollectible', ({ world, path, request }) => {
  const invoice = get(world.invoices, 'invoice', path.id);
  if (invoice.status !== 'open') {
    throw stateError(
      `You can only mark open invoices as uncollectible; this invoice is \`${invoice.status}\`.`,
      'invoice_not_editable',
    );
  }
  const previous = { status: invoice.status };
  invoice.status = 'uncollectible';
  invoice.status_transitions.marked_uncollectible_at = world.clock.now();
  invoice.next_payment_attempt = null;
  world.invoiceState.get(invoice.id)!.paymentDueAt = null;
  world.emit('invoice.marked_uncollectible', invoice, request, previous);
  return invoice;
});
route('GET', '/v1/invoices/:id/lines', ({ world, params, path, url }) => {
  get(world.invoices, 'invoice', path.id);
  return paginate(world.invoiceState.get(path.id)?.lines ?? [], params, url);
});

// ---------- invoice items ----------

const MAX_INVOICE_ITEMS = 250;

route('POST', '/v1/invoiceitems', ({ world, params }) => {
  allow(params, [
    'customer',
    'invoice',
    'amount',
    'currency',
    'description',
    'metadata',
    'period',
    'pricing',
    'quantity',
    'quantity_decimal',
    'unit_amount_decimal',
    'subscription',
    'discountable',
  ]);
  const customer = get(world.customers, 'customer', reqString(params, 'customer'), 'customer');
  const now = world.clock.now();
  const invoiceId = optString(params, 'invoice');
  const invoice = invoiceId ? get(world.invoices, 'invoice', invoiceId, 'invoice') : undefined;
  if (invoice && invoice.status !== 'draft') {
    throw stateError('Invoice items can only be added to draft invoices.', 'invoice_not_editable', 'invoice');
  }
  const pricing = optObject(params, 'pricing');
  const priceId = pricing ? optString(pricing, 'price', 'pricing[price]') : undefined;
  const price = priceId ? get(world.prices, 'price', priceId, 'pricing[price]') : undefined;
  const currency = (
    optString(params, 'currency') ||
    price?.currency ||
    invoice?.currency ||
    customer.currency ||
    'usd'
  ).toLowerCase();
  const ii = invoiceItemObject(randomId('ii'), now, customer.id, currency);
  const qd = optDecimalString(params, 'quantity_decimal');
  const q = qd !== undefined ? new Decimal(qd) : new Decimal(optInt(params, 'quantity') ?? 1);
  ii.quantity_decimal = q.toFixed();
  ii.quantity = q.truncated().toNumber();
  const amount = optInt(params, 'amount');
  const unit = optDecimalString(params, 'unit_amount_decimal');
  if (price) {
    ii.amount = priceAmount(price, world.priceTiers.get(price.id), q);
    ii.pricing = {
      type: 'price_details',
      price_details: { price: price.id, product: price.product },
      unit_amount_decimal: price.unit_amount_decimal,
    };
  } else if (unit !== undefined) {
    ii.amount = lineAmount(q, unit);
    ii.pricing = { type: 'price_details', price_details: null, unit_amount_decimal: unit };
  } else if (amount !== undefined) {
    ii.amount = amount;
    ii.pricing = {
      type: 'price_details',
      price_details: null,
      unit_amount_decimal: new Decimal(amount).dividedBy(q.isZero() ? 1 : q).toFixed(),
    };
  } else {
    throw parameterMissing('amount');
  }
  ii.net_amount = ii.amount;
  ii.description = nullable(params, 'description') ?? null;
  ii.metadata = applyMetadata({}, params);
  const period = optObject(params, 'period');
  if (period) {
    ii.period = {
      end: optInt(period, 'end', 'period[end]') ?? now,
      start: optInt(period, 'start', 'period[start]') ?? now,
    };
  }
  const subscription = optString(params, 'subscription');
  if (subscription) {
    get(world.subscriptions, 'subscription', subscription, 'subscription');
    ii.parent = { type: 'subscription_details', subscription_details: { subscription, subscription_item: null } };
  }
  if (invoice) {
    const state = world.invoiceState.get(invoice.id)!;
    if (state.lines.length >= MAX_INVOICE_ITEMS) {
      throw stateError(
        `An invoice can have at most ${MAX_INVOICE_ITEMS} invoice items.`,
        'invoice_not_editable',
        'invoice',
      );
    }
    ii.invoice = invoice.id;
    state.lines.push(invoiceItemLine(invoice, ii));
    recomputeTotals(world, invoice);
  }
  world.invoiceItems.set(ii.id, ii);
  return ii;
});
route('GET', '/v1/invoiceitems/:id', ({ world, path }) => get(world.invoiceItems, 'invoiceitem', path.id));
route('DELETE', '/v1/invoiceitems/:id', ({ world, path }) => {
  const ii = get(world.invoiceItems, 'invoiceitem', path.id);
  if (ii.invoice) {
    const invoice = world.invoices.get(ii.invoice);
    if (invoice && invoice.status !== 'draft') {
      throw stateError(
        'This invoice item is attached to a finalized invoice and cannot be deleted.',
        'invoice_not_editable',
      );
    }
    if (invoice) {
      const state = world.invoiceState.get(invoice.id)!;
      state.lines = state.lines.filter((l) => l.parent?.invoice_item_details?.invoice_item !== ii.id);
      recomputeTotals(world, invoice);
    }
  }
  world.invoiceItems.delete(ii.id);
  return { id: ii.id, object: 'invoiceitem', deleted: true };
});
route('GET', '/v1/invoiceitems', ({ world, params, url }) => {
  const customer = optString(params, 'customer');
  const invoice = optString(params, 'invoice');
  const pending = optBool(params, 'pending');
  const items = newestFirst(world.invoiceItems.values()).filter(
    (ii) =>
      (!customer || ii.customer === customer) &&
      (!invoice || ii.invoice === invoice) &&
      (pending === undefined || (ii.invoice === null) === pending),
  );
  return paginate(items, params, url);
});

// ---------- webhook endpoints ----------

function enabledEvents(params: Params): string[] | undefined {
  const v = optArray(params, 'enabled_events');
  if (!v) return undefined;
  return v.map((x, i) => {
    if (typeof x !== 'string') throw parameterInvalid(`enabled_events[${i}]`, 'Invalid string');
    return x;
  });
}

route('POST', '/v1/webhook_endpoints', ({ world, params }) => {
  allow(params, ['url', 'enabled_events', 'description', 'metadata', 'api_version', 'connect']);
  const url = reqString(params, 'url');
  try {
    new URL(url);
  } catch {
    throw parameterInvalid('url', `Invalid URL: ${url}`);
  }
  const events = enabledEvents(params);
  if (!events || events.length === 0) throw parameterMissing('enabled_events');
  const ep = webhookEndpointObject(randomId('we'), world.clock.now(), url);
  ep.enabled_events = events;
  ep.description = nullable(params, 'description') ?? null;
  ep.api_version = nullable(params, 'api_version') ?? null;
  ep.metadata = applyMetadata({}, params);
  const secret = 'whsec_' + randomBytes(24).toString('hex');
  world.webhookEndpoints.set(ep.id, ep);
  world.webhookSecrets.set(ep.id, secret);
  return { ...ep, secret };
});
route('GET', '/v1/webhook_endpoints/:id', ({ world, path }) =>
  get(world.webhookEndpoints, 'webhook endpoint', path.id),
);
route('POST', '/v1/webhook_endpoints/:id', ({ world, params, path }) => {
  allow(params, ['url', 'enabled_events', 'description', 'metadata', 'disabled']);
  const ep = get(world.webhookEndpoints, 'webhook endpoint', path.id);
  const url = optString(params, 'url');
  if (url) ep.url = url;
  const events = enabledEvents(params);
  if (events) ep.enabled_events = events;
  const d = nullable(params, 'description');
  if (d !== undefined) ep.description = d;
  const disabled = optBool(params, 'disabled');
  if (disabled !== undefined) ep.status = disabled ? 'disabled' : 'enabled';
  ep.metadata = applyMetadata(ep.metadata, params);
  return ep;
});
route('DELETE', '/v1/webhook_endpoints/:id', ({ world, path }) => {
  get(world.webhookEndpoints, 'webhook endpoint', path.id);
  world.webhookEndpoints.delete(path.id);
  world.webhookSecrets.delete(path.id);
  return { id: path.id, object: 'webhook_endpoint', deleted: true };
});
route('GET', '/v1/webhook_endpoints', ({ world, params, url }) =>
  paginate(newestFirst(world.webhookEndpoints.values()), params, url),
);

// ---------- events ----------

route('GET', '/v1/events/:id', ({ world, path }) => get(world.eventsById, 'event', path.id));
route('GET', '/v1/events', ({ world, params, url }) => {
  const type = optString(params, 'type');
  const types = optArray(params, 'types') as string[] | undefined;
  const matches = (t: string) => {
    if (types) return types.includes(t);
    if (!type) return true;
    if (type.endsWith('*')) return t.startsWith(type.slice(0, -1));
    return t === type;
  };
  return paginate(
    world.events.filter((e) => matches(e.type)),
    params,
    url,
  );
});
