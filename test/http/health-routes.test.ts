import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import Fastify, { type FastifyInstance } from 'fastify';
import { healthRoutes } from '../../src/http/health-routes';
import { createMetrics, type GateMetrics } from '../../src/observability/metrics';

/** Parses the Prometheus text format (0.0.4) strictly enough to catch malformed output. */
function parsePrometheus(text: string): { types: Map<string, string>; samples: Map<string, number> } {
  const types = new Map<string, string>();
  const samples = new Map<string, number>();
  const helps = new Set<string>();
  assert.ok(text.endsWith('\n'), 'exposition ends with a newline');
  for (const line of text.slice(0, -1).split('\n')) {
    if (line.trim() === '') continue; // empty lines are allowed and ignored
    if (line.startsWith('# HELP ')) {
      const name = line.split(' ')[2];
      assert.ok(!helps.has(name), `duplicate HELP for ${name}`);
      helps.add(name);
      continue;
    }
    if (line.startsWith('# TYPE ')) {
      const [, , name, type] = line.split(' ');
      assert.ok(['counter', 'gauge', 'histogram', 'summary', 'untyped'].includes(type), `bad type ${type}`);
      assert.ok(!types.has(name), `duplicate TYPE for ${name}`);
      types.set(name, type);
      continue;
    }
    assert.ok(!line.startsWith('#'), `unexpected comment ${line}`);
    const m =
      /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\.)*",?)*\})? (-?[0-9.eE+-]+|[nN][aA][nN]|[+-]?[iI][nN][fF])( -?\d+)?$/.exec(
        line,
      );
    assert.ok(m, `malformed sample line: ${JSON.stringify(line)}`);
    const family = m[1].replace(/_(bucket|sum|count|total|created)$/, '');
    assert.ok(
      types.has(m[1]) || types.has(family) || types.has(m[1].replace(/_(bucket|sum|count)$/, '')),
      `sample ${m[1]} has no TYPE`,
    );
    // values follow Go's ParseFloat, which accepts NaN and Inf in any case (prom-client writes "Nan")
    const value = /^[nN][aA][nN]$/.test(m[3])
      ? NaN
      : /[iI][nN][fF]$/.test(m[3])
        ? m[3].startsWith('-')
          ? -Infinity
          : Infinity
        : Number(m[3]);
    assert.ok(!Number.isNaN(value) || /^[nN]/.test(m[3]), `bad value in ${line}`);
    samples.set(m[1] + (m[2] ?? ''), value);
  }
  return { types, samples };
}

let app: FastifyInstance;
let metrics: GateMetrics;
const state = { databaseUp: true, temporalHangs: false, shuttingDown: false };

before(async () => {
  metrics = createMetrics();
  app = Fastify();
  await app.register(healthRoutes, {
    checkTimeoutMs: 100,
    metrics,
    isShuttingDown: () => state.shuttingDown,
    checks: {
      temporal: () => (state.temporalHangs ? new Promise<void>(() => {}) : Promise.resolve()),
      database: async () => {
        if (!state.databaseUp) throw new Error('connect ECONNREFUSED 127.0.0.1:5432');
      },
    },
  });
  await app.listen({ port: 0, host: '127.0.0.1' });
});

after(async () => {
  await app.close();
});

describe('GET /healthz', () => {
  it('is always 200 ok, even when dependencies are down', async () => {
    state.databaseUp = false;
    const res = await app.inject('/healthz');
    state.databaseUp = true;
    assert.equal(res.statusCode, 200);
    assert.deepEqual(res.json(), { status: 'ok' });
  });
});

describe('GET /readyz', () => {
  it('is ready when every check passes', async () => {
    const res = await app.inject('/readyz');
    assert.equal(res.statusCode, 200);
    const body = res.json();
    assert.equal(body.status, 'ready');
    assert.equal(body.checks.temporal.ok, true);
    assert.equal(body.checks.database.ok, true);
    assert.equal(res.headers['cache-control'], 'no-store');
  });

  it('flips to 503 when the database goes down and back when it recovers', async () => {
    state.databaseUp = false;
    const down = await app.inject('/readyz');
    assert.equal(down.statusCode, 503);
    assert.deepEqual(down.json().status, 'unready');
    assert.equal(down.json().checks.database.ok, false);
    assert.equal(down.json().checks.database.error, 'connect ECONNREFUSED 127.0.0.1:5432');
    assert.equal(down.json().checks.temporal.ok, true);

    state.databaseUp = true;
    const up = await app.inject('/readyz');
    assert.equal(up.statusCode, 200);
    assert.equal(up.json().status, 'ready');
  });

  it('a hanging check times out instead of hanging the probe', async () => {
    state.temporalHangs = true;
    const started = Date.now();
    const res = await app.inject('/readyz');
    state.temporalHangs = false;
    assert.equal(res.statusCode, 503);
    assert.equal(res.json().checks.temporal.error, 'timed out after 100 ms');
    assert.ok(Date.now() - started < 1000);
  });

  it('answers 503 while shutting down', async () => {
    state.shuttingDown = true;
    const res = await app.inject('/readyz');
    state.shuttingDown = false;
    assert.equal(res.statusCode, 503);
    assert.equal(res.json().reason, 'shutting down');
  });

  it('works over a real socket too', async () => {
    const address = app.server.address();
    assert.ok(address && typeof address === 'object');
    const res = await fetch(`http://127.0.0.1:${address.port}/readyz`);
    assert.equal(res.status, 200);
  });
});

describe('GET /metrics', () => {
  it('serves valid Prometheus text that shows counters after incrementing', async () => {
    const before = await app.inject('/metrics');
    assert.equal(before.statusCode, 200);
    assert.match(String(before.headers['content-type']), /^text\/plain; version=0\.0\.4/);
    const initial = parsePrometheus(before.body);
    assert.equal(initial.types.get('invoice_gate_gate_outcomes_total'), 'counter');
    assert.equal(initial.samples.get('invoice_gate_gate_outcomes_total{outcome="held"}'), undefined);

    metrics.webhookReceived('invoice.created', 'accepted');
    metrics.gateOutcome('held');
    metrics.heldChanged(1);
    metrics.decisionLatency(120);

    const after = parsePrometheus((await app.inject('/metrics')).body);
    assert.equal(
      after.samples.get('invoice_gate_webhooks_received_total{type="invoice.created",result="accepted"}'),
      1,
    );
    assert.equal(after.samples.get('invoice_gate_gate_outcomes_total{outcome="held"}'), 1);
    assert.equal(after.samples.get('invoice_gate_held_invoices'), 1);
    assert.equal(after.samples.get('invoice_gate_decision_latency_seconds_count'), 1);
    assert.equal(after.types.get('process_cpu_user_seconds_total'), 'counter');
  });

  it('is absent when no metrics are given', async () => {
    const bare = Fastify();
    await bare.register(healthRoutes, { checks: {} });
    assert.equal((await bare.inject('/metrics')).statusCode, 404);
    assert.equal((await bare.inject('/readyz')).json().status, 'ready');
    await bare.close();
  });
});
