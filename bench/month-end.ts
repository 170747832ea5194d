// Month-end load: N customers whose billing periods close at the same moment -> N invoice.created
// webhooks -> N gates. Measures the time from the clock advance until every gate has passed or is
// held, gates per second, and per-invoice latency (first webhook delivery attempt -> outcome), with
// the Stripe emulator unconstrained, at Stripe's test-mode rate limit (25 req/s) and at the live one
// (100 req/s). `BENCH_INVOICES` sets N (default 200); `BENCH_DIVERGING_EVERY` makes every k-th
// customer diverge from the ledger (default 10); `BENCH_SCENARIO_TIMEOUT_S` caps one scenario (600);
// `BENCH_SCENARIOS=none,test,live` picks scenarios (default all three); `BENCH_SHARED_PLAN=0` gives
// every customer a price of its own (default: one plan for all, as at a real month end);
// `BENCH_WORKER_TUNING` (JSON) sets worker slots and pollers, e.g. {"maxConcurrentWorkflowTaskPolls":20};
// `BENCH_WORKER_PROCESSES=N` runs the gate's worker as N processes of their own (`npm run worker`)
// instead of in the benchmark's process, where it shares an event loop with the emulators.
import type { FaultSettings } from '../emulators/stripe';
import { seedCohort } from '../test/support/cohort';
import { startGateHarness, type GateHarness } from '../test/support/gate-harness';
import { startWorkerProcess, type WorkerProcess } from '../test/support/worker-process';
import type { WorkerTuning } from '../src/worker';
import { toBenchResult, type BenchResult } from './bench-result';

interface Outcome {
  invoiceId: string;
  outcome: string;
  at: Date;
}

/** How many gates reached `passed` or `held`: polled while the gate works, so it reads no rows. */
async function settledCount(h: GateHarness): Promise<number> {
  const { rows } = await h.ledger.query<{ n: number }>(
    `select count(*)::int as n from invoice_gate.gate_runs where outcome in ('passed', 'held')`,
  );
  return rows[0].n;
}

/** Gates that reached `passed` or `held`, read from the gate's own audit table once they all did. */
async function settledGates(h: GateHarness): Promise<Outcome[]> {
  const { rows } = await h.ledger.query<{ invoice_id: string; outcome: string; at: Date }>(
    `select invoice_id, outcome, coalesce(finished_at, updated_at) as at
       from invoice_gate.gate_runs where outcome in ('passed', 'held')`,
  );
  return rows.map((r) => ({ invoiceId: r.invoice_id, outcome: r.outcome, at: r.at }));
}

/** When Stripe first tried to deliver each invoice's invoice.created, by invoice id. */
async function firstDeliveries(h: GateHarness): Promise<Map<string, number>> {
  const events = await h.stripeEmulator.admin.events('invoice.created');
  const invoiceOf = new Map(events.map((e) => [e.id as string, e.data.object.id as string]));
  const at = new Map<string, number>();
  for (const d of await h.stripeEmulator.admin.deliveries({ eventType: 'invoice.created' })) {
    const invoiceId = invoiceOf.get(d.event_id);
    const first = d.attempts[0];
    if (!invoiceId || !first) continue;
    const t = Date.parse(first.at);
    at.set(invoiceId, Math.min(t, at.get(invoiceId) ?? t));
  }
  return at;
}

interface Scenario {
  /** For BENCH_SCENARIOS. */
  key: string;
  name: string;
  faults: FaultSettings | null;
  /** The gate's own settings, as it would run against that Stripe (its client-side request cap). */
  gateEnv?: Record<string, string>;
}

const SCENARIOS: Scenario[] = [
  { key: 'none', name: 'no faults', faults: null },
  // The gate caps its own requests below Stripe's limits (20 for test keys, 80 for live keys by default).
  {
    key: 'test',
    name: 'Stripe test-mode limit 25 req/s',
    faults: { rateLimitPerSecond: 25 },
    gateEnv: { STRIPE_MAX_REQUESTS_PER_SECOND: '20' },
  },
  {
    key: 'live',
    name: 'Stripe live limit 100 req/s',
    faults: { rateLimitPerSecond: 100 },
    gateEnv: { STRIPE_MAX_REQUESTS_PER_SECOND: '80' },
  },
];

