// `npm run bench [-- --only <suite>]`: runs the registered benchmark suites, prints a table and writes
// bench/results/<suite>-<ISO time>.json plus bench/results/latest.json (the newest run of every suite).
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { BenchResult } from './bench-result';

export interface BenchSuite {
  /** Names the results file and answers --only. */
  name: string;
  run(): Promise<BenchResult[]>;
}

/** A suite whose module has not been written yet: listed, reported as not available, never faked. */
export class SuiteUnavailableError extends Error {}

/**
 * Loads `export <exportName>` from bench/<file>.ts when that file exists. Only a missing file is
 * tolerated; a file that exists but fails to load or run fails the suite.
 */
function suiteFromModule(name: string, file: string, exportName: string): BenchSuite {
  return {
    name,
    async run() {
      const path = join(__dirname, `${file}.ts`);
      if (!existsSync(path)) throw new SuiteUnavailableError(`bench/${file}.ts is not there yet`);
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const mod = require(path) as Record<string, unknown>;
      const run = mod[exportName];
      if (typeof run !== 'function') throw new Error(`bench/${file}.ts does not export a function ${exportName}`);
      const out = (await run()) as unknown;
      return Array.isArray(out) ? out : [out];
    },
  };
}

/** Every suite `npm run bench` runs, in order. Add new suites here; load them lazily, so --only and
 * --list do not pay for the others. */
export const SUITES: readonly BenchSuite[] = [
  suiteFromModule('temporal-engine', 'temporal-engine', 'runTemporalEngineBench'),
  { name: 'month-end', run: async () => (await import('./month-end')).runMonthEndBench() },
  { name: 'ledger', run: async () => (await import('./ledger')).runLedgerBench() },
  { name: 'ingress', run: async () => (await import('./ingress')).runIngressBench() },
  { name: 'held-gates', run: async () => (await import('./held-gates-memory')).runHeldGatesBench() },
];

export const DEFAULT_RESULTS_DIR = join(__dirname, 'results');

export interface MachineInfo {
  platform: string;
  arch: string;
  cpus: { count: number; model: string };
  nodeVersion: string;
  /** 1, 5 and 15 minute load averages when the suite started. */
  loadAverage: number[];
  totalMemoryMb: number;
}

export function machineInfo(): MachineInfo {
  const list = cpus();
  return {
    platform: process.platform,
    arch: process.arch,
    cpus: { count: list.length, model: list[0]?.model.trim() ?? 'unknown' },
    nodeVersion: process.version,
    loadAverage: loadavg().map((n) => Math.round(n * 100) / 100),
    totalMemoryMb: Math.round(totalmem() / 2 ** 20),
  };
}

export interface SuiteReport {
  suite: string;
  /** The results file, relative to the results directory. */
  file: string;
  startedAt: string;
  finishedAt: string;
  machine: MachineInfo;
  results: BenchResult[];
}

export interface LatestFile {
  updatedAt: string;
  machine: MachineInfo;
  suites: Record<string, SuiteReport>;
}

export interface RunSummary {
  reports: SuiteReport[];
  unavailable: Array<{ suite: string; reason: string }>;
  failed: Array<{ suite: string; error: string }>;
}

function assertBenchResult(value: unknown, suite: string): asserts value is BenchResult {
  const r = value as Partial<BenchResult> | null;
  const finite = (n: unknown) => typeof n === 'number' && Number.isFinite(n) && n >= 0;
  const ok =
    typeof r === 'object' &&
    r !== null &&
    typeof r.name === 'string' &&
    r.name.length > 0 &&
    finite(r.ops) &&
    finite(r.seconds) &&
    finite(r.perSecond) &&
    finite(r.p50Ms) &&
    finite(r.p99Ms) &&
    (r.notes === undefined || typeof r.notes === 'string');
  if (!ok) throw new Error(`suite ${suite} returned something that is not a BenchResult: ${JSON.stringify(value)}`);
}

/** `2026-11-23T19-42-07Z`: ISO 8601 with the colons made safe for file names. */
export function fileStamp(date: Date): string {
  return date
    .toISOString()
    .replace(/\.\d{3}Z$/, 'Z')
    .replace(/:/g, '-');
}

function readLatest(path: string): LatestFile | undefined {
  try {
    const parsed = JSON.parse(readFileSync(path, 'utf8')) as LatestFile;
    return parsed && typeof parsed.suites === 'object' ? parsed : undefined;
  } catch {
    return undefined;
  }
}

const COLUMNS = ['suite', 'benchmark', 'ops', 'seconds', 'per second', 'p50 ms', 'p99 ms'] as const;

