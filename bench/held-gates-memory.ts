// The worker's resident memory (RSS) with N held gates: gates whose invoice diverged, now paused and
// waiting durably (for days, in production) for a reviewer's signal. The worker runs as its own process,
// started the way `npm run worker` starts it (scripts/launch.mjs worker: dist/ when built, the sources
// through tsx otherwise), so its RSS is the worker's alone; the Temporal, Stripe and Slack emulators,
// the webhook server and this bench live in this process, the audit and ledger in PostgreSQL.
//
// Per scenario: RSS before any gate, then with N held (every customer of a month-end cohort diverges),
// each also after a full GC of every isolate in the worker (bench/support/gc-on-signal.cjs). A scenario
// is one value of the worker's TEMPORAL_MAX_CACHED_WORKFLOWS, which decides how many held gates stay
// in memory. Env: BENCH_HELD_GATES (1000), BENCH_HELD_CACHE (`default,250`: `default` leaves it
// unset), BENCH_HELD_SETTLE_S (15, before each sample), BENCH_HELD_TIMEOUT_S (900, per scenario);
// MALLOC_ARENA_MAX is passed on to the worker. After each full GC the bench also says where the RSS is:
// V8 heaps per isolate, V8 mallocs and external memory, file-backed pages, and the native rest.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { closeCohort, seedCohort } from '../test/support/cohort';
import { startGateHarness, type GateHarness } from '../test/support/gate-harness';
import { toBenchResult, type BenchResult } from './bench-result';

const ROOT = join(__dirname, '..');
const GC_PRELOAD = join(__dirname, 'support', 'gc-on-signal.cjs');

/** Progress on stderr, one JSON line per step (a 1,000-gate scenario takes minutes). */
function step(fields: Record<string, unknown>, msg: string): void {
  process.stderr.write(`${JSON.stringify({ time: new Date().toISOString(), bench: 'held-gates', ...fields, msg })}\n`);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const mib = (kib: number) => Math.round((kib / 1024) * 10) / 10;

function rssKiB(pid: number): number {
  const kib = Number(/^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]);
  if (!Number.isFinite(kib)) throw new Error(`no VmRSS for process ${pid}`);
  return kib;
}

/** The median of `count` RSS samples, one a second (GC timing moves single samples). */
async function medianRss(pid: number, count = 5): Promise<number> {
  const samples: number[] = [];
  for (let i = 0; i < count; i++) {
    if (i > 0) await sleep(1000);
    samples.push(rssKiB(pid));
  }
  return samples.sort((a, b) => a - b)[Math.floor(count / 2)];
}

/** Where the RSS after a full GC is, MiB: V8's isolates, memory they keep outside, and the rest. */
interface RssBreakdown {
  /** The RSS at the moment of this breakdown (right after one more full GC). */
  rss: number;
  /** Heap pages of the main thread's isolate. */
  mainHeap: number;
  /** Heap pages of the other isolates (the workflow thread, the tsx loader's thread from sources). */
  otherHeaps: number;
  /** V8's own mallocs and the Buffers / ArrayBuffers its objects keep, all isolates. */
  mallocedAndExternal: number;
  /** Resident pages backed by files: the node binary, Temporal core's library, mapped code. */
  fileBacked: number;
  /** Anonymous memory outside V8's heaps: Temporal core (Rust), glibc's arenas, Node's own. */
  nativeRest: number;
}

interface RssPoint {
  /** MiB, as it sits. */
  rss: number;
  /** MiB, a few seconds after a full GC of every isolate. */
  afterGc: number;
  breakdown: RssBreakdown | null;
}

/** Each isolate's last line in the heap report (bench/support/gc-on-signal.cjs). */
function heapReport(file: string): Map<string, Record<string, number>> {
  const byThread = new Map<string, Record<string, number>>();
  let text = '';
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return byThread;
  }
  for (const line of text.split('\n').filter(Boolean)) {
    const { thread, ...sizes } = JSON.parse(line) as { thread: string } & Record<string, number>;
    byThread.set(thread, sizes);
  }
  return byThread;
}

