// A month-end cohort: many customers whose billing periods close at the same moment. Shared by the
// month-end benchmark and the reliability tests.
import type { GateHarness } from './gate-harness';

/** One seeded customer: Stripe's meter saw `stripeCount` events, the ledger has `ledgerCount`. */
export interface CohortMember {
  customerId: string;
  eventName: string;
  periodStart: number;
  periodEnd: number;
  stripeCount: number;
  ledgerCount: number;
  diverging: boolean;
}

export interface CohortOptions {
  size: number;
  /** Every k-th customer (k, 2k, ...) has fewer ledger rows than Stripe events; 0 = none. */
  divergingEvery: number;
  eventName?: string;
  /** Parallel Stripe calls while reporting usage. */
  concurrency?: number;
  /**
   * Every customer on one plan (one metered price), as at a real month end; by default each customer
   * gets a price of its own, so no gate can reuse what another read.
   */
  sharedPlan?: boolean;
}

/** Runs `work` over `items` with at most `limit` in flight. */
export async function inBatches<T>(
  items: readonly T[],
  limit: number,
  work: (item: T, index: number) => Promise<void>,
): Promise<void> {
  let next = 0;
  const lanes = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const i = next++;
      await work(items[i], i);
    }
  });
  await Promise.all(lanes);
}

/**
 * Seeds `size` customers within a second or two of each other, so their monthly periods end (almost)
 * together. The gate's webhook endpoint is disabled meanwhile: the subscriptions' first invoices
 * (billed and paid at once) would otherwise start gates of their own and blur the measurement.
 */
export async function seedCohort(h: GateHarness, options: CohortOptions): Promise<CohortMember[]> {
  const eventName = options.eventName ?? 'api_call';
  const [endpoint] = await h.stripeEmulator.admin.webhookEndpoints();
  await h.stripe.webhookEndpoints.update(endpoint.id, { disabled: true });
  try {
    const members: CohortMember[] = [];
    let planPrice: string | undefined;
    for (let i = 0; i < options.size; i++) {
      const diverging = options.divergingEvery > 0 && (i + 1) % options.divergingEvery === 0;
      const seeded = await h.stripeEmulator.admin.seed({
        customer: { name: `Month End ${i + 1}`, email: `billing+${i + 1}@month-end.test` },
        meter: { event_name: eventName, formula: 'count' },
        metered_unit_amount_decimal: '2',
        interval: 'month',
        ...(options.sharedPlan && planPrice ? { metered_price: planPrice } : {}),
      });
      planPrice ??= seeded.metered_price.id as string;
      const item = seeded.subscription.items.data[0];
      members.push({
        customerId: seeded.customer.id as string,
        eventName,
        periodStart: item.current_period_start as number,
        periodEnd: item.current_period_end as number,
        stripeCount: diverging ? 5 : 3,
        ledgerCount: 3,
        diverging,
      });
    }
    // Usage a few seconds into the period: inside it, and within Stripe's 5 minutes "ahead" allowance.
    await inBatches(members, options.concurrency ?? 16, async (m) => {
      const times = Array.from({ length: m.stripeCount }, (_, k) => m.periodStart + 1 + k);
      for (const [k, timestamp] of times.entries()) {
        await h.stripe.billing.meterEvents.create({
          event_name: m.eventName,
          timestamp,
          identifier: `${m.customerId}-${k}`,
          payload: { stripe_customer_id: m.customerId },
        });
      }
    });
    // One ledger connection: its inserts go one after another.
    for (const m of members) {
      const times = Array.from({ length: m.ledgerCount }, (_, k) => m.periodStart + 1 + k);
      await h.addLedgerEvents(m.customerId, m.eventName, times);
    }
    return members;
  } finally {
    await h.stripe.webhookEndpoints.update(endpoint.id, { disabled: false });
  }
}

/**
 * Moves Stripe's clock past every member's period end (Stripe creates the drafts and sends
 * invoice.created) and returns customer id -> cycle invoice id.
 */
export async function closeCohort(h: GateHarness, members: readonly CohortMember[]): Promise<Map<string, string>> {
  await h.stripeEmulator.admin.advanceClockTo(Math.max(...members.map((m) => m.periodEnd)) + 1);
  return cohortInvoices(h, members);
}

export async function cohortInvoices(h: GateHarness, members: readonly CohortMember[]): Promise<Map<string, string>> {
  const wanted = new Set(members.map((m) => m.customerId));
  const byCustomer = new Map<string, string>();
  for (const invoice of await h.stripeEmulator.admin.invoices()) {
    if (invoice.billing_reason === 'subscription_cycle' && wanted.has(invoice.customer))
      byCustomer.set(invoice.customer, invoice.id);
  }
  return byCustomer;
}
