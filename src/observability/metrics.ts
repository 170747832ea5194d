// Prometheus metrics of the gate (served at GET /metrics). One registry per createMetrics() call,
// never prom-client's global one, so tests and several app instances in one process don't collide.
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { GateOutcome } from '../gate/types';

/** What POST /webhooks/stripe did with a delivery (see src/webhook/stripe-webhook.ts); any other short, bounded string is accepted. */
export type WebhookResult =
  | 'started'
  | 'already_gated'
  | 'signalled'
  | 'no_running_gate'
  | 'ignored'
  | 'rejected'
  | 'unavailable'
  | (string & {});

/** Held -> decision latency buckets in seconds: one minute up to two weeks. */
export const DECISION_LATENCY_BUCKETS_SECONDS = [
  60,
  300,
  900,
  1800,
  3600,
  2 * 3600,
  4 * 3600,
  8 * 3600,
  86_400,
  2 * 86_400,
  4 * 86_400,
  7 * 86_400,
  14 * 86_400,
];

export interface GateMetrics {
  readonly registry: Registry;
  /** A Stripe (or Slack) delivery was handled: event type, and what became of it. */
  webhookReceived(type: string, result: WebhookResult): void;
  /** A gate reached an outcome (passed, held, released, ...). */
  gateOutcome(outcome: GateOutcome | (string & {})): void;
  /**
   * Where the hold gauges come from: read at every scrape (prom-client's collect), so they count every
   * worker's gates and survive restarts. Until it is set the gauges show nothing.
   */
  readHoldsFrom(read: () => Promise<HoldsSnapshot>): void;
  /** An activity attempt failed; `retryable` = Temporal will try it again. */
  activityFailed(activity: string, retryable: boolean): void;
  /** Seconds from an invoice being held to the reviewer's decision. */
  decisionLatency(seconds: number): void;
  /** The sweep gated a draft whose invoice.created never started a gate: each one is a missed webhook. */
  sweepFound(count?: number): void;
  /** Prometheus text exposition of every metric, with its content type. */
  render(): Promise<{ contentType: string; body: string }>;
}

/** Open holds as the audit tables have them (src/audit/hold-queue.ts reads them). */
export interface HoldsSnapshot {
  byStatus: ReadonlyArray<{ status: string; count: number; oldestHeldSince: Date | null }>;
  /** Money at stake in minor units (a decimal string) per currency. */
  moneyByCurrency: ReadonlyArray<{ currency: string; minor: string }>;
}

export interface CreateMetricsOptions {
  /** Clock for the hold ages, in ms; tests pass their own. */
  now?: () => number;
  /** Node process metrics (CPU, memory, event loop lag, GC ...); default true */
  defaultMetrics?: boolean;
  /** labels added to every metric, e.g. `{ service: 'invoice-gate' }` */
  defaultLabels?: Record<string, string>;
}

export function createMetrics(options: CreateMetricsOptions = {}): GateMetrics {
  const registry = new Registry();
  if (options.defaultLabels) registry.setDefaultLabels(options.defaultLabels);
  if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: registry });

  const webhooks = new Counter({
    name: 'invoice_gate_webhooks_received_total',
    help: 'Webhook deliveries received, by event type and result',
    labelNames: ['type', 'result'] as const,
    registers: [registry],
  });
  const outcomes = new Counter({
    name: 'invoice_gate_gate_outcomes_total',
    help: 'Gate runs that reached an outcome, by outcome',
    labelNames: ['outcome'] as const,
    registers: [registry],
  });
  const now = options.now ?? Date.now;
  let readHolds: (() => Promise<HoldsSnapshot>) | undefined;
  // One read per scrape: prom-client collects every metric at once, so the three hold gauges'
  // collect() share the read in flight, which sets all three.
  let reading: Promise<void> | undefined;
  const refreshHolds = (): Promise<void> => {
    const read = readHolds;
    if (!read) return Promise.resolve();
    reading ??= (async () => {
      held.reset();
      oldestHoldAge.reset();
      heldMoney.reset();
      // An unreadable audit (database down: /readyz says so) leaves the hold series absent for this
      // scrape instead of failing the whole /metrics answer or showing stale numbers.
      const snapshot = await read().catch(() => null);
      if (!snapshot) return;
      const at = now();
      for (const { status, count, oldestHeldSince } of snapshot.byStatus) {
        held.set({ status }, count);
        oldestHoldAge.set({ status }, oldestHeldSince ? Math.max(0, (at - oldestHeldSince.getTime()) / 1000) : 0);
      }
      // A float: exact up to 2^53 minor units, far beyond any invoice.
      for (const { currency, minor } of snapshot.moneyByCurrency) heldMoney.set({ currency }, Number(minor));
    })().finally(() => {
      reading = undefined;
    });
    return reading;
  };
  const held: Gauge<'status'> = new Gauge({
    name: 'invoice_gate_held_invoices',
    help: 'Invoices held for review right now, by status',
    labelNames: ['status'] as const,
    registers: [registry],
    collect: refreshHolds,
  });
  const oldestHoldAge: Gauge<'status'> = new Gauge({
    name: 'invoice_gate_oldest_hold_age_seconds',
    help: 'Age of the oldest open hold, by status (0 when none)',
    labelNames: ['status'] as const,
    registers: [registry],
    collect: refreshHolds,
  });
  const heldMoney: Gauge<'currency'> = new Gauge({
    name: 'invoice_gate_held_money_minor',
    help: "Money at stake on open holds (sum of the lines' absolute estimated impact), minor units, by currency",
    labelNames: ['currency'] as const,
    registers: [registry],
    collect: refreshHolds,
  });
  const activityFailures = new Counter({
    name: 'invoice_gate_activity_failures_total',
    help: 'Failed activity attempts, by activity and whether Temporal retries them',
    labelNames: ['activity', 'retryable'] as const,
    registers: [registry],
  });
  const decisionLatency = new Histogram({
    name: 'invoice_gate_hold_decision_seconds',
    help: 'Time from an invoice being held to the reviewer decision, in seconds',
    buckets: DECISION_LATENCY_BUCKETS_SECONDS,
    registers: [registry],
  });
  const sweepFound = new Counter({
    name: 'invoice_gate_sweep_found_total',
    help: 'Draft invoices without a gate that the sweep for missed webhooks found and gated',
    registers: [registry],
  });

  return {
    registry,
    webhookReceived: (type, result) => webhooks.inc({ type: type || 'unknown', result }),
    gateOutcome: (outcome) => outcomes.inc({ outcome }),
    readHoldsFrom: (read) => {
      readHolds = read;
    },
    activityFailed: (activity, retryable) => activityFailures.inc({ activity, retryable: String(retryable) }),
    decisionLatency: (seconds) => {
      if (Number.isFinite(seconds) && seconds >= 0) decisionLatency.observe(seconds);
    },
    sweepFound: (count = 1) => {
      if (Number.isFinite(count) && count > 0) sweepFound.inc(count);
    },
    render: async () => ({ contentType: registry.contentType, body: await registry.metrics() }),
  };
}
