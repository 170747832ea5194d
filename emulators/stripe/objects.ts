// Builders for Stripe objects in the shape of API version 2026-10-28.endive: every key Stripe's
// fixtures carry, null where unset. Handlers fill in the values; nothing here has side effects.
import type { Obj } from './util';

export const API_VERSION = '2026-10-28.endive';

export function customerObject(id: string, created: number, invoicePrefix: string): Obj {
  return {
    id,
    object: 'customer',
    address: null,
    balance: 0,
    created,
    currency: null,
    customer_account: null,
    default_source: null,
    delinquent: false,
    description: null,
    discount: null,
    email: null,
    invoice_prefix: invoicePrefix,
    invoice_settings: {
      custom_fields: null,
      default_payment_method: null,
      footer: null,
      rendering_options: null,
    },
    livemode: false,
    metadata: {},
    name: null,
    next_invoice_sequence: 1,
    phone: null,
    preferred_locales: [],
    shipping: null,
    tax_exempt: 'none',
    test_clock: null,
  };
}

export function productObject(id: string, created: number, name: string): Obj {
  return {
    id,
    object: 'product',
    active: true,
    created,
    default_price: null,
    description: null,
    images: [],
    livemode: false,
    marketing_features: [],
    metadata: {},
    name,
    package_dimensions: null,
    shippable: null,
    statement_descriptor: null,
    tax_code: null,
    type: 'service',
    unit_label: null,
    updated: created,
    url: null,
  };
}

export function priceObject(id: string, created: number, product: string, currency: string): Obj {
  return {
    id,
    object: 'price',
    active: true,
    billing_scheme: 'per_unit',
    created,
    currency,
    custom_unit_amount: null,
    livemode: false,
    lookup_key: null,
    metadata: {},
    nickname: null,
    product,
    recurring: null,
    tax_behavior: 'unspecified',
    tiers_mode: null,
    transform_quantity: null,
    type: 'one_time',
    unit_amount: null,
    unit_amount_decimal: null,
  };
}

export function meterObject(id: string, created: number): Obj {
  return {
    id,
    object: 'billing.meter',
    created,
    customer_mapping: { event_payload_key: 'stripe_customer_id', type: 'by_id' },
    default_aggregation: { formula: 'sum' },
    display_name: '',
    event_name: '',
    event_time_window: null,
    livemode: false,
    status: 'active',
    status_transitions: { deactivated_at: null },
    updated: created,
    value_settings: { event_payload_key: 'value' },
  };
}

export function subscriptionObject(id: string, created: number, customer: string, currency: string): Obj {
  return {
    id,
    object: 'subscription',
    application: null,
    application_fee_percent: null,
    automatic_tax: { disabled_reason: null, enabled: false, liability: null },
    billing_cycle_anchor: created,
    billing_cycle_anchor_config: null,
    billing_mode: { flexible: { proration_discounts: 'included' }, type: 'flexible', updated_at: created },
    billing_schedules: [],
    billing_thresholds: null,
    cancel_at: null,
    cancel_at_period_end: false,
    canceled_at: null,
    cancellation_details: { comment: null, feedback: null, reason: null },
    collection_method: 'charge_automatically',
    created,
    currency,
    customer,
    customer_account: null,
    days_until_due: null,
    default_payment_method: null,
    default_source: null,
    default_tax_rates: [],
    description: null,
    discounts: [],
    ended_at: null,
    invoice_settings: {
      account_tax_ids: null,
      custom_fields: null,
      description: null,
      footer: null,
      issuer: { type: 'self' },
    },
    items: { object: 'list', data: [], has_more: false, url: `/v1/subscription_items?subscription=${id}` },
    latest_invoice: null,
    livemode: false,
    managed_payments: { enabled: false },
    metadata: {},
    next_pending_invoice_item_invoice: null,
    on_behalf_of: null,
    pause_collection: null,
    payment_settings: { payment_method_options: null, payment_method_types: null, save_default_payment_method: 'off' },
    pending_invoice_item_interval: null,
    pending_setup_intent: null,
    pending_update: null,
    schedule: null,
    start_date: created,
    status: 'active',
    test_clock: null,
    transfer_data: null,
    trial_end: null,
    trial_settings: { end_behavior: { missing_payment_method: 'create_invoice' } },
    trial_start: null,
  };
}

export function subscriptionItemObject(id: string, created: number, subscription: string, price: Obj): Obj {
  return {
    id,
    object: 'subscription_item',
    billing_thresholds: null,
    created,
    current_period_end: created,
    current_period_start: created,
    discounts: [],
    metadata: {},
    plan: planFromPrice(price),
    price,
    quantity: price.recurring?.usage_type === 'metered' ? undefined : 1,
    subscription,
    tax_rates: [],
  };
}

/** The legacy `plan` view of a recurring price that subscription items still carry. */
export function planFromPrice(price: Obj): Obj {
  return {
    id: price.id,
    object: 'plan',
    active: price.active,
    amount: price.unit_amount,
    amount_decimal: price.unit_amount_decimal,
    billing_scheme: price.billing_scheme,
    created: price.created,
    currency: price.currency,
    interval: price.recurring?.interval ?? 'month',
    interval_count: price.recurring?.interval_count ?? 1,
    livemode: false,
    metadata: price.metadata,
    meter: price.recurring?.meter ?? null,
    nickname: price.nickname,
    product: price.product,
    tiers_mode: price.tiers_mode ?? null,
    transform_usage: price.transform_quantity ?? null,
    trial_period_days: null,
    usage_type: price.recurring?.usage_type ?? 'licensed',
  };
}

