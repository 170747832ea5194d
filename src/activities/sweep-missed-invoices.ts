// The sweep for missed webhooks: a draft whose invoice.created never reached the gate (endpoint down
// longer than Stripe retries, a disabled endpoint, a deploy that dropped events) would never be gated.
// Each round lists Stripe's recent drafts and starts a gate for any that has none, exactly as the
// webhook would have (same workflow id and start options, through the one gate client).
import { log } from '@temporalio/activity';
import type Stripe from 'stripe';
import type { AppConfig } from '../config/env';
import type { InvoiceToGate, StartResult, UnixSeconds } from '../gate/types';
import type { GateMetrics } from '../observability/metrics';
import { callStripe } from '../stripe/stripe-failure';

/** Stripe finalizes a renewal draft about an hour after invoice.created; two hours covers that with room. */
export const SWEEP_WINDOW_SECONDS = 2 * 3600;
/** A younger draft's webhook is normally still in flight (Stripe retries within seconds): leave it to the webhook. */
export const SWEEP_MIN_AGE_SECONDS = 60;

/** What the sweep needs of the gate (the worker passes its gate client). */
export interface GateSweepPort {
  /** Whether the invoice has a gate, running or closed. */
  hasGate(invoiceId: string): Promise<boolean>;
  startGate(invoice: InvoiceToGate): Promise<StartResult>;
}

export interface SweepActivityDeps {
  /** The worker's rate-limited Stripe client. */
  stripe: Stripe;
  gates: GateSweepPort;
  /** GATE_SWEEP_EVERY as this worker was started with; null = off. */
  config: Pick<AppConfig['lifecycle'], 'sweepEveryMs'>;
  metrics: Pick<GateMetrics, 'sweepFound'>;
  /**
   * Stripe's clock (unix seconds) the window is measured on; default this machine's. Drafts carry
   * Stripe's `created`, so tests on the Stripe emulator pass its (advanced) clock.
   */
  stripeNow?: () => Promise<UnixSeconds>;
}

export interface SweepResult {
  /** Drafts without a gate: a gate was started for each. */
  found: string[];
  /** Drafts Stripe listed in the window (young and gated ones included). */
  listed: number;
  /** When the sweeper should sweep again; null: the sweep is off, the sweeper ends. */
  nextSweepInMs: number | null;
}

const machineNow = async (): Promise<UnixSeconds> => Math.floor(Date.now() / 1000);

export function createSweepActivities({ stripe, gates, config, metrics, stripeNow = machineNow }: SweepActivityDeps) {
  return {
    async sweepMissedInvoices(): Promise<SweepResult> {
      // Read per round, so a worker restarted with another GATE_SWEEP_EVERY (or off) takes over the next round.
      const nextSweepInMs = config.sweepEveryMs;
      if (nextSweepInMs === null) return { found: [], listed: 0, nextSweepInMs: null };

      const now = await stripeNow();
      const drafts = await callStripe('invoice list', async () => {
        const all: Stripe.Invoice[] = [];
        // Auto-pagination: every page, 100 at a time.
        for await (const invoice of stripe.invoices.list({
          status: 'draft',
          created: { gte: now - SWEEP_WINDOW_SECONDS },
          limit: 100,
        })) {
          all.push(invoice);
        }
        return all;
      });

      const found: string[] = [];
      for (const invoice of drafts) {
        if (!invoice.id || invoice.created > now - SWEEP_MIN_AGE_SECONDS) continue;
        // Running or closed, the invoice was gated: a closed gate must never be started again.
        if (await gates.hasGate(invoice.id)) continue;
        const customerId = typeof invoice.customer === 'string' ? invoice.customer : (invoice.customer?.id ?? null);
        const result = await gates.startGate({
          id: invoice.id,
          customerId,
          createdAt: invoice.created,
          automaticallyFinalizesAt: invoice.automatically_finalizes_at ?? null,
          currency: invoice.currency,
          livemode: invoice.livemode,
          startedBy: 'sweep',
        });
        if (result !== 'started') continue;
        found.push(invoice.id);
        metrics.sweepFound();
        log.warn('draft invoice had no gate (its invoice.created webhook never started one): the sweep started it', {
          invoiceId: invoice.id,
          customerId,
          created: invoice.created,
        });
      }
      if (found.length > 0 || drafts.length > 0)
        log.info('sweep for missed webhooks', { listed: drafts.length, found: found.length });
      return { found, listed: drafts.length, nextSweepInMs };
    },
  };
}

export type SweepActivities = ReturnType<typeof createSweepActivities>;