/** Resident anonymous and file-backed memory, KiB, from /proc/<pid>/smaps_rollup. */
function residentKinds(pid: number): { rss: number; anonymous: number } {
  const text = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
  const field = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? NaN);
  return { rss: field('Rss'), anonymous: field('Anonymous') };
}

function breakdownOf(pid: number, report: string): RssBreakdown | null {
  const heaps = heapReport(report);
  const main = heaps.get('main');
  if (!main) return null;
  const others = [...heaps].filter(([thread]) => thread !== 'main').map(([, sizes]) => sizes);
  const all = [main, ...others];
  const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);
  const kib = (bytes: number) => bytes / 1024;
  const { rss, anonymous } = residentKinds(pid);
  const mainHeap = kib(main.totalHeap);
  const otherHeaps = kib(sum(others.map((o) => o.totalHeap)));
  const mallocedAndExternal = kib(sum(all.map((o) => o.malloced + o.external)));
  return {
    rss: mib(rss),
    mainHeap: mib(mainHeap),
    otherHeaps: mib(otherHeaps),
    mallocedAndExternal: mib(mallocedAndExternal),
    fileBacked: mib(rss - anonymous),
    nativeRest: mib(anonymous - mainHeap - otherHeaps - mallocedAndExternal),
  };
}

async function measure(pid: number, settleMs: number, heapReportFile: string): Promise<RssPoint> {
  await sleep(settleMs);
  const rss = await medianRss(pid);
  // Twice: what the first GC frees in one isolate may let the next free more; then V8 gives pages back.
  for (let i = 0; i < 2; i++) {
    process.kill(pid, 'SIGWINCH');
    await sleep(2000);
  }
  await sleep(3000);
  const afterGc = mib(await medianRss(pid));
  // Once more, for the isolates' own account of their heaps, read next to the process's at that moment.
  rmSync(heapReportFile, { force: true });
  process.kill(pid, 'SIGWINCH');
  await sleep(500);
  return { rss: mib(rss), afterGc, breakdown: breakdownOf(pid, heapReportFile) };
}

interface MeasuredWorker {
  child: ChildProcess;
  /** What launch.mjs ran: compiled dist/ or the sources through tsx. */
  runs: string;
  output(): string;
  stop(): Promise<void>;
}

