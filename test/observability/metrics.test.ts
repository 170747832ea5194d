import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Registry } from 'prom-client';
import { createMetrics, DECISION_LATENCY_BUCKETS_SECONDS } from '../../src/observability/metrics';

/** Sample lines of the Prometheus text format as `name{labels} value` -> value. */
function samples(body: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of body.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*(?:\{[^}]*\})?) (\S+)$/.exec(line);
    assert.ok(match, `not a Prometheus sample line: ${line}`);
    out.set(match[1], Number(match[2]));
  }
  return out;
}

describe('createMetrics', () => {
  it('declares the gate metrics with their types and help', async () => {
    const metrics = createMetrics({ defaultMetrics: false });
    const { contentType, body } = await metrics.render();
    assert.match(contentType, /^text\/plain; version=0\.0\.4/);
    assert.match(body, /# TYPE invoice_gate_webhooks_received_total counter/);
    assert.match(body, /# TYPE invoice_gate_gate_outcomes_total counter/);
    assert.match(body, /# TYPE invoice_gate_held_invoices gauge/);
    assert.match(body, /# TYPE invoice_gate_activity_failures_total counter/);
    assert.match(body, /# TYPE invoice_gate_hold_decision_seconds histogram/);
    assert.match(body, /# HELP invoice_gate_held_invoices Invoices held for review right now, by status/);
  });

  it('counts what the gate reports', async () => {
    const metrics = createMetrics({ defaultMetrics: false });
    metrics.webhookReceived('invoice.created', 'accepted');
    metrics.webhookReceived('invoice.created', 'accepted');
    metrics.webhookReceived('invoice.created', 'duplicate');
    metrics.webhookReceived('', 'invalid_signature');
    metrics.gateOutcome('passed');
    metrics.gateOutcome('held');
    metrics.activityFailed('countLedger', true);
    metrics.activityFailed('countLedger', false);
    metrics.decisionLatency(90);
    metrics.decisionLatency(3 * 86_400);
    metrics.decisionLatency(Number.NaN); // ignored
    const s = samples((await metrics.render()).body);
    assert.equal(s.get('invoice_gate_webhooks_received_total{type="invoice.created",result="accepted"}'), 2);
    assert.equal(s.get('invoice_gate_webhooks_received_total{type="invoice.created",result="duplicate"}'), 1);
    assert.equal(s.get('invoice_gate_webhooks_received_total{type="unknown",result="invalid_signature"}'), 1);
    assert.equal(s.get('invoice_gate_gate_outcomes_total{outcome="passed"}'), 1);
    assert.equal(s.get('invoice_gate_gate_outcomes_total{outcome="held"}'), 1);
    assert.equal(s.get('invoice_gate_held_invoices{status="held"}'), undefined, 'no holds source: no hold gauges');
    assert.equal(s.get('invoice_gate_activity_failures_total{activity="countLedger",retryable="true"}'), 1);
    assert.equal(s.get('invoice_gate_activity_failures_total{activity="countLedger",retryable="false"}'), 1);
    assert.equal(s.get('invoice_gate_hold_decision_seconds_count'), 2);
    assert.equal(s.get('invoice_gate_hold_decision_seconds_sum'), 90 + 3 * 86_400);
    assert.equal(s.get('invoice_gate_hold_decision_seconds_bucket{le="60"}'), 0);
    assert.equal(s.get('invoice_gate_hold_decision_seconds_bucket{le="300"}'), 1);
    assert.equal(s.get('invoice_gate_hold_decision_seconds_bucket{le="345600"}'), 2);
    assert.equal(s.get('invoice_gate_hold_decision_seconds_bucket{le="+Inf"}'), 2);
  });

  it('reads the hold gauges from their source at every scrape', async () => {
    let now = Date.parse('2026-03-01T12:00:00Z');
    const metrics = createMetrics({ defaultMetrics: false, now: () => now });
    let snapshot = {
      byStatus: [
        { status: 'held', count: 3, oldestHeldSince: new Date('2026-03-01T10:00:00Z') },
        { status: 'awaiting_second_approval', count: 0, oldestHeldSince: null },
      ],
      moneyByCurrency: [
        { currency: 'eur', minor: '1250' },
        { currency: 'usd', minor: '90000' },
      ],
    };
    let reads = 0;
    metrics.readHoldsFrom(async () => {
      reads += 1;
      return snapshot;
    });
    const s = samples((await metrics.render()).body);
    assert.equal(reads, 1, 'one read per scrape');
    assert.equal(s.get('invoice_gate_held_invoices{status="held"}'), 3);
    assert.equal(s.get('invoice_gate_held_invoices{status="awaiting_second_approval"}'), 0);
    assert.equal(s.get('invoice_gate_oldest_hold_age_seconds{status="held"}'), 7200);
    assert.equal(s.get('invoice_gate_oldest_hold_age_seconds{status="awaiting_second_approval"}'), 0);
    assert.equal(s.get('invoice_gate_held_money_minor{currency="eur"}'), 1250);
    assert.equal(s.get('invoice_gate_held_money_minor{currency="usd"}'), 90000);

    // The eur hold is decided: its series goes; time passes for the rest.
    now += 60_000;
    snapshot = {
      byStatus: [
        { status: 'held', count: 2, oldestHeldSince: new Date('2026-03-01T10:00:00Z') },
        { status: 'awaiting_second_approval', count: 1, oldestHeldSince: new Date('2026-03-01T11:00:00Z') },
      ],
      moneyByCurrency: [{ currency: 'usd', minor: '90000' }],
    };
    const t = samples((await metrics.render()).body);
    assert.equal(reads, 2);
    assert.equal(t.get('invoice_gate_held_invoices{status="held"}'), 2);
    assert.equal(t.get('invoice_gate_held_invoices{status="awaiting_second_approval"}'), 1);
    assert.equal(t.get('invoice_gate_oldest_hold_age_seconds{status="held"}'), 7260);
    assert.equal(t.get('invoice_gate_oldest_hold_age_seconds{status="awaiting_second_approval"}'), 3660);
    assert.equal(t.get('invoice_gate_held_money_minor{currency="eur"}'), undefined);
    assert.equal(t.get('invoice_gate_held_money_minor{currency="usd"}'), 90000);
  });

  it('latency buckets go from a minute to days', () => {
    assert.equal(DECISION_LATENCY_BUCKETS_SECONDS[0], 60);
    assert.ok(DECISION_LATENCY_BUCKETS_SECONDS.at(-1)! >= 7 * 86_400);
    const sorted = [...DECISION_LATENCY_BUCKETS_SECONDS].sort((a, b) => a - b);
    assert.deepEqual(DECISION_LATENCY_BUCKETS_SECONDS, sorted);
  });

  it('includes default Node metrics and keeps registries separate', async () => {
    const a = createMetrics();
    const b = createMetrics({ defaultLabels: { service: 'invoice-gate' } });
    a.gateOutcome('held');
    const bodyA = (await a.render()).body;
    const bodyB = (await b.render()).body;
    assert.match(bodyA, /^process_cpu_user_seconds_total /m);
    assert.match(bodyA, /^nodejs_eventloop_lag_seconds /m);
    assert.match(bodyA, /invoice_gate_gate_outcomes_total\{outcome="held"\} 1/);
    assert.doesNotMatch(bodyB, /invoice_gate_gate_outcomes_total\{/);
    assert.match(bodyB, /process_cpu_user_seconds_total\{service="invoice-gate"\}/);
    samples(bodyA);
    samples(bodyB);
  });

  it('round-trips through a prom-client registry', async () => {
    const metrics = createMetrics({ defaultMetrics: false });
    metrics.gateOutcome('released');
    const json = await metrics.registry.getMetricsAsJSON();
    const outcome = json.find((m) => m.name === 'invoice_gate_gate_outcomes_total');
    assert.deepEqual(
      outcome?.values.map((v) => [v.labels, v.value]),
      [[{ outcome: 'released' }, 1]],
    );
    const merged = Registry.merge([metrics.registry, new Registry()]);
    assert.match(await merged.metrics(), /invoice_gate_gate_outcomes_total\{outcome="released"\} 1/);
  });
});
