// Activities that explain a held invoice: where in time each diverging line differs (Stripe's meter
// event summaries against the ledger, day by day, then hour by hour for the worst days), and how each
// line compares with the customer's previous invoices. Only diverging lines spend Stripe requests.
import { log } from '@temporalio/activity';
import type { Kysely } from 'kysely';
import type Stripe from 'stripe';
import type { LineInsightsStore } from '../audit/line-insights-store';
import type { GateConfig } from '../config/gate-config';
import {
  bucketKey,
  decidingBucket,
  DAYS_REFINED_PER_LINE,
  diffBuckets,
  finestDiffs,
  mergeWindows,
  minuteRange,
  topWindows,
  worstDays,
  GRAIN_SECONDS,
  type BucketValue,
  type DivergenceExplanation,
  type LineExplanation,
} from '../gate/divergence-buckets';
import { HISTORY_INVOICES, judgeHistory, type HistoryCheck, type HistorySettings } from '../gate/history-jump';
import type { Comparison, GateRunKey, InvoiceSnapshot, MeteredLine } from '../gate/types';
import { bucketLedgerEvents } from '../ledger/bucket-ledger-events';
import { ledgerFailure } from '../ledger/ledger-errors';
import { previousMeterQuantities, type PriceMeterLookup } from '../stripe/invoice-history';
import type { PriceLookup } from '../stripe/read-invoice';
import { meterSummaryBuckets } from '../stripe/meter-summaries';

export interface ExplainActivityDeps {
  stripe: Stripe;
  /** The worker's cached price reads (shared with readInvoice): a previous invoice's line -> its meter. */
  prices: PriceLookup;
  ledgerDb: Kysely<any>;
  gateConfig: GateConfig;
  insights: LineInsightsStore;
}

const key = (run: GateRunKey) => ({ workflowId: run.workflowId, runId: run.runId });