export interface ScenarioMeasurement {
  scenario: string;
  invoices: number;
  passed: number;
  held: number;
  /** Clock advance -> the last gate settled, ms. */
  totalMs: number;
  latenciesMs: number[];
  stripeRequests: number;
  rateLimited: number;
  serverErrors: number;
  completed: boolean;
  /** Requests by method and path with ids replaced, most first: where the requests per invoice go. */
  byEndpoint: Array<[string, number]>;
  /**
   * Failed activity attempts by activity (from the gate's metrics): what reached Temporal's retry policy.
   * null when the worker ran in processes of its own (their metrics are not served).
   */
  failedAttempts: Record<string, number> | null;
  /** Stripe requests in each 10 s from the clock advance: where the gate ran below its cap. */
  requestsPer10s: number[];
}

/** invoice_gate_activity_failures_total by activity, from the Prometheus text. */
async function failedActivityAttempts(h: GateHarness): Promise<Record<string, number>> {
  const { body } = await h.gate.metrics.render();
  const counts: Record<string, number> = {};
  for (const m of body.matchAll(/^invoice_gate_activity_failures_total\{([^}]*)\} (\d+)/gm)) {
    const activity = /activity="([^"]+)"/.exec(m[1])?.[1] ?? 'unknown';
    counts[activity] = (counts[activity] ?? 0) + Number(m[2]);
  }
  return counts;
}

