// Billing behaviour: meter aggregation, invoice totals, the subscription cycle, automatic
// finalization and payment. Everything runs against the emulated clock.
import Decimal from 'decimal.js';
import { periodBoundary } from './clock';
import { stateError, StripeApiError } from './errors';
import { invoiceObject, lineItemObject } from './objects';
import { priceAmount } from './pricing';
import { previousAttributes, randomId, type Obj } from './util';
import { NO_REQUEST, type RequestInfo, type World } from './world';

/** Usage of one customer on a meter over [start, end), per the meter's formula, decimal-exact. */
export function aggregateUsage(world: World, meter: Obj, customer: string, start: number, end: number): Decimal {
  const events = world
    .meterEventsOf(meter.event_name, customer)
    .filter((e) => e.timestamp >= start && e.timestamp < end);
  const formula = meter.default_aggregation.formula;
  if (formula === 'count') return new Decimal(events.length);
  if (formula === 'last') {
    if (events.length === 0) return new Decimal(0);
    const last = events.reduce((a, b) =>
      b.timestamp > a.timestamp || (b.timestamp === a.timestamp && b.seq > a.seq) ? b : a,
    );
    return new Decimal(last.value);
  }
  return events.reduce((sum, e) => sum.plus(e.value), new Decimal(0));
}

/** Amount in minor units: quantity x unit amount, rounded half up (Stripe rounds to the cent). */
export function lineAmount(quantity: Decimal.Value, unitAmountDecimal: string | null): number {
  if (unitAmountDecimal === null) return 0;
  return new Decimal(quantity).times(unitAmountDecimal).toDecimalPlaces(0, Decimal.ROUND_HALF_UP).toNumber();
}

function money(minor: Decimal.Value, currency: string): string {
  const v = new Decimal(minor).dividedBy(100);
  const symbol = currency === 'usd' ? '$' : `${currency.toUpperCase()} `;
  return `${symbol}${v.toFixed(Math.max(2, v.decimalPlaces()))}`;
}

export function recomputeTotals(world: World, invoice: Obj): void {
  const lines = world.invoiceState.get(invoice.id)?.lines ?? [];
  const subtotal = lines.reduce((s, l) => s + (l.amount as number), 0);
  invoice.subtotal = subtotal;
  invoice.subtotal_excluding_tax = subtotal;
  invoice.total = subtotal;
  invoice.total_excluding_tax = subtotal;
  invoice.amount_due = Math.max(0, subtotal + invoice.starting_balance);
  invoice.amount_remaining = invoice.status === 'paid' ? 0 : invoice.amount_due - invoice.amount_paid;
}

export function newInvoice(world: World, customer: Obj, currency: string, created: number): Obj {
  const invoice = invoiceObject(randomId('in'), created, customer, currency);
  world.addInvoice(invoice);
  world.invoiceState.set(invoice.id, {
    lines: [],
    paymentDueAt: null,
    createdEventId: null,
    daysUntilDue: null,
    customFinalizeAt: false,
  });
  return invoice;
}

/** A subscription's invoice for [periodStart, periodEnd): the draft both the first and the cycle invoices start from. */
export function newSubscriptionInvoice(
  world: World,
  subscription: Obj,
  customer: Obj,
  billingReason: 'subscription_create' | 'subscription_cycle',
  period: { start: number; end: number; created: number },
): Obj {
  const invoice = newInvoice(world, customer, subscription.currency, period.created);
  invoice.billing_reason = billingReason;
  invoice.auto_advance = true;
  invoice.collection_method = subscription.collection_method;
  invoice.period_start = period.start;
  invoice.period_end = period.end;
  invoice.parent = {
    type: 'subscription_details',
    quote_details: null,
    subscription_details: { metadata: { ...subscription.metadata }, subscription: subscription.id },
  };
  return invoice;
}

/** "1200 × API calls (at $0.02 / unit)", "… (at $5.00 per 1000 units)", "… (tiered, graduated)". */
function lineDescription(price: Obj, name: string, quantity: Decimal): string {
  if (price.billing_scheme === 'tiered') return `${quantity.toFixed()} × ${name} (tiered, ${price.tiers_mode})`;
  const unit = price.unit_amount_decimal === null ? '' : money(price.unit_amount_decimal, price.currency);
  if (price.transform_quantity) {
    return `${quantity.toFixed()} × ${name} (at ${unit} per ${price.transform_quantity.divide_by} units)`;
  }
  const per = price.recurring?.usage_type === 'metered' ? 'unit' : (price.recurring?.interval ?? 'month');
  return `${quantity.toFixed()} × ${name} (at ${unit} / ${per})`;
}