export function invoiceObject(id: string, created: number, customer: Obj, currency: string): Obj {
  return {
    id,
    object: 'invoice',
    account_country: 'US',
    account_name: 'Stripe Emulator',
    account_tax_ids: null,
    amount_due: 0,
    amount_overpaid: 0,
    amount_paid: 0,
    amount_remaining: 0,
    amount_shipping: 0,
    application: null,
    attempt_count: 0,
    attempted: false,
    auto_advance: false,
    automatic_tax: { disabled_reason: null, enabled: false, liability: null, provider: null, status: null },
    automatically_finalizes_at: null,
    billing_reason: 'manual',
    collection_method: 'charge_automatically',
    created,
    currency,
    custom_fields: null,
    customer: customer.id,
    customer_account: null,
    customer_address: customer.address,
    customer_email: customer.email,
    customer_name: customer.name,
    customer_phone: customer.phone,
    customer_shipping: customer.shipping,
    customer_tax_exempt: customer.tax_exempt,
    customer_tax_ids: [],
    default_payment_method: null,
    default_source: null,
    default_tax_rates: [],
    description: null,
    discounts: [],
    due_date: null,
    effective_at: null,
    ending_balance: null,
    footer: null,
    from_invoice: null,
    hosted_invoice_url: null,
    invoice_pdf: null,
    issuer: { type: 'self' },
    last_finalization_error: null,
    latest_revision: null,
    lines: { object: 'list', data: [], has_more: false, url: `/v1/invoices/${id}/lines` },
    livemode: false,
    metadata: {},
    next_payment_attempt: null,
    number: null,
    on_behalf_of: null,
    parent: null,
    payment_settings: { default_mandate: null, payment_method_options: null, payment_method_types: null },
    period_end: created,
    period_start: created,
    post_payment_credit_notes_amount: 0,
    pre_payment_credit_notes_amount: 0,
    receipt_number: null,
    rendering: null,
    shipping_cost: null,
    shipping_details: null,
    starting_balance: 0,
    statement_descriptor: null,
    status: 'draft',
    status_transitions: { finalized_at: null, marked_uncollectible_at: null, paid_at: null, voided_at: null },
    // Stripe's fixtures still carry this key; since basil its value lives in parent.subscription_details.
    subscription: null,
    subtotal: 0,
    subtotal_excluding_tax: 0,
    test_clock: null,
    total: 0,
    total_discount_amounts: [],
    total_excluding_tax: 0,
    total_pretax_credit_amounts: [],
    total_taxes: [],
    webhooks_delivered_at: null,
  };
}

export interface LineSource {
  subscription?: string;
  subscriptionItem?: string;
  invoiceItem?: string;
}

export function lineItemObject(args: {
  id: string;
  invoice: string;
  currency: string;
  description: string;
  amount: number;
  quantityDecimal: string;
  quantity: number;
  price: string | null;
  product: string | null;
  unitAmountDecimal: string | null;
  period: { start: number; end: number };
  source: LineSource;
  metadata?: Record<string, string>;
}): Obj {
  const { source } = args;
  const parent = source.subscriptionItem
    ? {
        type: 'subscription_item_details',
        invoice_item_details: null,
        subscription_item_details: {
          invoice_item: null,
          proration: false,
          proration_details: { credited_items: null },
          subscription: source.subscription ?? null,
          subscription_item: source.subscriptionItem,
        },
      }
    : {
        type: 'invoice_item_details',
        invoice_item_details: {
          invoice_item: source.invoiceItem ?? null,
          proration: false,
          proration_details: { credited_items: null },
          subscription: source.subscription ?? null,
        },
        subscription_item_details: null,
      };
  return {
    id: args.id,
    object: 'line_item',
    amount: args.amount,
    currency: args.currency,
    description: args.description,
    discount_amounts: [],
    discountable: true,
    discounts: [],
    invoice: args.invoice,
    livemode: false,
    metadata: args.metadata ?? {},
    parent,
    period: { end: args.period.end, start: args.period.start },
    pretax_credit_amounts: [],
    pricing: {
      type: 'price_details',
      price_details: args.price ? { price: args.price, product: args.product } : null,
      unit_amount_decimal: args.unitAmountDecimal,
    },
    quantity: args.quantity,
    quantity_decimal: args.quantityDecimal,
    subscription: source.subscription ?? null,
    subtotal: args.amount,
    taxes: [],
  };
}

export function invoiceItemObject(id: string, created: number, customer: string, currency: string): Obj {
  return {
    id,
    object: 'invoiceitem',
    amount: 0,
    currency,
    customer,
    customer_account: null,
    date: created,
    description: null,
    discountable: true,
    discounts: [],
    invoice: null,
    livemode: false,
    metadata: {},
    net_amount: 0,
    parent: null,
    period: { end: created, start: created },
    pricing: null,
    proration: false,
    quantity: 1,
    quantity_decimal: '1',
    tax_rates: [],
    test_clock: null,
  };
}

export function webhookEndpointObject(id: string, created: number, url: string): Obj {
  return {
    id,
    object: 'webhook_endpoint',
    api_version: null,
    application: null,
    created,
    description: null,
    enabled_events: [],
    livemode: false,
    metadata: {},
    status: 'enabled',
    url,
  };
}

export function eventObject(args: {
  id: string;
  created: number;
  type: string;
  object: Obj;
  previousAttributes?: Obj;
  request: { id: string | null; idempotency_key: string | null };
}): Obj {
  const data: Obj = { object: args.object };
  if (args.previousAttributes) data.previous_attributes = args.previousAttributes;
  return {
    id: args.id,
    object: 'event',
    api_version: API_VERSION,
    created: args.created,
    data,
    livemode: false,
    pending_webhooks: 0,
    request: args.request,
    type: args.type,
  };
}
