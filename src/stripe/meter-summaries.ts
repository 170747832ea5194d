// Stripe's meter event summaries for one customer, grouped by UTC day or hour: every page, through
// the project's (rate-limited) client. Partial edges are asked for ungrouped (see summaryQueries).
import type Stripe from 'stripe';
import { bucketKey, summaryQueries, type BucketGrain, type BucketValue } from '../gate/divergence-buckets';
import type { UnixSeconds } from '../gate/types';
import { callStripe } from './stripe-failure';

/** Stripe's largest page: a 31-day month grouped by day, or a day by hour, is one request. */
const SUMMARY_PAGE_SIZE = 100;

export interface MeterSummaryRequest {
  meterId: string;
  customerId: string;
  /** Minute-aligned range (see minuteRange). */
  start: UnixSeconds;
  end: UnixSeconds;
  grain: BucketGrain;
}

/** Stripe's aggregated value per bucket of `grain` in [start, end). */
export async function meterSummaryBuckets(stripe: Stripe, request: MeterSummaryRequest): Promise<BucketValue[]> {
  const buckets: BucketValue[] = [];
  for (const query of summaryQueries(request.start, request.end, request.grain)) {
    // A failed page retries its whole query: nothing of a half-read query is kept.
    const found = await callStripe('meter event summaries list', async () => {
      const got: BucketValue[] = [];
      const pages = stripe.billing.meters.listEventSummaries(request.meterId, {
        customer: request.customerId,
        start_time: query.start,
        end_time: query.end,
        limit: SUMMARY_PAGE_SIZE,
        ...(query.window ? { value_grouping_window: query.window } : {}),
      });
      for await (const summary of pages) {
        // An ungrouped edge summary is 0 when the edge has no events: nothing to place.
        if (!query.window && summary.aggregated_value === 0) continue;
        got.push({
          key: bucketKey(summary.start_time, request.grain),
          // aggregated_value is a JSON number; its shortest text is the decimal Stripe meant.
          value: String(summary.aggregated_value),
        });
      }
      return got;
    });
    buckets.push(...found);
  }
  return buckets;
}