/** `scripts/launch.mjs worker` with `env`, resolved once it polls its task queue. */
async function startMeasuredWorker(
  env: Record<string, string>,
  heapReportFile: string,
  timeoutMs = 120_000,
): Promise<MeasuredWorker> {
  const child = spawn(process.execPath, [join(ROOT, 'scripts', 'launch.mjs'), 'worker'], {
    // Not the repository: a developer's .env there must not configure the measured worker.
    cwd: tmpdir(),
    env: {
      PATH: process.env.PATH ?? '',
      LOG_LEVEL: 'info',
      NODE_OPTIONS: `--expose-gc --require ${GC_PRELOAD}`,
      BENCH_HEAP_REPORT: heapReportFile,
      // glibc's arena count, to tell arenas from what is allocated in them (bench/README.md).
      ...(process.env.MALLOC_ARENA_MAX ? { MALLOC_ARENA_MAX: process.env.MALLOC_ARENA_MAX } : {}),
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let text = '';
  const keep = (chunk: Buffer) => (text = (text + chunk.toString()).slice(-20_000));
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const started = Date.now();
  while (!text.includes('"msg":"worker started"')) {
    if (child.exitCode !== null) throw new Error(`the worker exited ${child.exitCode} before it started:\n${text}`);
    if (Date.now() - started > timeoutMs) {
      child.kill('SIGKILL');
      throw new Error(`the worker did not start in ${timeoutMs} ms:\n${text}`);
    }
    await sleep(100);
  }
  return {
    child,
    runs: /invoice-gate: running (.*)/.exec(text)?.[1] ?? 'unknown code',
    output: () => text,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}

interface HeldProgress {
  held: number;
  alerted: number;
}

async function heldProgress(h: GateHarness): Promise<HeldProgress> {
  const { rows } = await h.ledger.query<{ held: string; alerted: string }>(
    `select count(*) filter (where outcome = 'held') as held,
            count(*) filter (where outcome = 'held' and slack_ts is not null) as alerted
       from invoice_gate.gate_runs`,
  );
  return { held: Number(rows[0].held), alerted: Number(rows[0].alerted) };
}

/**
 * Until every gate is held with its alert posted and the worker has stopped asking Stripe for
 * anything for 5 s (the pause and the divergence's explanation come after the hold).
 */
async function waitUntilAllHeld(h: GateHarness, size: number, timeoutMs: number, worker: MeasuredWorker) {
  const deadline = Date.now() + timeoutMs;
  let progress: HeldProgress = { held: 0, alerted: 0 };
  let lastReport = Date.now();
  while (Date.now() < deadline) {
    if (worker.child.exitCode !== null) throw new Error(`the worker exited:\n${worker.output()}`);
    progress = await heldProgress(h);
    if (progress.alerted >= size) break;
    if (Date.now() - lastReport >= 10_000) {
      lastReport = Date.now();
      step({ ...progress, of: size }, 'waiting for held gates');
    }
    await sleep(500);
  }
  if (progress.alerted < size) {
    throw new Error(
      `${progress.alerted} of ${size} gates held and alerted after ${timeoutMs} ms; the worker said:\n${worker.output().slice(-4000)}`,
    );
  }
  let requests = -1;
  for (;;) {
    const now = (await h.stripeEmulator.admin.requests()).length;
    if (now === requests) return;
    if (Date.now() > deadline) throw new Error(`the worker was still calling Stripe after ${timeoutMs} ms`);
    requests = now;
    await sleep(5000);
  }
}

/** Gate start -> its last audit write (held, alerted), per held gate, ms. */
async function heldLatencies(h: GateHarness): Promise<number[]> {
  const { rows } = await h.ledger.query<{ ms: string }>(
    `select extract(epoch from (updated_at - started_at)) * 1000 as ms
       from invoice_gate.gate_runs where outcome = 'held'`,
  );
  return rows.map((r) => Math.max(0, Number(r.ms)));
}

export interface HeldGatesMeasurement {
  /** TEMPORAL_MAX_CACHED_WORKFLOWS as given to the worker, or `default`. */
  cache: string;
  gates: number;
  runs: string;
  before: RssPoint;
  held: RssPoint;
  /** Clock advance -> every gate held and the worker quiet, ms. */
  totalMs: number;
  latenciesMs: number[];
}

async function runScenario(
  cache: string,
  size: number,
  settleMs: number,
  timeoutMs: number,
): Promise<HeldGatesMeasurement> {
  const h = await startGateHarness({ worker: false });
  const heapReportFile = join(tmpdir(), `held-gates-heap-${process.pid}-${cache}.jsonl`);
  let worker: MeasuredWorker | undefined;
  try {
    await h.stripeEmulator.admin.setWebhookSettings({ maxAttempts: 10, retryBaseMs: 500 });
    worker = await startMeasuredWorker(
      {
        ...h.workerEnv(),
        // The emulator has no rate limit; the gate's default cap for a test key (20 req/s) would only
        // stretch the run to minutes without changing what a held gate keeps in memory.
        STRIPE_MAX_REQUESTS_PER_SECOND: '1000',
        ...(cache === 'default' ? {} : { TEMPORAL_MAX_CACHED_WORKFLOWS: cache }),
      },
      heapReportFile,
    );
    step({ cache, pid: worker.child.pid, runs: worker.runs }, 'worker started');
    const before = await measure(worker.child.pid!, settleMs, heapReportFile);
    step({ cache, before }, 'before any gate');
    const members = await seedCohort(h, { size, divergingEvery: 1 });
    const t0 = Date.now();
    const invoices = await closeCohort(h, members);
    step({ cache, customers: members.length, invoices: invoices.size }, 'cohort seeded and closed');
    await waitUntilAllHeld(h, size, timeoutMs, worker);
    const totalMs = Date.now() - t0;
    step({ cache, seconds: totalMs / 1000 }, 'every gate held');
    const held = await measure(worker.child.pid!, settleMs, heapReportFile);
    step({ cache, held }, 'with the gates held');
    return { cache, gates: size, runs: worker.runs, before, held, totalMs, latenciesMs: await heldLatencies(h) };
  } finally {
    await worker?.stop();
    await h.stop();
    rmSync(heapReportFile, { force: true });
  }
}

function envInt(name: string, fallback: number): number {
  const raw = process.env[name];
  const n = raw === undefined || raw === '' ? fallback : Number(raw);
  if (!Number.isInteger(n) || n < 0) throw new Error(`${name} must be a whole number, got ${raw}`);
  return n;
}

function describeBreakdown(before: RssBreakdown, held: RssBreakdown): string {
  const parts: Array<[keyof RssBreakdown, string]> = [
    ['rss', 'RSS'],
    ['mainHeap', 'main isolate heap'],
    ['otherHeaps', 'other isolates (workflow thread)'],
    ['mallocedAndExternal', 'V8 malloc + external'],
    ['fileBacked', 'file-backed'],
    ['nativeRest', 'native rest (Temporal core, glibc, Node)'],
  ];
  return parts.map(([key, label]) => `${label} ${before[key]} -> ${held[key]}`).join(', ');
}

export function describeMeasurement(m: HeldGatesMeasurement): string {
  const perGate = (a: number, b: number) => ((b - a) / m.gates).toFixed(3);
  return [
    `worker RSS MiB: before ${m.before.rss} (after GC ${m.before.afterGc}), ${m.gates} held ${m.held.rss} (after GC ${m.held.afterGc})`,
    `${perGate(m.before.afterGc, m.held.afterGc)} MiB per held gate after GC (${perGate(m.before.rss, m.held.rss)} as it sat)`,
    ...(m.before.breakdown && m.held.breakdown
      ? [`after GC, before -> held, MiB: ${describeBreakdown(m.before.breakdown, m.held.breakdown)}`]
      : []),
    `maxCachedWorkflows ${m.cache}`,
    `worker ran ${m.runs}`,
    'seconds = clock advance -> all held, alerted and quiet; latency = gate start -> its last audit write',
  ].join('; ');
}

export async function runHeldGatesBench(): Promise<BenchResult[]> {
  const size = envInt('BENCH_HELD_GATES', 1000);
  const settleMs = envInt('BENCH_HELD_SETTLE_S', 15) * 1000;
  const timeoutMs = envInt('BENCH_HELD_TIMEOUT_S', 900) * 1000;
  if (size < 1) throw new Error('BENCH_HELD_GATES must be at least 1');
  const caches = (process.env.BENCH_HELD_CACHE ?? 'default,250')
    .split(',')
    .map((c) => c.trim())
    .filter(Boolean);
  const bad = caches.filter((c) => c !== 'default' && !/^\d+$/.test(c));
  if (bad.length > 0) throw new Error(`BENCH_HELD_CACHE: ${bad.join(', ')} is neither "default" nor a whole number`);

  const results: BenchResult[] = [];
  for (const cache of caches) {
    const m = await runScenario(cache, size, settleMs, timeoutMs);
    results.push(
      toBenchResult(
        `worker with ${m.gates} held gates, maxCachedWorkflows ${m.cache}`,
        m.latenciesMs,
        m.totalMs,
        describeMeasurement(m),
      ),
    );
  }
  return results;
}

if (require.main === module) {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { cpus, loadavg } = require('node:os') as typeof import('node:os');
  const load = () =>
    loadavg()
      .map((n) => n.toFixed(2))
      .join(' ');
  console.log(
    `machine: ${cpus().length} x ${cpus()[0]?.model.trim()}, node ${process.version}, load at start ${load()}`,
  );
  runHeldGatesBench().then(
    (results) => {
      for (const r of results) console.log(`${r.name}: ${r.seconds.toFixed(1)} s; ${r.notes}`);
      console.log(`load at end ${load()}`);
      process.exit(0);
    },
    (error: unknown) => {
      console.error(error);
      process.exit(1);
    },
  );
}