/** The line a subscription item contributes for one period. */
export function subscriptionLine(
  world: World,
  invoice: Obj,
  subscription: Obj,
  item: Obj,
  period: { start: number; end: number },
  quantity: Decimal,
): Obj {
  const price = world.prices.get(item.price.id) ?? item.price;
  const product = world.products.get(price.product);
  const name = product?.name ?? price.product;
  const amount = priceAmount(price, world.priceTiers.get(price.id), quantity);
  const description = lineDescription(price, name, quantity);
  return lineItemObject({
    id: randomId('il'),
    invoice: invoice.id,
    currency: price.currency,
    description,
    amount,
    quantityDecimal: quantity.toFixed(),
    quantity: quantity.truncated().toNumber(),
    price: price.id,
    product: price.product,
    unitAmountDecimal: price.unit_amount_decimal,
    period,
    source: { subscription: subscription.id, subscriptionItem: item.id },
  });
}

function meterOf(world: World, item: Obj): Obj | undefined {
  const price = world.prices.get(item.price.id) ?? item.price;
  if (price.recurring?.usage_type !== 'metered' || !price.recurring.meter) return undefined;
  return world.meters.get(price.recurring.meter);
}

/** Stripe recomputes metered quantities when a draft is finalized: usage reported late counts. */
export function refreshMeteredLines(world: World, invoice: Obj): void {
  const state = world.invoiceState.get(invoice.id);
  if (!state) return;
  state.lines = state.lines.map((line) => {
    const details = line.parent?.subscription_item_details;
    if (!details) return line;
    const item = world.subscriptionItems.get(details.subscription_item);
    const sub = world.subscriptions.get(details.subscription);
    if (!item || !sub) return line;
    const meter = meterOf(world, item);
    if (!meter) return line;
    const quantity = aggregateUsage(world, meter, invoice.customer, line.period.start, line.period.end);
    const fresh = subscriptionLine(world, invoice, sub, item, line.period, quantity);
    fresh.id = line.id;
    fresh.metadata = line.metadata;
    return fresh;
  });
  recomputeTotals(world, invoice);
}

/**
 * Late usage: a meter event whose timestamp falls in the period of a metered line of one of the
 * customer's draft invoices updates that line (quantity, amount) and the invoice's totals, and
 * sends invoice.updated with `previous_attributes`. Finalized invoices never change.
 */
export function applyLateUsage(world: World, customer: string, eventName: string, timestamp: number): void {
  for (const invoice of world.invoices.values()) {
    if (invoice.customer !== customer || invoice.status !== 'draft') continue;
    const lines = world.invoiceState.get(invoice.id)?.lines ?? [];
    const affected = lines.some((line) => {
      const details = line.parent?.subscription_item_details;
      if (!details || timestamp < line.period.start || timestamp >= line.period.end) return false;
      const item = world.subscriptionItems.get(details.subscription_item);
      return item !== undefined && meterOf(world, item)?.event_name === eventName;
    });
    if (!affected) continue;
    const before = world.renderInvoice(invoice);
    refreshMeteredLines(world, invoice);
    const prev = previousAttributes(before, world.renderInvoice(invoice));
    if (prev) world.emit('invoice.updated', invoice, NO_REQUEST, prev);
  }
}

/** The automatic-finalization time once the invoice.created event is (or is not) delivered. */
export function scheduleAutoFinalize(world: World, invoice: Obj, from: number, delay: number): void {
  if (invoice.status === 'draft' && invoice.auto_advance) {
    invoice.automatically_finalizes_at = from + delay;
  } else {
    invoice.automatically_finalizes_at = null;
  }
}

/** Called by webhook delivery when every endpoint has answered invoice.created with a 2xx. */
export function onInvoiceCreatedDelivered(world: World, event: Obj): void {
  const invoice = world.invoices.get(event.data.object.id);
  if (!invoice) return;
  const now = world.clock.now();
  invoice.webhooks_delivered_at = now;
  const state = world.invoiceState.get(invoice.id);
  // A custom automatically_finalizes_at is not moved by webhook delivery.
  if (state && state.createdEventId === event.id && !state.customFinalizeAt) {
    scheduleAutoFinalize(world, invoice, now, world.billing.gracePeriodSeconds);
  }
}

/** Emits invoice.created and starts the finalization clock (72 h until webhooks succeed). */
export function announceCreated(
  world: World,
  invoice: Obj,
  request: RequestInfo,
  hasSubscribers: (type: string) => boolean,
): void {
  const waitsForWebhooks = hasSubscribers('invoice.created');
  if (!world.invoiceState.get(invoice.id)?.customFinalizeAt) {
    scheduleAutoFinalize(
      world,
      invoice,
      invoice.created,
      waitsForWebhooks ? world.billing.noWebhookResponseFinalizeSeconds : world.billing.gracePeriodSeconds,
    );
  }
  if (!waitsForWebhooks) invoice.webhooks_delivered_at = invoice.created;
  const event = world.emit('invoice.created', invoice, request);
  const state = world.invoiceState.get(invoice.id);
  if (state) state.createdEventId = event.id;
}