function requestsByEndpoint(requests: ReadonlyArray<{ method: string; path: string }>): Array<[string, number]> {
  const counts = new Map<string, number>();
  for (const r of requests) {
    const key = `${r.method} ${r.path.replace(/\/(in|cus|price|mtr|prod|sub|il|evt)_[A-Za-z0-9]+/g, '/$1_*')}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return [...counts].sort((a, b) => b[1] - a[1]);
}

/** The gate's own cap on Stripe requests per second in a scenario, if it sets one. */
function gateCap(scenario: Scenario): number | null {
  const cap = scenario.gateEnv?.STRIPE_MAX_REQUESTS_PER_SECOND;
  return cap ? Number(cap) : null;
}

function requestsPerWindow(requests: ReadonlyArray<{ at: string }>, from: number, windowMs: number): number[] {
  const counts: number[] = [];
  for (const r of requests) {
    const i = Math.floor((Date.parse(r.at) - from) / windowMs);
    if (i >= 0) counts[i] = (counts[i] ?? 0) + 1;
  }
  return Array.from(counts, (n) => n ?? 0);
}

async function runScenario(
  scenario: Scenario,
  size: number,
  divergingEvery: number,
  timeoutMs: number,
  sharedPlan: boolean,
  workerTuning: WorkerTuning | undefined,
  workerProcesses: number,
): Promise<ScenarioMeasurement> {
  const h = await startGateHarness({ env: scenario.gateEnv, workerTuning, worker: workerProcesses === 0 });
  const workers: WorkerProcess[] = [];
  try {
    // The cap is per process: N workers share the scenario's cap between them.
    const cap = gateCap(scenario);
    const perWorker: Record<string, string> = cap
      ? { STRIPE_MAX_REQUESTS_PER_SECOND: String(cap / workerProcesses) }
      : {};
    for (let i = 0; i < workerProcesses; i++)
      workers.push(await startWorkerProcess({ ...h.workerEnv(), ...perWorker }));
    // Stripe retries a failed delivery for days; the emulator's default (5 attempts within ~3 s) would
    // drop the part of a burst the gate sheds with a fast 503 (over its in-flight bound). 10 attempts
    // from 0.5 s doubling reach about 4 minutes.
    await h.stripeEmulator.admin.setWebhookSettings({ maxAttempts: 10, retryBaseMs: 500 });
    const members = await seedCohort(h, { size, divergingEvery, sharedPlan });
    await h.stripeEmulator.admin.clearRequests();
    if (scenario.faults) await h.stripeEmulator.admin.setFaults(scenario.faults);

    const t0 = Date.now();
    await h.stripeEmulator.admin.advanceClockTo(Math.max(...members.map((m) => m.periodEnd)) + 1);
    let completed = false;
    while (Date.now() - t0 < timeoutMs) {
      if ((await settledCount(h)) >= size) {
        completed = true;
        break;
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const settled = await settledGates(h);
    const requests = await h.stripeEmulator.admin.requests();
    await h.stripeEmulator.admin.clearFaults();

    const delivered = await firstDeliveries(h);
    const latenciesMs = settled.flatMap((s) => {
      const from = delivered.get(s.invoiceId);
      return from === undefined ? [] : [Math.max(0, s.at.getTime() - from)];
    });
    const lastSettled = Math.max(t0 + 1, ...settled.map((s) => s.at.getTime()));
    return {
      scenario: scenario.name,
      invoices: size,
      passed: settled.filter((s) => s.outcome === 'passed').length,
      held: settled.filter((s) => s.outcome === 'held').length,
      totalMs: completed ? lastSettled - t0 : Date.now() - t0,
      latenciesMs,
      stripeRequests: requests.length,
      rateLimited: requests.filter((r) => r.status === 429).length,
      serverErrors: requests.filter((r) => r.status >= 500).length,
      completed,
      byEndpoint: requestsByEndpoint(requests),
      requestsPer10s: requestsPerWindow(requests, t0, 10_000),
      failedAttempts: workerProcesses === 0 ? await failedActivityAttempts(h) : null,
    };
  } finally {
    for (const worker of workers) await worker.stop();
    await h.stop();
  }
}

function envInt(name: string, fallback: number): number {
  const raw = process.env[name];
  const n = raw === undefined || raw === '' ? fallback : Number(raw);
  if (!Number.isInteger(n) || n < 0) throw new Error(`${name} must be a whole number, got ${raw}`);
  return n;
}

/**
 * Under a Stripe rate limit, the fastest any client could make the requests it made: requests / limit.
 * The ratio of the time taken to it says how close the gate runs to the physical limit.
 */
function stripeBound(m: ScenarioMeasurement): string[] {
  const scenario = SCENARIOS.find((s) => s.name === m.scenario);
  const limit = scenario?.faults?.rateLimitPerSecond;
  if (!scenario || !limit) return [];
  const boundMs = (m.stripeRequests / limit) * 1000;
  // The gate keeps its own cap under Stripe's limit (room for the account's other traffic): at that
  // cap, limit / cap times the Stripe bound is the fastest the gate is allowed to be.
  const cap = gateCap(scenario);
  const capMs = cap ? (m.stripeRequests / cap) * 1000 : null;
  return [
    `Stripe bound ${(boundMs / 1000).toFixed(1)} s (${m.stripeRequests} requests at ${limit}/s): ${(m.totalMs / boundMs).toFixed(2)}x the bound` +
      (capMs
        ? `; the gate's own cap of ${cap}/s makes ${(capMs / boundMs).toFixed(2)}x the floor (${(m.totalMs / capMs).toFixed(2)}x the cap's bound)`
        : ''),
  ];
}

export async function runMonthEndBench(): Promise<BenchResult[]> {
  const size = envInt('BENCH_INVOICES', 200);
  const divergingEvery = envInt('BENCH_DIVERGING_EVERY', 10);
  const timeoutMs = envInt('BENCH_SCENARIO_TIMEOUT_S', 600) * 1000;
  // As at a real month end, the cohort shares one plan (one metered price) unless BENCH_SHARED_PLAN=0.
  const sharedPlan = envInt('BENCH_SHARED_PLAN', 1) === 1;
  // e.g. {"maxConcurrentWorkflowTaskExecutions":100}: worker slots and pollers to compare with the defaults.
  const workerTuning = process.env.BENCH_WORKER_TUNING
    ? (JSON.parse(process.env.BENCH_WORKER_TUNING) as WorkerTuning)
    : undefined;
  const workerProcesses = envInt('BENCH_WORKER_PROCESSES', 0);
  if (workerTuning && workerProcesses > 0)
    throw new Error('BENCH_WORKER_TUNING applies to the in-process worker only; unset BENCH_WORKER_PROCESSES');
  if (size < 1) throw new Error('BENCH_INVOICES must be at least 1');

  const keys = (process.env.BENCH_SCENARIOS ?? '')
    .split(',')
    .map((k) => k.trim())
    .filter(Boolean);
  const unknown = keys.filter((k) => !SCENARIOS.some((s) => s.key === k));
  if (unknown.length > 0)
    throw new Error(`BENCH_SCENARIOS: unknown ${unknown.join(', ')}; known: ${SCENARIOS.map((s) => s.key).join(', ')}`);
  const selected = keys.length > 0 ? SCENARIOS.filter((s) => keys.includes(s.key)) : SCENARIOS;

  const measured: ScenarioMeasurement[] = [];
  for (const scenario of selected)
    measured.push(
      await runScenario(scenario, size, divergingEvery, timeoutMs, sharedPlan, workerTuning, workerProcesses),
    );

  // The ratio compares with the no-fault run when it is part of this run.
  const baseline = measured.find((m) => m.scenario === SCENARIOS[0].name)?.totalMs;
  return measured.map((m) => {
    if (m.latenciesMs.length === 0) throw new Error(`${m.scenario}: no gate settled within ${timeoutMs} ms`);
    const notes = [
      `${m.passed} passed + ${m.held} held of ${m.invoices}${m.completed ? '' : ` (TIMED OUT after ${Math.round(m.totalMs / 1000)} s)`}`,
      ...(baseline
        ? [`${(m.totalMs / baseline).toFixed(2)}x the no-fault time${m.completed ? '' : ' (at least)'}`]
        : []),
      `${(m.stripeRequests / m.invoices).toFixed(2)} Stripe requests/invoice (${m.stripeRequests} total; the minimum is ${((m.invoices + m.held) / m.invoices).toFixed(2)}: one read each, one pause per held)`,
      ...stripeBound(m),
      `by endpoint: ${m.byEndpoint.map(([k, n]) => `${k} ${n}`).join(', ')}`,
      `Stripe requests per 10 s: ${m.requestsPer10s.join(' ')}`,
      `${m.rateLimited} x 429 served (waited out by the client)`,
      m.failedAttempts
        ? `failed activity attempts: ${
            Object.entries(m.failedAttempts)
              .map(([a, n]) => `${a} ${n}`)
              .join(', ') || 'none'
          }`
        : `worker in ${workerProcesses} process(es) of its own (failed activity attempts not collected)`,
      ...(m.serverErrors > 0 ? [`${m.serverErrors} x 5xx`] : []),
      'latency = first invoice.created delivery attempt -> passed/held recorded',
    ].join('; ');
    return toBenchResult(`month-end close, ${m.invoices} invoices, ${m.scenario}`, m.latenciesMs, m.totalMs, notes);
  });
}

if (require.main === module) {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { cpus, loadavg } = require('node:os') as typeof import('node:os');
  console.log(
    `machine: ${cpus().length} x ${cpus()[0]?.model.trim()}, node ${process.version}, load at start ${loadavg()
      .map((n) => n.toFixed(2))
      .join(' ')}`,
  );
  runMonthEndBench().then(
    (results) => {
      console.table(
        results.map(({ notes, ...r }) => ({ ...r, seconds: r.seconds.toFixed(2), perSecond: r.perSecond.toFixed(1) })),
      );
      for (const r of results) console.log(`${r.name}: ${r.notes}`);
      console.log(
        `load at end ${loadavg()
          .map((n) => n.toFixed(2))
          .join(' ')}`,
      );
      process.exit(0);
    },
    (error: unknown) => {
      console.error(error);
      process.exit(1);
    },
  );
}
