// Webhook ingress: how many signed `invoice.created` deliveries a second the gate accepts (2xx only
// once Temporal durably started the gate and the event is in the audit), next to the ceilings of the
// same Fastify route that does nothing (`bare`) or only verifies the signature (`verify`). Each server
// runs in its own process, the load generator in another (200 keep-alive connections, distinct events
// of ~3 KB, 503s retried after Retry-After like Stripe), the Temporal engine in a third for the gate:
//
// - gate, server role: `npm run server` (the HTTP half alone, as deployments scale it);
// - gate, combined: `npm start`'s process (server and worker together) against the same engine, its
//   worker running the gates the webhooks start (their invoices do not exist in the Stripe emulator,
//   so each gate reads once, gets a 404 and ends: the cheapest gate, which makes this an upper bound);
// - where one webhook's time goes, one at a time: signature check and parse, the Temporal start, the
//   audit insert, each alone.
//
// Env: BENCH_INGRESS_EVENTS (5,000 per scenario), BENCH_INGRESS_CONNECTIONS (200),
// BENCH_INGRESS_SCENARIOS (bare,verify,server,start), BENCH_INGRESS_LOG_LEVEL (the gate's, info),
// BENCH_INGRESS_GATE_NODE_ARGS (node flags for the gate's process, e.g. `--cpu-prof`),
// BENCH_INGRESS_GATE_LOG (a file that gets the gate's log lines).
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { Client as PgClient } from 'pg';
import Stripe from 'stripe';
import { SLACK_EMULATOR_DEFAULTS, startSlackEmulator } from '../emulators/slack';
import { startStripeEmulator } from '../emulators/stripe';
import { AuditStore } from '../src/audit/audit-store';
import { openDatabases } from '../src/db';
import { invoiceFromEvent, stripeEventSchema } from '../src/webhook/stripe-event';
import { INVOICE_GATE_WORKFLOW_TYPE } from '../src/workflows/definitions';
import { type BenchResult, startTimer, toBenchResult } from './bench-result';
import { listeningAddress, processCpuSeconds, spawnEngine } from './child-processes';
import type { LoadOptions, LoadResult } from './ingress/load-generator';

const ROOT = join(__dirname, '..');
const WEBHOOK_SECRET = 'whsec_bench_ingress_0123456789abcdef';
const ADMIN_URL = process.env.BENCH_ADMIN_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const DATABASE = 'invoice_gate_bench_ingress';

function envInt(name: string, fallback: number): number {
  const value = process.env[name];
  return value ? Number.parseInt(value, 10) : fallback;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

async function freshDatabase(): Promise<string> {
  const admin = new PgClient({ connectionString: ADMIN_URL });
  await admin.connect();
  try {
    await admin.query(`drop database if exists ${DATABASE} with (force)`);
    await admin.query(`create database ${DATABASE}`);
  } finally {
    await admin.end();
  }
  const url = new URL(ADMIN_URL);
  url.pathname = `/${DATABASE}`;
  return url.toString();
}

function stopChild(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
    setTimeout(() => child.kill('SIGKILL'), 15_000).unref();
  });
}

async function waitUntilReady(url: string, child: ChildProcess, output: () => string): Promise<void> {
  const deadline = Date.now() + 120_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`the server exited (${child.exitCode}):\n${output()}`);
    const ok = await fetch(url).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) return;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`${url} did not answer 200 within 120 s:\n${output()}`);
}

interface ServerUnderTest {
  url: string;
  pid: number;
  stop(): Promise<void>;
}

async function startBaseline(mode: 'bare' | 'verify'): Promise<ServerUnderTest> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', join(__dirname, 'ingress', 'baseline-server.ts'), mode, WEBHOOK_SECRET],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const base = await listeningAddress(child, 'baseline server');
  return { url: `${base}/webhooks/stripe`, pid: child.pid!, stop: () => stopChild(child) };
}