export function finalizeInvoice(world: World, invoice: Obj, request: RequestInfo): void {
  if (invoice.status !== 'draft') {
    throw stateError(
      "This invoice is already finalized, you can't re-finalize a non-draft invoice.",
      'invoice_not_editable',
    );
  }
  refreshMeteredLines(world, invoice);
  const now = world.clock.now();
  const customer = world.customers.get(invoice.customer);
  const seq = customer ? customer.next_invoice_sequence++ : 1;
  const previous = { status: invoice.status };
  invoice.status = 'open';
  invoice.number = `${customer?.invoice_prefix ?? 'EMU'}-${String(seq).padStart(4, '0')}`;
  invoice.status_transitions.finalized_at = now;
  invoice.effective_at = now;
  invoice.ending_balance = 0;
  invoice.automatically_finalizes_at = null;
  invoice.hosted_invoice_url = `https://invoice.stripe.com/i/emulator/${invoice.id}`;
  invoice.invoice_pdf = `https://pay.stripe.com/invoice/emulator/${invoice.id}/pdf`;
  if (invoice.collection_method === 'send_invoice') {
    invoice.due_date = now + 86400 * (world.invoiceState.get(invoice.id)?.daysUntilDue ?? 30);
  }
  recomputeTotals(world, invoice);
  world.emit('invoice.finalized', invoice, request, previous);
  const state = world.invoiceState.get(invoice.id);
  if (invoice.amount_due === 0) {
    markPaid(world, invoice, request);
  } else if (invoice.auto_advance && invoice.collection_method === 'charge_automatically' && state) {
    state.paymentDueAt = now + world.billing.autoPayDelaySeconds;
    invoice.next_payment_attempt = state.paymentDueAt;
  }
}

function markPaid(world: World, invoice: Obj, request: RequestInfo): void {
  const previous = {
    status: invoice.status,
    amount_paid: invoice.amount_paid,
    amount_remaining: invoice.amount_remaining,
  };
  invoice.status = 'paid';
  invoice.amount_paid = invoice.amount_due;
  invoice.amount_remaining = 0;
  invoice.attempted = true;
  invoice.next_payment_attempt = null;
  invoice.status_transitions.paid_at = world.clock.now();
  const state = world.invoiceState.get(invoice.id);
  if (state) state.paymentDueAt = null;
  world.emit('invoice.paid', invoice, request, previous);
  world.emit('invoice.payment_succeeded', invoice, request, previous);
}

/** One payment attempt; a customer set to 'fail' is declined with Stripe's card error (402). */
export function payInvoice(world: World, invoice: Obj, request: RequestInfo, outOfBand = false): void {
  if (invoice.status === 'draft') finalizeInvoice(world, invoice, request);
  if (invoice.status === 'paid') {
    throw stateError('Invoice is already paid', 'invoice_already_paid');
  }
  if (invoice.status !== 'open' && invoice.status !== 'uncollectible') {
    throw stateError(`You cannot pay an invoice with status ${invoice.status}.`, 'invoice_unexpected_state');
  }
  if (!outOfBand && world.paymentBehavior.get(invoice.customer) === 'fail') {
    failPaymentAttempt(world, invoice, request);
    throw new StripeApiError(402, 'card_error', 'Your card was declined.', 'card_declined', undefined, true, {
      decline_code: 'generic_decline',
    });
  }
  if (!outOfBand) invoice.attempt_count += 1;
  markPaid(world, invoice, request);
}

/**
 * One declined payment attempt on an open invoice: `attempt_count` + 1, `attempted`, no further
 * automatic attempt (the emulator has no Smart Retries), invoice.payment_failed. It stays open.
 */
export function failPaymentAttempt(world: World, invoice: Obj, request: RequestInfo): void {
  invoice.attempt_count += 1;
  invoice.attempted = true;
  const state = world.invoiceState.get(invoice.id);
  if (state) state.paymentDueAt = null;
  invoice.next_payment_attempt = null;
  world.emit('invoice.payment_failed', invoice, request);
}

