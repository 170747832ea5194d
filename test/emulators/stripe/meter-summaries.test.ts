// GET /v1/billing/meters/:id/event_summaries with value_grouping_window hour and day through
// stripe.billing.meters.listEventSummaries: UTC-aligned windows, only windows with events, newest
// first, stable ids across pages, per formula (sum, count, last), alignment errors.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type Stripe from 'stripe';
import { useEmulatorWithReceiver } from './helpers';

const suite = useEmulatorWithReceiver();
const HOUR = 3600;
const DAY = 86400;

describe('meter event summaries', () => {
  it('groups per UTC hour and day with the meter formula', async () => {
    const { stripe, emulator } = suite;
    const customer = await stripe.customers.create({ name: 'Summaries' });
    const meter = (formula: 'sum' | 'count' | 'last') =>
      stripe.billing.meters.create({
        display_name: formula,
        event_name: `ev_${formula}`,
        default_aggregation: { formula },
      });
    const sum = await meter('sum');
    const count = await meter('count');
    const last = await meter('last');
    // A UTC midnight three days back (meter events are accepted up to 35 days back).
    const d0 = Math.floor(((await emulator.admin.clock()).now - 3 * DAY) / DAY) * DAY;
    const events: Array<[number, string]> = [
      [d0 + 10, '1'],
      [d0 + HOUR - 1, '2'], // still the first hour
      [d0 + HOUR, '4'], // start inclusive
      [d0 + 5 * HOUR + 5, '8'],
      [d0 + DAY + 1, '16'],
      [d0 + 2 * DAY, '32'], // at end_time below: excluded
    ];
    for (const [timestamp, value] of events) {
      for (const m of [sum, count, last]) {
        await stripe.billing.meterEvents.create({
          event_name: m.event_name,
          payload: { stripe_customer_id: customer.id, value },
          timestamp,
        });
      }
    }
    const range = { customer: customer.id, start_time: d0, end_time: d0 + 2 * DAY };
    const rows = (list: Stripe.Billing.MeterEventSummary[]) =>
      list.map((s) => [s.start_time - d0, s.end_time - d0, s.aggregated_value]);

    const hourly = await stripe.billing.meters.listEventSummaries(sum.id, { ...range, value_grouping_window: 'hour' });
    assert.deepEqual(rows(hourly.data), [
      [DAY, DAY + HOUR, 16],
      [5 * HOUR, 6 * HOUR, 8],
      [HOUR, 2 * HOUR, 4],
      [0, HOUR, 3],
    ]);
    assert.equal(hourly.has_more, false);
    for (const s of hourly.data) {
      assert.equal(s.object, 'billing.meter_event_summary');
      assert.equal(s.meter, sum.id);
      assert.match(s.id, /^mtrusg_/);
    }
    const daily = await stripe.billing.meters.listEventSummaries(sum.id, { ...range, value_grouping_window: 'day' });
    assert.deepEqual(rows(daily.data), [
      [DAY, 2 * DAY, 16],
      [0, DAY, 15],
    ]);
    const whole = await stripe.billing.meters.listEventSummaries(sum.id, range);
    assert.deepEqual(rows(whole.data), [[0, 2 * DAY, 31]]);

    assert.deepEqual(
      rows(
        (await stripe.billing.meters.listEventSummaries(count.id, { ...range, value_grouping_window: 'hour' })).data,
      ),
      [
        [DAY, DAY + HOUR, 1],
        [5 * HOUR, 6 * HOUR, 1],
        [HOUR, 2 * HOUR, 1],
        [0, HOUR, 2],
      ],
    );
    // last: the value of the latest event in each window.
    assert.deepEqual(
      rows((await stripe.billing.meters.listEventSummaries(last.id, { ...range, value_grouping_window: 'day' })).data),
      [
        [DAY, 2 * DAY, 16],
        [0, DAY, 8],
      ],
    );

    // Pages: stable ids, starting_after, and the SDK's auto-pagination give the same windows.
    const page1 = await stripe.billing.meters.listEventSummaries(sum.id, {
      ...range,
      value_grouping_window: 'hour',
      limit: 3,
    });
    assert.equal(page1.has_more, true);
    const page2 = await stripe.billing.meters.listEventSummaries(sum.id, {
      ...range,
      value_grouping_window: 'hour',
      limit: 3,
      starting_after: page1.data[2].id,
    });
    assert.deepEqual(
      [...page1.data, ...page2.data].map((s) => s.id),
      hourly.data.map((s) => s.id),
    );
    const all: Stripe.Billing.MeterEventSummary[] = [];
    for await (const s of stripe.billing.meters.listEventSummaries(sum.id, {
      ...range,
      value_grouping_window: 'hour',
      limit: 1,
    }))
      all.push(s);
    assert.deepEqual(rows(all), rows(hourly.data));

    // No events in range: no windows with a grouping window, one zero summary without.
    const empty = { customer: customer.id, start_time: d0 + 2 * HOUR, end_time: d0 + 5 * HOUR };
    assert.deepEqual(
      (await stripe.billing.meters.listEventSummaries(sum.id, { ...empty, value_grouping_window: 'hour' })).data,
      [],
    );
    assert.deepEqual(rows((await stripe.billing.meters.listEventSummaries(sum.id, empty)).data), [
      [2 * HOUR, 5 * HOUR, 0],
    ]);
  });

  it('refuses start and end times not aligned to the minute, the hour or the UTC day', async () => {
    const { stripe, emulator } = suite;
    const customer = await stripe.customers.create({ name: 'Aligned' });
    const m = await stripe.billing.meters.create({
      display_name: 'aligned',
      event_name: 'aligned',
      default_aggregation: { formula: 'sum' },
    });
    const d0 = Math.floor(((await emulator.admin.clock()).now - DAY) / DAY) * DAY;
    const refused = async (
      params: Omit<Stripe.Billing.MeterListEventSummariesParams, 'customer'>,
      param: string,
      unit: RegExp,
    ) =>
      assert.rejects(
        stripe.billing.meters.listEventSummaries(m.id, { customer: customer.id, ...params }),
        (err: Stripe.errors.StripeError) => {
          assert.equal(err.type, 'StripeInvalidRequestError');
          assert.equal(err.statusCode, 400);
          assert.equal(err.param, param);
          assert.match(err.message, unit);
          return true;
        },
      );
    await refused({ start_time: d0 + 1, end_time: d0 + HOUR }, 'start_time', /minute/);
    await refused({ start_time: d0, end_time: d0 + HOUR + 30 }, 'end_time', /minute/);
    await refused({ start_time: d0 + 60, end_time: d0 + HOUR, value_grouping_window: 'hour' }, 'start_time', /hour/);
    await refused({ start_time: d0, end_time: d0 + HOUR + 60, value_grouping_window: 'hour' }, 'end_time', /hour/);
    await refused({ start_time: d0 + HOUR, end_time: d0 + DAY, value_grouping_window: 'day' }, 'start_time', /UTC day/);
    await refused({ start_time: d0, end_time: d0 + DAY + HOUR, value_grouping_window: 'day' }, 'end_time', /UTC day/);
    const ok = await stripe.billing.meters.listEventSummaries(m.id, {
      customer: customer.id,
      start_time: d0 + 60,
      end_time: d0 + 120,
    });
    assert.equal(ok.data.length, 1);
  });

  it('sums decimal values exactly per window, and refuses an unknown customer', async () => {
    const { stripe, emulator } = suite;
    const customer = await stripe.customers.create({ name: 'Decimals' });
    const m = await stripe.billing.meters.create({
      display_name: 'gb',
      event_name: 'gb_decimal',
      default_aggregation: { formula: 'sum' },
    });
    const d0 = Math.floor(((await emulator.admin.clock()).now - 2 * DAY) / DAY) * DAY;
    for (const [timestamp, value] of [
      [d0 + 60, '0.1'],
      [d0 + 120, '0.2'],
      [d0 + HOUR + 5, '1.005'],
    ] as const)
      await stripe.billing.meterEvents.create({
        event_name: 'gb_decimal',
        payload: { stripe_customer_id: customer.id, value },
        timestamp,
      });
    const hourly = await stripe.billing.meters.listEventSummaries(m.id, {
      customer: customer.id,
      start_time: d0,
      end_time: d0 + DAY,
      value_grouping_window: 'hour',
    });
    assert.deepEqual(
      hourly.data.map((s) => [s.start_time - d0, s.aggregated_value]),
      [
        [HOUR, 1.005],
        [0, 0.3],
      ],
    );
    await assert.rejects(
      stripe.billing.meters.listEventSummaries(m.id, { customer: 'cus_missing', start_time: d0, end_time: d0 + DAY }),
      (err: Stripe.errors.StripeError) => {
        assert.equal(err.code, 'resource_missing');
        assert.equal(err.param, 'customer');
        return true;
      },
    );
  });
});
