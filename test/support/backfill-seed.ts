// Three months of finalized invoices on the Stripe emulator, and a ledger that agrees with some of them:
// what the backfill tests (and their expectations) are built from. Everything goes through the `stripe`
// SDK and the emulator's clock, as a real account's history would have come about.
import Decimal from 'decimal.js';
import type { Client as PgClient } from 'pg';
import type Stripe from 'stripe';
import type { StripeEmulator } from '../../emulators/stripe';

const DAY = 86_400;

/** Usage of one customer for one meter in one period: what Stripe's meter got and what the ledger has. */
export interface SeededUsage {
  stripe: string[];
  ledger: string[];
}

export interface SeededLineKey {
  customerId: string;
  eventName: string;
  periodStart: number;
}

export interface SeededAccount {
  customers: Record<'matching' | 'over' | 'euro' | 'wide', string>;
  /** price id -> its unit amount (minor units, decimal string) and its meter's event name and formula. */
  prices: Map<string, { unitAmountDecimal: string; eventName: string; formula: 'count' | 'sum'; currency: string }>;
  /** `${customer} ${eventName} ${periodStart}` -> usage. */
  usage: Map<string, SeededUsage>;
  /** Emulated time when the first subscription started and when seeding ended. */
  startedAt: number;
  endedAt: number;
}

export const usageKey = (k: SeededLineKey) => `${k.customerId} ${k.eventName} ${k.periodStart}`;

/** The value each ledger row / meter event carries: count meters take 1 (the value is not read). */
function quantityOf(formula: 'count' | 'sum', values: string[]): Decimal {
  return formula === 'count' ? new Decimal(values.length) : values.reduce((sum, v) => sum.plus(v), new Decimal(0));
}
export { quantityOf };

