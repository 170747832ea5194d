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
  /** +1 when an invoice is held, -1 when it leaves the held state. */
  heldChanged(delta: number): void;
  /** Sets the number of held invoices, e.g. recounted from the audit tables at start. */
  setHeld(count: number): void;
  /** An activity attempt failed; `retryable` = Temporal will try it again. */
  activityFailed(activity: string, retryable: boolean): void;
  /** Seconds from an invoice being held to the reviewer's decision. */
  decisionLatency(seconds: number): void;
  /** The sweep gated a draft whose invoice.created never started a gate: each one is a missed webhook. */
  sweepFound(count?: number): void;
  /** Prometheus text exposition of every metric, with its content type. */
  render(): Promise<{ contentType: string; body: string }>;
}

export interface CreateMetricsOptions {
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
  const held = new Gauge({
    name: 'invoice_gate_held_invoices',
    help: 'Invoices held for review right now',
    registers: [registry],
  });
  const activityFailures = new Counter({
    name: 'invoice_gate_activity_failures_total',
    help: 'Failed activity attempts, by activity and whether Temporal retries them',
    labelNames: ['activity', 'retryable'] as const,
    registers: [registry],
  });
  const decisionLatency = new Histogram({
    name: 'invoice_gate_decision_latency_seconds',
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
    heldChanged: (delta) => {
      if (!Number.isFinite(delta)) return;
      held.inc(delta);
    },
    setHeld: (count) => held.set(Math.max(0, count)),
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
