// Operating the real app: /readyz follows the database (503 while it is unreachable, 200 once it is
// back) and /metrics is valid Prometheus text that counts gate runs. The gate runs as in the e2e
// harness, but every database connection goes through a TCP proxy the test can cut.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Client as PgClient } from 'pg';
import type * as Harness from '../support/gate-harness';
import { CuttableProxy } from './cuttable-proxy';
import { parsePrometheusText, sampleValue } from './prometheus-text';

const upstream = new URL(process.env.TEST_DATABASE_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres');

async function getJson(url: string): Promise<{ status: number; body: any }> {
  const res = await fetch(url);
  return { status: res.status, body: await res.json() };
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      last = error;
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
}

/** /metrics as parsed Prometheus text. */
async function scrape(url: string) {
  return parsePrometheusText(await (await fetch(`${url}/metrics`)).text());
}

describe('readiness and metrics of the running gate', () => {
  const proxy = new CuttableProxy({ host: upstream.hostname, port: Number(upstream.port || 5432) });
  let harness: typeof Harness;
  let h: Harness.GateHarness;

  before(async () => {
    await proxy.start();
    // The harness creates its database (and the gate connects to it) through this admin URL.
    const viaProxy = new URL(upstream);
    viaProxy.hostname = '127.0.0.1';
    viaProxy.port = String(proxy.port);
    process.env.TEST_DATABASE_ADMIN_URL = viaProxy.toString();
    harness = await import('../support/gate-harness');
    h = await harness.startGateHarness();
    assert.equal(new URL(h.databaseUrl).port, String(proxy.port), 'the gate must reach the database through the proxy');
    // The harness's own ledger client also goes through the proxy; a cut must not crash the process.
    h.ledger.on('error', () => undefined);
  });
  after(async () => {
    await proxy.restore();
    await h?.stop();
    await proxy.stop();
  });

  test('/metrics parses as Prometheus text and counts a gate run', async () => {
    const before = await scrape(h.gate.url);
    assert.equal(sampleValue(before, 'invoice_gate_gate_outcomes_total', { outcome: 'passed' }) ?? 0, 0);

    const c = await harness.seedCustomer(h, { name: 'Metrics Co' });
    const usage = harness.timestamps(c.periodStart + 10, 25);
    await h.addMeterEvents(c.customerId, c.eventName, usage);
    await h.addLedgerEvents(c.customerId, c.eventName, usage);
    const invoiceId = await harness.closePeriod(h, c.periodEnd, c.customerId);
    await h.waitForStatus(invoiceId, ['passed']);
    // The workflow's state says `passed` before its activity has written the outcome to the audit and
    // counted it in the metrics: wait for the count itself.
    await until('the passed outcome to be counted', async () =>
      (sampleValue(await scrape(h.gate.url), 'invoice_gate_gate_outcomes_total', { outcome: 'passed' }) ?? 0) > 0
        ? true
        : undefined,
    );

    const res = await fetch(`${h.gate.url}/metrics`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
    const families = parsePrometheusText(await res.text());
    assert.equal(families.get('invoice_gate_gate_outcomes_total')?.type, 'counter');
    assert.equal(sampleValue(families, 'invoice_gate_gate_outcomes_total', { outcome: 'passed' }), 1);
    const created =
      families
        .get('invoice_gate_webhooks_received_total')
        ?.samples.filter((s) => s.labels.type === 'invoice.created') ?? [];
    assert.ok(created.length > 0, 'an invoice.created line');
    // One started gate per invoice.created: the cycle invoice and the subscription's first invoice.
    const started = sampleValue(families, 'invoice_gate_webhooks_received_total', {
      type: 'invoice.created',
      result: 'started',
    });
    assert.ok(started !== undefined && started >= 1, `invoice.created webhooks that started a gate: ${started}`);
    assert.equal(sampleValue(families, 'invoice_gate_held_invoices', { status: 'held' }), 0);
    assert.equal(families.get('invoice_gate_hold_decision_seconds')?.type, 'histogram');
    // Node process metrics are there too (collectDefaultMetrics).
    assert.ok(families.has('process_cpu_user_seconds_total'));
  });

  test('/readyz is 503 while the database is unreachable and 200 again once it is back', async () => {
    const ready = await getJson(`${h.gate.url}/readyz`);
    assert.equal(ready.status, 200, JSON.stringify(ready.body));
    assert.equal(ready.body.status, 'ready');
    assert.equal(ready.body.checks.database.ok, true);
    assert.equal(ready.body.checks.temporal.ok, true);

    await proxy.cut();
    const down = await until('/readyz to report the outage', async () => {
      const r = await getJson(`${h.gate.url}/readyz`);
      return r.status === 503 ? r : undefined;
    });
    assert.equal(down.body.status, 'unready');
    assert.equal(down.body.checks.database.ok, false);
    assert.ok(down.body.checks.database.error, 'the failing check says why');
    assert.equal(down.body.checks.temporal.ok, true, 'Temporal is still reachable');
    // Liveness does not depend on the database: an orchestrator must not restart the process for it.
    assert.equal((await fetch(`${h.gate.url}/healthz`)).status, 200);

    await proxy.restore();
    const up = await until('/readyz to recover', async () => {
      const r = await getJson(`${h.gate.url}/readyz`);
      return r.status === 200 ? r : undefined;
    });
    assert.equal(up.body.status, 'ready');
    assert.equal(up.body.checks.database.ok, true);

    // Not only the ping: the gate does real work on the recovered connection pool.
    const ledger = new PgClient({ connectionString: h.databaseUrl });
    await ledger.connect();
    try {
      const c = await harness.seedCustomer(h, { name: 'After Outage Co' });
      const usage = harness.timestamps(c.periodStart + 10, 10);
      await h.addMeterEvents(c.customerId, c.eventName, usage);
      await ledger.query(
        `INSERT INTO billable_events (stripe_customer_id, event_name, occurred_at) SELECT $1, $2, to_timestamp(t) FROM unnest($3::bigint[]) AS t`,
        [c.customerId, c.eventName, usage],
      );
      const invoiceId = await harness.closePeriod(h, c.periodEnd, c.customerId);
      await h.waitForStatus(invoiceId, ['passed']);
      // The audit row gets its outcome from an activity that runs after the state query says `passed`.
      await until(
        `the audit row of ${invoiceId} to have its outcome`,
        async () => (await h.gate.audit.getRun(invoiceId))?.outcome ?? undefined,
      );
      assert.equal((await h.gate.audit.getRun(invoiceId))?.outcome, 'passed');
    } finally {
      await ledger.end();
    }
  });
});