export async function seedThreeMonths(
  stripe: Stripe,
  emulator: StripeEmulator,
  ledger: PgClient,
  options: { wideLines?: number } = {},
): Promise<SeededAccount> {
  const admin = emulator.admin;
  const prices: SeededAccount['prices'] = new Map();
  const usage: SeededAccount['usage'] = new Map();

  const meter = async (eventName: string, formula: 'count' | 'sum') =>
    (
      await stripe.billing.meters.create({
        display_name: eventName,
        event_name: eventName,
        default_aggregation: { formula },
        customer_mapping: { type: 'by_id', event_payload_key: 'stripe_customer_id' },
        value_settings: { event_payload_key: 'value' },
      })
    ).id;
  const price = async (
    meterId: string,
    eventName: string,
    formula: 'count' | 'sum',
    currency: string,
    unitAmountDecimal: string,
  ) => {
    const created = await stripe.prices.create({
      currency,
      unit_amount_decimal: stripe.Decimal.from(unitAmountDecimal),
      recurring: { interval: 'month', usage_type: 'metered', meter: meterId },
      product_data: { name: `${eventName} (${currency})` },
    });
    prices.set(created.id, { unitAmountDecimal, eventName, formula, currency });
    return created.id;
  };

  const calls = await meter('api_call', 'count');
  const storage = await meter('storage_gb', 'sum');
  const usdCalls = await price(calls, 'api_call', 'count', 'usd', '2');
  const usdStorage = await price(storage, 'storage_gb', 'sum', 'usd', '12.5');
  const eurCalls = await price(calls, 'api_call', 'count', 'eur', '3');
  const eurStorage = await price(storage, 'storage_gb', 'sum', 'eur', '7.25');

  const customer = async (name: string) => (await stripe.customers.create({ name, email: `${name}@example.com` })).id;
  const customers = {
    matching: await customer('matching'),
    over: await customer('over'),
    euro: await customer('euro'),
    wide: await customer('wide'),
  };
  // The euro customer's card is declined: its invoices stay open.
  await admin.setPaymentBehavior(customers.euro, 'fail');

  const startedAt = (await admin.clock()).now;
  const subscribe = async (customerId: string, priceIds: string[]) =>
    stripe.subscriptions.create({ customer: customerId, items: priceIds.map((p) => ({ price: p })) });
  const monthly = [
    await subscribe(customers.matching, [usdCalls, usdStorage]),
    await subscribe(customers.over, [usdCalls, usdStorage]),
    await subscribe(customers.euro, [eurCalls, eurStorage]),
  ];

  // Usage of one customer and event in [periodStart, …): meter events every minute from a day in, and
  // the ledger's rows at the same times (the ledger may have fewer or more rows, or other values).
  const record = async (
    customerId: string,
    eventName: string,
    periodStart: number,
    stripeValues: string[],
    ledgerValues: string[],
  ) => {
    usage.set(usageKey({ customerId, eventName, periodStart }), { stripe: stripeValues, ledger: ledgerValues });
    const at = (i: number) => periodStart + DAY + i * 60;
    for (const [i, value] of stripeValues.entries()) {
      await stripe.billing.meterEvents.create({
        event_name: eventName,
        timestamp: at(i),
        identifier: `${customerId}-${eventName}-${periodStart}-${i}`,
        payload: { stripe_customer_id: customerId, value },
      });
    }
    if (ledgerValues.length > 0) {
      await ledger.query(
        `INSERT INTO billable_events (stripe_customer_id, event_name, value, occurred_at)
         SELECT $1, $2, v, to_timestamp(t) FROM unnest($3::numeric[], $4::bigint[]) AS u(v, t)`,
        [customerId, eventName, ledgerValues, ledgerValues.map((_, i) => at(i))],
      );
    }
  };
  const ones = (n: number) => Array.from({ length: n }, () => '1');

  let wide: Stripe.Subscription | undefined;
  // Each subscription's own period: they were created a moment apart, maybe across a second boundary.
  const periodOf = async (subscription: Stripe.Subscription) =>
    (await stripe.subscriptions.retrieve(subscription.id)).items.data[0];
  for (let month = 0; month < 3; month += 1) {
    const [matching, over, euro] = await Promise.all(
      monthly.map(async (sub) => (await periodOf(sub)).current_period_start),
    );
    await admin.advanceClockTo(Math.max(matching, over, euro) + 10 * DAY);
    // Matching: Stripe and the ledger agree.
    await record(customers.matching, 'api_call', matching, ones(10 + month), ones(10 + month));
    await record(customers.matching, 'storage_gb', matching, ['1.5', '2.25'], ['1.5', '2.25']);
    // Over: Stripe bills a few more calls than the ledger has (3 %, 5.5 %, 7.5 %): over-billed, diverging.
    await record(customers.over, 'api_call', over, ones(100 + 10 * month), ones(97 + 7 * month));
    await record(customers.over, 'storage_gb', over, ['0.5'], ['0.5']);
    // Euro: fewer calls billed than counted (under-billed), decimal storage billed more (over-billed).
    await record(customers.euro, 'api_call', euro, ones(20), ones(25));
    await record(customers.euro, 'storage_gb', euro, ['0.125', '1.5', '0.3333'], ['0.125', '1.5']);

    if (month === 2) {
      // Wide: one invoice of 300 metered lines (3 meters x 100 prices), paged by Stripe 100 at a time.
      const lines = options.wideLines ?? 300;
      const wideMeters = [
        { id: await meter('wide_a', 'count'), eventName: 'wide_a' },
        { id: await meter('wide_b', 'count'), eventName: 'wide_b' },
        { id: await meter('wide_c', 'count'), eventName: 'wide_c' },
      ];
      const widePrices: string[] = [];
      for (let i = 0; i < lines; i += 1) {
        const m = wideMeters[i % 3];
        widePrices.push(await price(m.id, m.eventName, 'count', 'usd', '0.5'));
      }
      wide = await subscribe(customers.wide, widePrices);
      const wideStart = wide.items.data[0].current_period_start;
      await admin.advanceClockTo(wideStart + DAY + 3600);
      await record(customers.wide, 'wide_a', wideStart, ones(4), ones(4));
      await record(customers.wide, 'wide_b', wideStart, ones(5), ones(5));
      // One meter diverges: every wide_c line (a third of the invoice) is under-billed by one event.
      await record(customers.wide, 'wide_c', wideStart, ones(6), ones(7));
    }
    const ends = await Promise.all(monthly.map(async (sub) => (await periodOf(sub)).current_period_end));
    // Drafts at the periods' end, finalized an hour later, charged an hour after that.
    await admin.advanceClockTo(Math.max(...ends) + 3 * 3600);
  }
  const wideEnd = wide!.items.data[0].current_period_end;
  await admin.advanceClockTo(wideEnd + 3 * 3600);
  return { customers, prices, usage, startedAt, endedAt: (await admin.clock()).now };
}
