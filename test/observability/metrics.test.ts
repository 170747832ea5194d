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
    assert.match(body, /# TYPE invoice_gate_decision_latency_seconds histogram/);
    assert.match(body, /# HELP invoice_gate_held_invoices Invoices held for review right now/);
  });

  it('counts what the gate reports', async () => {
    const metrics = createMetrics({ defaultMetrics: false });
    metrics.webhookReceived('invoice.created', 'accepted');
    metrics.webhookReceived('invoice.created', 'accepted');
    metrics.webhookReceived('invoice.created', 'duplicate');
    metrics.webhookReceived('', 'invalid_signature');
    metrics.gateOutcome('passed');
    metrics.gateOutcome('held');
    metrics.heldChanged(+1);
    metrics.heldChanged(+1);
    metrics.heldChanged(-1);
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
    assert.equal(s.get('invoice_gate_held_invoices'), 1);
    assert.equal(s.get('invoice_gate_activity_failures_total{activity="countLedger",retryable="true"}'), 1);
    assert.equal(s.get('invoice_gate_activity_failures_total{activity="countLedger",retryable="false"}'), 1);
    assert.equal(s.get('invoice_gate_decision_latency_seconds_count'), 2);
    assert.equal(s.get('invoice_gate_decision_latency_seconds_sum'), 90 + 3 * 86_400);
    assert.equal(s.get('invoice_gate_decision_latency_seconds_bucket{le="60"}'), 0);
    assert.equal(s.get('invoice_gate_decision_latency_seconds_bucket{le="300"}'), 1);
    assert.equal(s.get('invoice_gate_decision_latency_seconds_bucket{le="345600"}'), 2);
    assert.equal(s.get('invoice_gate_decision_latency_seconds_bucket{le="+Inf"}'), 2);

    metrics.setHeld(7);
    assert.equal(samples((await metrics.render()).body).get('invoice_gate_held_invoices'), 7);
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