/** Creates the cycle invoice for one closed period and moves the items to the next period. */
export function closePeriod(
  world: World,
  subscription: Obj,
  hasSubscribers: (type: string) => boolean,
): Obj | undefined {
  const state = world.subscriptionState.get(subscription.id);
  const customer = world.customers.get(subscription.customer);
  if (!state || !customer) return undefined;
  const start = periodBoundary(state.anchor, state.interval, state.intervalCount, state.periodIndex);
  const end = periodBoundary(state.anchor, state.interval, state.intervalCount, state.periodIndex + 1);
  const next = periodBoundary(state.anchor, state.interval, state.intervalCount, state.periodIndex + 2);
  state.periodIndex += 1;
  const invoice = newSubscriptionInvoice(world, subscription, customer, 'subscription_cycle', {
    start,
    end,
    created: Math.max(end, world.clock.now()),
  });
  const lines: Obj[] = [];
  for (const item of subscription.items.data as Obj[]) {
    const meter = meterOf(world, item);
    if (meter) {
      const quantity = aggregateUsage(world, meter, customer.id, start, end);
      lines.push(subscriptionLine(world, invoice, subscription, item, { start, end }, quantity));
    } else {
      lines.push(
        subscriptionLine(
          world,
          invoice,
          subscription,
          item,
          { start: end, end: next },
          new Decimal(item.quantity ?? 1),
        ),
      );
    }
  }
  for (const item of subscription.items.data as Obj[]) {
    item.current_period_start = end;
    item.current_period_end = next;
    const stored = world.subscriptionItems.get(item.id);
    if (stored) {
      stored.current_period_start = end;
      stored.current_period_end = next;
    }
  }
  world.invoiceState.get(invoice.id)!.lines = lines.concat(attachPendingItems(world, invoice, subscription.id));
  recomputeTotals(world, invoice);
  subscription.latest_invoice = invoice.id;
  announceCreated(world, invoice, NO_REQUEST, hasSubscribers);
  return invoice;
}

/** Pending invoice items of the customer (optionally of one subscription) become lines. */
export function attachPendingItems(world: World, invoice: Obj, subscription?: string): Obj[] {
  const lines: Obj[] = [];
  for (const ii of world.invoiceItems.values()) {
    if (ii.customer !== invoice.customer || ii.invoice !== null) continue;
    const itemSub = ii.parent?.subscription_details?.subscription ?? null;
    if (subscription !== undefined && itemSub !== null && itemSub !== subscription) continue;
    ii.invoice = invoice.id;
    lines.push(invoiceItemLine(invoice, ii));
  }
  return lines;
}

export function invoiceItemLine(invoice: Obj, ii: Obj): Obj {
  return lineItemObject({
    id: randomId('il'),
    invoice: invoice.id,
    currency: ii.currency,
    description: ii.description ?? '',
    amount: ii.amount,
    quantityDecimal: ii.quantity_decimal,
    quantity: ii.quantity,
    price: ii.pricing?.price_details?.price ?? null,
    product: ii.pricing?.price_details?.product ?? null,
    unitAmountDecimal: ii.pricing?.unit_amount_decimal ?? null,
    period: ii.period,
    source: { invoiceItem: ii.id, subscription: ii.parent?.subscription_details?.subscription ?? undefined },
    metadata: { ...ii.metadata },
  });
}

/** Earliest pending time-based action (emulated unix seconds), or null. */
export function nextDueTime(world: World): number | null {
  let next: number | null = null;
  const consider = (t: number | null | undefined) => {
    if (t !== null && t !== undefined && (next === null || t < next)) next = t;
  };
  for (const sub of world.subscriptions.values()) {
    if (sub.status === 'canceled') continue;
    consider(sub.items.data[0]?.current_period_end);
  }
  for (const inv of world.invoices.values()) {
    if (inv.status === 'draft') consider(inv.automatically_finalizes_at);
    if (inv.status === 'open') consider(world.invoiceState.get(inv.id)?.paymentDueAt);
  }
  return next;
}

/** Runs every action due at the current emulated time. Returns how many ran. */
export function runDue(world: World, hasSubscribers: (type: string) => boolean): number {
  let ran = 0;
  const now = world.clock.now();
  for (const sub of world.subscriptions.values()) {
    while (sub.status !== 'canceled' && sub.items.data.length > 0 && sub.items.data[0].current_period_end <= now) {
      closePeriod(world, sub, hasSubscribers);
      ran++;
    }
  }
  for (const inv of world.invoices.values()) {
    if (
      inv.status === 'draft' &&
      inv.auto_advance &&
      inv.automatically_finalizes_at !== null &&
      inv.automatically_finalizes_at <= now
    ) {
      finalizeInvoice(world, inv, NO_REQUEST);
      ran++;
    }
    const state = world.invoiceState.get(inv.id);
    if (inv.status === 'open' && state?.paymentDueAt != null && state.paymentDueAt <= now) {
      try {
        payInvoice(world, inv, NO_REQUEST);
      } catch (err) {
        if (!(err instanceof StripeApiError)) throw err;
      }
      ran++;
    }
  }
  return ran;
}
