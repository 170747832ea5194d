import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import Fastify, { type FastifyInstance } from 'fastify';
import { bearerTokenMatches, healthRoutes, openMetricsWarning } from '../../src/http/health-routes';
import { createLogger } from '../../src/observability/logger';
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
    // The dependency's own words stay in the log: the port is the one Stripe and Slack reach.
    assert.equal(down.json().checks.database.error, 'failed (the log says why)');
    assert.ok(!down.body.includes('ECONNREFUSED'), down.body);
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
    assert.equal(res.json().checks.temporal.error, 'timed out');
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
    metrics.decisionLatency(120);

    const after = parsePrometheus((await app.inject('/metrics')).body);
    assert.equal(
      after.samples.get('invoice_gate_webhooks_received_total{type="invoice.created",result="accepted"}'),
      1,
    );
    assert.equal(after.samples.get('invoice_gate_gate_outcomes_total{outcome="held"}'), 1);
    assert.equal(after.samples.get('invoice_gate_hold_decision_seconds_count'), 1);
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

const buildGuarded = (sink: Writable) => Fastify({ loggerInstance: createLogger({ level: 'info' }, sink) });

describe('operational endpoints facing the network', () => {
  const TOKEN = 'metrics-token-0123456789abcdef';
  const logged: string[] = [];
  let guarded: ReturnType<typeof buildGuarded>;
  let renderFails = false;
  before(async () => {
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        logged.push(chunk.toString());
        done();
      },
    });
    const gateMetrics = createMetrics();
    guarded = buildGuarded(sink);
    await guarded.register(healthRoutes, {
      checks: {
        database: async () => {
          throw new Error('password authentication failed for user "gate" at db.internal:5432');
        },
      },
      metricsToken: TOKEN,
      metrics: {
        render: async () => {
          if (renderFails) throw new Error('relation "invoice_gate.gate_runs" does not exist at db.internal');
          return gateMetrics.render();
        },
      },
    });
  });
  after(() => guarded.close());

  it('/metrics with a token set is 401 without it or with another one, 200 with it', async () => {
    const none = await guarded.inject('/metrics');
    assert.equal(none.statusCode, 401);
    assert.equal(none.headers['www-authenticate'], 'Bearer realm="metrics"');
    assert.ok(!none.body.includes('invoice_gate_'), 'no metric leaks in the refusal');
    for (const authorization of [`Bearer ${TOKEN}x`, `Basic ${TOKEN}`, TOKEN, 'Bearer ']) {
      assert.equal((await guarded.inject({ url: '/metrics', headers: { authorization } })).statusCode, 401);
    }
    const ok = await guarded.inject({ url: '/metrics', headers: { authorization: `Bearer ${TOKEN}` } });
    assert.equal(ok.statusCode, 200);
    assert.match(ok.body, /invoice_gate_gate_outcomes_total/);
  });

  it('a failing /metrics or /readyz answers a generic body; the details are in the log', async () => {
    renderFails = true;
    const metrics = await guarded.inject({ url: '/metrics', headers: { authorization: `Bearer ${TOKEN}` } });
    renderFails = false;
    assert.equal(metrics.statusCode, 503);
    assert.deepEqual(metrics.json(), {
      error: 'metrics_unavailable',
      message: 'metrics are unavailable; the log says why',
    });
    const ready = await guarded.inject('/readyz');
    assert.equal(ready.statusCode, 503);
    assert.equal(ready.json().checks.database.error, 'failed (the log says why)');
    for (const body of [metrics.body, ready.body]) assert.ok(!/db\.internal|gate_runs|password/.test(body), body);
    const log = logged.join('');
    assert.match(log, /relation \\"invoice_gate.gate_runs\\" does not exist/);
    assert.match(log, /password authentication failed/);
  });

  it('the bearer token is compared whole', () => {
    assert.equal(bearerTokenMatches(`Bearer ${TOKEN}`, TOKEN), true);
    assert.equal(bearerTokenMatches(`bearer ${TOKEN}`, TOKEN), true);
    assert.equal(bearerTokenMatches(`Bearer ${TOKEN.slice(0, -1)}`, TOKEN), false);
    assert.equal(bearerTokenMatches(undefined, TOKEN), false);
  });

  it('start-up warns about an open /metrics on a non-loopback address only', () => {
    for (const host of ['127.0.0.1', 'localhost', '::1', '127.0.0.2'])
      assert.equal(openMetricsWarning(host, undefined), null);
    for (const host of ['0.0.0.0', '::', '10.0.0.5', 'gate.example.com'])
      assert.match(openMetricsWarning(host, undefined) ?? '', /set GATE_METRICS_TOKEN/, host);
    assert.equal(openMetricsWarning('0.0.0.0', TOKEN), null);
  });
});