export function createExplainActivities({ stripe, prices, ledgerDb, gateConfig, insights }: ExplainActivityDeps) {
  async function ledgerBuckets(invoice: InvoiceSnapshot, line: MeteredLine, range: Range, grain: 'day' | 'hour') {
    try {
      return await bucketLedgerEvents(ledgerDb, gateConfig.ledger, {
        customerId: invoice.customerId,
        customerMetadata: invoice.customerMetadata,
        line,
        ...range,
        grain,
      });
    } catch (error) {
      throw ledgerFailure(error);
    }
  }

  /** One diverging line: differing days, the worst refined to hours, all recorded; the top windows returned. */
  async function explainLine(run: GateRunKey, round: number, invoice: InvoiceSnapshot, line: MeteredLine) {
    const range = minuteRange(line.periodStart, line.periodEnd);
    const summaries = (r: Range, grain: 'day' | 'hour') =>
      meterSummaryBuckets(stripe, { meterId: line.meterId, customerId: invoice.customerId, ...r, grain });

    const [stripeDays, ledgerDays] = await Promise.all([
      summaries(range, 'day'),
      ledgerBuckets(invoice, line, range, 'day'),
    ]);
    const dayDiffs = diffBuckets('day', range, stripeDays, ledgerDays);
    // `last`: the days holding each side's deciding event are refined too, to name its hour.
    const refined = [
      ...new Set([
        ...worstDays(dayDiffs, DAYS_REFINED_PER_LINE),
        ...(line.formula === 'last' ? [latestKey(stripeDays), latestKey(ledgerDays)] : []),
      ]),
    ].filter((day): day is number => day !== null);

    const stripeHours: BucketValue[] = [];
    for (const day of refined) {
      const dayRange = { start: Math.max(day, range.start), end: Math.min(day + GRAIN_SECONDS.day, range.end) };
      stripeHours.push(...(await summaries(dayRange, 'hour')));
    }
    const ledgerHours = refined.length
      ? (await ledgerBuckets(invoice, line, range, 'hour')).filter((h) => refined.includes(bucketKey(h.key, 'day')))
      : [];
    const hourDiffs = diffBuckets('hour', range, stripeHours, ledgerHours);
    const buckets = finestDiffs(dayDiffs, refined, hourDiffs);
    await insights.recordBuckets(key(run), round, line.lineId, buckets);

    const explained: LineExplanation = {
      lineId: line.lineId,
      eventName: line.eventName,
      formula: line.formula,
      windows: topWindows(mergeWindows(buckets)),
      bucketCount: buckets.length,
    };
    if (line.formula === 'last') {
      explained.deciding = {
        stripe: decidingOf(stripeDays, stripeHours, range),
        ledger: decidingOf(ledgerDays, ledgerHours, range),
      };
    }
    return explained;
  }

  return {
    /**
     * Where each diverging line of a held invoice differs in time. Throws when Stripe or the ledger
     * fails: the workflow retries briefly, then says the breakdown is unavailable.
     */
    async explainDivergence(
      run: GateRunKey,
      invoice: InvoiceSnapshot,
      comparison: Comparison,
      round: number,
    ): Promise<DivergenceExplanation> {
      const diverging = new Set(comparison.lines.filter((l) => !l.passed).map((l) => l.lineId));
      const lines: LineExplanation[] = [];
      for (const line of invoice.meteredLines.filter((l) => diverging.has(l.lineId)))
        lines.push(await explainLine(run, round, invoice, line));
      log.info('divergence explained', {
        invoiceId: run.invoiceId,
        lines: lines.map((l) => ({ lineId: l.lineId, buckets: l.bucketCount, windows: l.windows.length })),
      });
      return { status: 'explained', lines };
    },

    /**
     * Each metered line against the customer's previous invoices for its meter: from the gate's audit, or
     * from Stripe's finalized invoices when the gate has not seen the customer (up to HISTORY_INVOICES).
     */
    async checkUsageHistory(
      run: GateRunKey,
      invoice: InvoiceSnapshot,
      settings: HistorySettings & { jump: string },
    ): Promise<HistoryCheck> {
      const before = Math.min(...invoice.meteredLines.map((l) => l.periodStart));
      const fromAudit = await Promise.all(
        invoice.meteredLines.map((line) =>
          insights.previousQuantities(invoice.customerId, invoice.invoiceId, line.eventName, before, HISTORY_INVOICES),
        ),
      );
      const unseen = fromAudit.every((previous) => previous.length === 0);
      const fromStripe = unseen
        ? await previousMeterQuantities(stripe, {
            customerId: invoice.customerId,
            exceptInvoiceId: invoice.invoiceId,
            before,
            meterIds: invoice.meteredLines.map((l) => l.meterId),
            limit: HISTORY_INVOICES,
            priceMeter: priceMeterLookup(invoice, prices),
          })
        : new Map<string, string[]>();
      const check: HistoryCheck = {
        jump: settings.jump,
        action: settings.action,
        lines: invoice.meteredLines.map((line, i) => {
          const stripePrevious = fromStripe.get(line.meterId) ?? [];
          const source = fromAudit[i].length > 0 ? 'audit' : stripePrevious.length > 0 ? 'stripe' : 'none';
          return judgeHistory(
            {
              lineId: line.lineId,
              eventName: line.eventName,
              quantity: line.stripeQuantity,
              previous: source === 'audit' ? fromAudit[i] : stripePrevious,
              source,
            },
            settings.jump,
          );
        }),
      };
      await insights.recordHistory(key(run), check);
      return check;
    },
  };
}

type Range = { start: number; end: number };

/** Prices this invoice bills are known from its read; others (an earlier plan) are read once, cached. */
function priceMeterLookup(invoice: InvoiceSnapshot, prices: PriceLookup): PriceMeterLookup {
  const known = new Map(invoice.meteredLines.map((l) => [l.priceId, l.meterId]));
  return async (priceId) => known.get(priceId) ?? (await prices(priceId)).recurring?.meter ?? null;
}

function latestKey(values: BucketValue[]): number | null {
  return values.reduce<number | null>((max, v) => (max === null || v.key > max ? v.key : max), null);
}

/** `last`: the hour holding the deciding event when its day was refined (it always is), else the day. */
function decidingOf(days: BucketValue[], hours: BucketValue[], range: Range) {
  const day = latestKey(days);
  if (day === null) return null;
  const inDay = hours.filter((h) => bucketKey(h.key, 'day') === day);
  return inDay.length > 0 ? decidingBucket(inDay, 'hour', range) : decidingBucket(days, 'day', range);
}

export type ExplainActivities = ReturnType<typeof createExplainActivities>;