async function startGate(role: 'server' | 'start', env: Record<string, string>): Promise<ServerUnderTest> {
  const port = await freePort();
  let output = '';
  // e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof`, for the gate's process only
  const nodeArgs = (process.env.BENCH_INGRESS_GATE_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const child = spawn(process.execPath, [...nodeArgs, join(ROOT, 'scripts', 'launch.mjs'), role], {
    cwd: ROOT,
    env: {
      ...process.env,
      ...env,
      PORT: String(port),
      HOST: '127.0.0.1',
      LOG_LEVEL: process.env.BENCH_INGRESS_LOG_LEVEL ?? 'info',
      NODE_ENV: 'production',
    },
    // Logs go to a pipe that is read, as under a process manager; only the last lines are kept.
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logFile = process.env.BENCH_INGRESS_GATE_LOG ? createWriteStream(process.env.BENCH_INGRESS_GATE_LOG) : null;
  const keep = (chunk: Buffer) => {
    logFile?.write(chunk);
    output = (output + chunk.toString()).slice(-8_000);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  await waitUntilReady(`http://127.0.0.1:${port}/readyz`, child, () => output);
  return { url: `http://127.0.0.1:${port}/webhooks/stripe`, pid: child.pid!, stop: () => stopChild(child) };
}

function runLoad(options: LoadOptions): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', join(__dirname, 'ingress', 'load-generator.ts'), JSON.stringify(options)],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    let out = '';
    child.stdout!.on('data', (chunk) => (out += chunk));
    child.once('exit', (code) =>
      code === 0 ? resolve(JSON.parse(out) as LoadResult) : reject(new Error(`load generator exited with ${code}`)),
    );
  });
}

interface Measured {
  name: string;
  load: LoadResult;
  /** CPU ms per delivered webhook, by process. */
  cpuMsPerEvent: Record<string, number>;
}

/** Runs the load against `server`, counting the CPU each of `processes` spends on it. */
async function measure(
  name: string,
  server: ServerUnderTest,
  processes: Record<string, number>,
  load: Omit<LoadOptions, 'url' | 'prefix'>,
): Promise<Measured> {
  const prefix = randomUUID().replace(/-/g, '').slice(0, 12);
  // The warm-up is part of the run but not of the numbers: CPU is read after it, by a second run.
  await runLoad({ ...load, url: server.url, prefix: `${prefix}w`, count: load.warmup, warmup: 0 });
  const before = Object.fromEntries(Object.entries(processes).map(([k, pid]) => [k, processCpuSeconds(pid) ?? NaN]));
  const result = await runLoad({ ...load, url: server.url, prefix, warmup: 0 });
  const cpuMsPerEvent = Object.fromEntries(
    Object.entries(processes).map(([k, pid]) => [
      k,
      (((processCpuSeconds(pid) ?? NaN) - before[k]) * 1000) / result.delivered,
    ]),
  );
  return { name, load: result, cpuMsPerEvent };
}

function describeMeasured(m: Measured, ceiling?: Measured): string {
  const rate = m.load.delivered / (m.load.elapsedMs / 1000);
  const parts = [
    `${Math.round(rate)} accepted/s`,
    ...(ceiling
      ? [`${((100 * rate) / (ceiling.load.delivered / (ceiling.load.elapsedMs / 1000))).toFixed(1)} % of verify-only`]
      : []),
    `answers ${Object.entries(m.load.statuses)
      .map(([status, n]) => `${n} x ${status}`)
      .join(', ')}`,
    `CPU ms/event: ${Object.entries(m.cpuMsPerEvent)
      .map(([k, ms]) => `${k} ${ms.toFixed(2)}`)
      .join(', ')}`,
  ];
  return parts.join('; ');
}

function asResult(m: Measured, ceiling?: Measured): BenchResult {
  const seconds = m.load.elapsedMs / 1000;
  return {
    name: m.name,
    ops: m.load.delivered,
    seconds,
    perSecond: m.load.delivered / seconds,
    p50Ms: m.load.p50Ms,
    p99Ms: m.load.p99Ms,
    notes: describeMeasured(m, ceiling),
  };
}

/** One webhook's parts, one at a time, in this process: where the time of a single delivery goes. */
async function breakdown(engineAddress: string, databaseUrl: string, samples: number): Promise<BenchResult[]> {
  const stripe = new Stripe('sk_test_ingress_breakdown');
  const payload = JSON.stringify({
    id: 'evt_breakdown',
    object: 'event',
    type: 'invoice.created',
    created: Math.floor(Date.now() / 1000),
    livemode: false,
    data: {
      object: { id: 'in_breakdown', object: 'invoice', status: 'draft', customer: 'cus_1', filler: 'x'.repeat(2_800) },
    },
  });
  const signature = stripe.webhooks.generateTestHeaderString({ payload, secret: WEBHOOK_SECRET });
  const body = Buffer.from(payload);
  const time = async (name: string, n: number, op: (i: number) => Promise<unknown> | unknown) => {
    for (let i = 0; i < Math.min(200, n); i++) await op(-1 - i); // warm-up
    const latencies: number[] = [];
    const total = startTimer();
    for (let i = 0; i < n; i++) {
      const one = startTimer();
      await op(i);
      latencies.push(one());
    }
    return toBenchResult(name, latencies, total(), 'one at a time, in the bench process');
  };

  const results = [
    await time('ingress part: constructEvent + event schema', samples * 4, () => {
      const event = stripeEventSchema.parse(stripe.webhooks.constructEvent(body, signature, WEBHOOK_SECRET));
      return invoiceFromEvent(event);
    }),
  ];
  const connection = await Connection.connect({ address: engineAddress });
  const client = new Client({ connection });
  const run = randomUUID().slice(0, 8);
  try {
    results.push(
      await time('ingress part: Temporal start (engine in its own process)', samples, (i) =>
        client.workflow.start(INVOICE_GATE_WORKFLOW_TYPE, {
          taskQueue: `ingress-breakdown-${run}`,
          workflowId: `ingress-breakdown-${run}-${i}`,
          args: [`in_breakdown${i}`],
          workflowIdConflictPolicy: 'USE_EXISTING',
        }),
      ),
    );
  } finally {
    await connection.close();
  }
  const databases = openDatabases({ databaseUrl, ledgerDatabaseUrl: databaseUrl });
  try {
    const audit = new AuditStore(databases.db);
    results.push(
      await time('ingress part: audit insert of the event (PostgreSQL)', samples, (i) =>
        audit.recordStripeEvent({
          eventId: `evt_breakdown_${run}_${i}`,
          type: 'invoice.created',
          invoiceId: `in_breakdown${i}`,
          created: Math.floor(Date.now() / 1000),
        }),
      ),
    );
  } finally {
    await databases.destroy();
  }
  return results;
}

export async function runIngressBench(): Promise<BenchResult[]> {
  const count = envInt('BENCH_INGRESS_EVENTS', 5_000);
  const connections = envInt('BENCH_INGRESS_CONNECTIONS', 200);
  const load = { webhookSecret: WEBHOOK_SECRET, connections, count, warmup: Math.min(1_000, count) };
  const measured: Measured[] = [];
  const scenarios = (process.env.BENCH_INGRESS_SCENARIOS ?? 'bare,verify,server,start').split(',');

  for (const mode of (['bare', 'verify'] as const).filter((m) => scenarios.includes(m))) {
    const server = await startBaseline(mode);
    try {
      measured.push(
        await measure(
          `ingress, Fastify ${mode === 'bare' ? 'bare' : '+ constructEvent'}`,
          server,
          { server: server.pid },
          load,
        ),
      );
    } finally {
      await server.stop();
    }
  }

  const [stripeEmulator, slackEmulator] = await Promise.all([
    startStripeEmulator({ port: 0 }),
    startSlackEmulator({ port: 0 }),
  ]);
  let breakdownResults: BenchResult[] = [];
  try {
    for (const role of (['server', 'start'] as const).filter((r) => scenarios.includes(r))) {
      const engine = await spawnEngine();
      const databaseUrl = await freshDatabase();
      try {
        const server = await startGate(role, {
          TEMPORAL_ADDRESS: engine.address,
          TEMPORAL_TASK_QUEUE: 'invoice-gate-ingress',
          DATABASE_URL: databaseUrl,
          LEDGER_DATABASE_URL: databaseUrl,
          STRIPE_SECRET_KEY: stripeEmulator.apiKey,
          STRIPE_API_URL: stripeEmulator.url,
          STRIPE_WEBHOOK_SECRET: WEBHOOK_SECRET,
          SLACK_BOT_TOKEN: slackEmulator.botToken,
          SLACK_SIGNING_SECRET: slackEmulator.signingSecret,
          SLACK_API_URL: slackEmulator.apiUrl,
          SLACK_CHANNEL_ID: SLACK_EMULATOR_DEFAULTS.channelId,
          GATE_SWEEP_EVERY: 'off',
        });
        try {
          const name =
            role === 'server'
              ? 'ingress, gate server role (npm run server)'
              : 'ingress, gate combined (npm start: server + worker)';
          measured.push(await measure(name, server, { gate: server.pid, engine: engine.pid }, load));
        } finally {
          await server.stop();
        }
        if (role === 'server') {
          breakdownResults = await breakdown(engine.address, databaseUrl, 500);
        }
      } finally {
        await engine.stop();
      }
    }
  } finally {
    await Promise.all([stripeEmulator.stop(), slackEmulator.stop()]);
  }

  const verify = measured.find((m) => m.name.includes('constructEvent'));
  return [
    ...measured.map((m) => asResult(m, m.name.startsWith('ingress, gate') ? verify : undefined)),
    ...breakdownResults,
  ];
}

if (require.main === module) {
  runIngressBench().then(
    (results) => {
      for (const r of results)
        console.log(
          `${r.name}: ${r.ops} in ${r.seconds.toFixed(2)} s = ${r.perSecond.toFixed(0)}/s, p50 ${r.p50Ms.toFixed(2)} ms, p99 ${r.p99Ms.toFixed(2)} ms${r.notes ? ` (${r.notes})` : ''}`,
        );
      process.exit(0);
    },
    (error: unknown) => {
      console.error(error);
      process.exit(1);
    },
  );
}