function fixed(n: number, digits: number): string {
  return n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

/** The results as an aligned text table, one row per benchmark. */
export function formatTable(reports: readonly SuiteReport[]): string {
  const rows = reports.flatMap((report) =>
    report.results.map((r) => [
      report.suite,
      r.name,
      fixed(r.ops, 0),
      fixed(r.seconds, 2),
      fixed(r.perSecond, r.perSecond >= 100 ? 0 : 1),
      fixed(r.p50Ms, 2),
      fixed(r.p99Ms, 2),
    ]),
  );
  const all = [[...COLUMNS], ...rows];
  const widths = COLUMNS.map((_, i) => Math.max(...all.map((row) => row[i].length)));
  // Text columns align left, numbers right.
  const line = (row: string[]) =>
    row
      .map((cell, i) => (i < 2 ? cell.padEnd(widths[i]) : cell.padStart(widths[i])))
      .join('  ')
      .trimEnd();
  return [line(all[0]), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

export interface RunOptions {
  suites: readonly BenchSuite[];
  /** Suite names to run; all when empty or unset. Unknown names are an error. */
  only?: readonly string[];
  outDir?: string;
  log?: (line: string) => void;
}

export async function runBenchmarks(options: RunOptions): Promise<RunSummary> {
  const outDir = options.outDir ?? DEFAULT_RESULTS_DIR;
  const log = options.log ?? ((line: string) => console.log(line));
  const only = options.only ?? [];
  const unknown = only.filter((name) => !options.suites.some((s) => s.name === name));
  if (unknown.length > 0) {
    throw new Error(`unknown suite ${unknown.join(', ')}; known: ${options.suites.map((s) => s.name).join(', ')}`);
  }
  const selected = only.length > 0 ? options.suites.filter((s) => only.includes(s.name)) : options.suites;

  const summary: RunSummary = { reports: [], unavailable: [], failed: [] };
  for (const suite of selected) {
    log(`running ${suite.name} ...`);
    const machine = machineInfo();
    const started = new Date();
    try {
      const results = await suite.run();
      if (results.length === 0) throw new Error(`suite ${suite.name} returned no results`);
      for (const r of results) assertBenchResult(r, suite.name);
      const finished = new Date();
      const file = `${suite.name}-${fileStamp(started)}.json`;
      const report: SuiteReport = {
        suite: suite.name,
        file,
        startedAt: started.toISOString(),
        finishedAt: finished.toISOString(),
        machine,
        results,
      };
      mkdirSync(outDir, { recursive: true });
      writeFileSync(join(outDir, file), `${JSON.stringify(report, null, 2)}\n`);
      summary.reports.push(report);
    } catch (error) {
      if (error instanceof SuiteUnavailableError) {
        log(`${suite.name}: not available (${error.message})`);
        summary.unavailable.push({ suite: suite.name, reason: error.message });
      } else {
        const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
        log(`${suite.name}: FAILED\n${message}`);
        summary.failed.push({ suite: suite.name, error: message });
      }
    }
  }

  if (summary.reports.length > 0) {
    const latestPath = join(outDir, 'latest.json');
    const latest: LatestFile = {
      updatedAt: new Date().toISOString(),
      machine: machineInfo(),
      suites: { ...readLatest(latestPath)?.suites },
    };
    for (const report of summary.reports) latest.suites[report.suite] = report;
    writeFileSync(latestPath, `${JSON.stringify(latest, null, 2)}\n`);
    log('');
    log(formatTable(summary.reports));
    const notes = summary.reports.flatMap((r) =>
      r.results.filter((x) => x.notes).map((x) => `  ${r.suite} / ${x.name}: ${x.notes}`),
    );
    if (notes.length > 0) log(['', 'notes:', ...notes].join('\n'));
    log('');
    log(`results: ${summary.reports.map((r) => join(outDir, r.file)).join(', ')} and ${latestPath}`);
  }
  return summary;
}

function parseCli(argv: string[]): { only: string[]; outDir: string | undefined; list: boolean } {
  const { values } = parseArgs({
    args: argv,
    options: {
      only: { type: 'string', multiple: true },
      out: { type: 'string' },
      list: { type: 'boolean', default: false },
    },
  });
  return {
    // --only a --only b, or --only a,b
    only: (values.only ?? [])
      .flatMap((v) => v.split(','))
      .map((v) => v.trim())
      .filter(Boolean),
    outDir: values.out,
    list: values.list,
  };
}

async function main(): Promise<number> {
  let cli: ReturnType<typeof parseCli>;
  try {
    cli = parseCli(process.argv.slice(2));
  } catch (error) {
    console.error(
      `bench: ${(error as Error).message}\nUsage: npm run bench -- [--only <suite>[,<suite>]] [--out <dir>] [--list]`,
    );
    return 2;
  }
  if (cli.list) {
    for (const suite of SUITES) console.log(suite.name);
    return 0;
  }
  let summary: RunSummary;
  try {
    summary = await runBenchmarks({ suites: SUITES, only: cli.only, outDir: cli.outDir });
  } catch (error) {
    console.error(`bench: ${(error as Error).message}`);
    return 2;
  }
  if (summary.reports.length === 0 && summary.failed.length === 0) console.log('bench: no suite produced results');
  return summary.failed.length > 0 ? 1 : 0;
}

if (require.main === module) {
  main().then(
    (code) => process.exit(code),
    (error: unknown) => {
      console.error(error);
      process.exit(1);
    },
  );
}
