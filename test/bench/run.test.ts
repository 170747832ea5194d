// bench/run.ts and bench/bench-result.ts: the runner with small suites of the test's own, writing
// into a temporary directory (never bench/results/).
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { percentile, startTimer, timeMs, toBenchResult, type BenchResult } from '../../bench/bench-result';
import {
  fileStamp,
  formatTable,
  runBenchmarks,
  SUITES,
  type BenchSuite,
  type LatestFile,
  type SuiteReport,
} from '../../bench/run';

const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'bench-run-'));
  dirs.push(dir);
  return dir;
}
after(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** A real, tiny measurement: parse a JSON document `ops` times. */
function jsonParseSuite(name: string, ops: number): BenchSuite {
  return {
    name,
    async run() {
      const doc = JSON.stringify({
        lines: Array.from({ length: 50 }, (_, i) => ({ id: `il_${i}`, quantity: String(i) })),
      });
      const latencies: number[] = [];
      const total = startTimer();
      for (let i = 0; i < ops; i++) latencies.push(await timeMs(async () => JSON.parse(doc)));
      return [toBenchResult('JSON.parse 50 lines', latencies, total(), 'one op = one parse')];
    },
  };
}

describe('percentile', () => {
  it('uses the nearest rank, on an unsorted copy', () => {
    const samples = Array.from({ length: 100 }, (_, i) => 100 - i); // 100..1
    assert.equal(percentile(samples, 50), 50);
    assert.equal(percentile(samples, 99), 99);
    assert.equal(percentile(samples, 100), 100);
    assert.equal(percentile(samples, 0), 1);
    assert.equal(samples[0], 100, 'input left as it was');
    assert.equal(percentile([4, 1, 3, 2], 50), 2);
    assert.equal(percentile([7.5], 99), 7.5);
  });

  it('refuses no samples and p outside 0..100', () => {
    assert.throws(() => percentile([], 50), RangeError);
    assert.throws(() => percentile([1], 101), RangeError);
    assert.throws(() => percentile([1], Number.NaN), RangeError);
  });
});

describe('toBenchResult', () => {
  it('derives ops, seconds, rate and percentiles', () => {
    const latencies = [...Array.from({ length: 98 }, () => 2), 10, 30];
    assert.deepEqual(toBenchResult('x', latencies, 500, 'n'), {
      name: 'x',
      ops: 100,
      seconds: 0.5,
      perSecond: 200,
      p50Ms: 2,
      p99Ms: 10,
      notes: 'n',
    });
    assert.equal('notes' in toBenchResult('x', [1], 1), false);
    assert.throws(() => toBenchResult('x', [1], 0), RangeError);
  });

  it('startTimer measures elapsed wall time', async () => {
    const elapsed = startTimer();
    await new Promise((r) => setTimeout(r, 30));
    const ms = elapsed();
    assert.ok(ms >= 25 && ms < 1000, `elapsed ${ms} ms`);
  });
});

describe('runBenchmarks', () => {
  it('writes <suite>-<time>.json and latest.json with machine info, and prints the table', async () => {
    const outDir = tempDir();
    const lines: string[] = [];
    const summary = await runBenchmarks({ suites: [jsonParseSuite('json', 200)], outDir, log: (l) => lines.push(l) });
    assert.deepEqual(summary.failed, []);
    assert.equal(summary.reports.length, 1);

    const files = readdirSync(outDir).sort();
    assert.equal(files.length, 2);
    assert.equal(files[1], 'latest.json');
    assert.match(files[0], /^json-\d{4}-\d{2}-\d{2}T\d{2}-\d{2}-\d{2}Z\.json$/);

    const report = JSON.parse(readFileSync(join(outDir, files[0]), 'utf8')) as SuiteReport;
    assert.equal(report.suite, 'json');
    assert.equal(report.file, files[0]);
    const [result] = report.results;
    assert.equal(result.name, 'JSON.parse 50 lines');
    assert.equal(result.ops, 200);
    assert.ok(result.seconds > 0 && result.perSecond > 0);
    assert.ok(result.p50Ms > 0 && result.p50Ms <= result.p99Ms);
    assert.equal(report.machine.nodeVersion, process.version);
    assert.ok(report.machine.cpus.count > 0);
    assert.equal(report.machine.loadAverage.length, 3);

    const latest = JSON.parse(readFileSync(join(outDir, 'latest.json'), 'utf8')) as LatestFile;
    assert.deepEqual(latest.suites.json, report);
    assert.equal(latest.machine.nodeVersion, process.version);

    const table = lines.join('\n');
    assert.match(table, /^suite\s+benchmark\s+ops\s+seconds\s+per second\s+p50 ms\s+p99 ms$/m);
    assert.match(table, /^json\s+JSON\.parse 50 lines\s+200\s+\d/m);
    assert.match(table, /^notes:\n {2}json \/ JSON\.parse 50 lines: one op = one parse$/m);
  });

  it('--only runs the named suites, and latest.json keeps the newest run of the others', async () => {
    const outDir = tempDir();
    const suites = [jsonParseSuite('a', 20), jsonParseSuite('b', 20)];
    await runBenchmarks({ suites, outDir, log: () => undefined });
    const before = JSON.parse(readFileSync(join(outDir, 'latest.json'), 'utf8')) as LatestFile;
    await new Promise((r) => setTimeout(r, 1100)); // a new second, so a new file name
    const summary = await runBenchmarks({ suites, only: ['b'], outDir, log: () => undefined });
    assert.deepEqual(
      summary.reports.map((r) => r.suite),
      ['b'],
    );
    const latest = JSON.parse(readFileSync(join(outDir, 'latest.json'), 'utf8')) as LatestFile;
    assert.deepEqual(latest.suites.a, before.suites.a);
    assert.notEqual(latest.suites.b.file, before.suites.b.file);
    assert.equal(readdirSync(outDir).filter((f) => f.startsWith('b-')).length, 2);
    await assert.rejects(runBenchmarks({ suites, only: ['c'], outDir }), /unknown suite c; known: a, b/);
  });

  it('a failing or malformed suite is reported and does not stop the others', async () => {
    const outDir = tempDir();
    const broken: BenchSuite = { name: 'broken', run: () => Promise.reject(new Error('engine exploded')) };
    const malformed: BenchSuite = {
      name: 'malformed',
      run: async () => [{ name: 'x', ops: 1, seconds: 1, perSecond: Number.NaN, p50Ms: 1, p99Ms: 1 } as BenchResult],
    };
    const summary = await runBenchmarks({
      suites: [broken, malformed, jsonParseSuite('ok', 10)],
      outDir,
      log: () => undefined,
    });
    assert.deepEqual(
      summary.failed.map((f) => f.suite),
      ['broken', 'malformed'],
    );
    assert.match(summary.failed[0].error, /engine exploded/);
    assert.match(summary.failed[1].error, /not a BenchResult/);
    assert.deepEqual(
      summary.reports.map((r) => r.suite),
      ['ok'],
    );
    assert.deepEqual(
      Object.keys((JSON.parse(readFileSync(join(outDir, 'latest.json'), 'utf8')) as LatestFile).suites),
      ['ok'],
    );
  });
});

describe('bench helpers and CLI', () => {
  it('formats a table with numbers right-aligned', () => {
    const table = formatTable([
      {
        suite: 's',
        file: 'f',
        startedAt: '',
        finishedAt: '',
        machine: {} as SuiteReport['machine'],
        results: [
          { name: 'fast', ops: 12000, seconds: 1.5, perSecond: 8000, p50Ms: 0.1234, p99Ms: 1.5 },
          { name: 'slow one', ops: 3, seconds: 2, perSecond: 1.5, p50Ms: 600, p99Ms: 700 },
        ],
      },
    ]).split('\n');
    assert.equal(table.length, 4);
    assert.match(table[2], /^s\s+fast\s+12,000\s+1\.50\s+8,000\s+0\.12\s+1\.50$/);
    assert.match(table[3], /^s\s+slow one\s+3\s+2\.00\s+1\.5\s+600\.00\s+700\.00$/);
    assert.equal(table[2].length, table[3].length);
  });

  it('file names carry the ISO time without colons', () => {
    assert.equal(fileStamp(new Date('2026-11-23T19:42:07.123Z')), '2026-11-23T19-42-07Z');
  });

  it('registers the Temporal engine, month-end, ledger, ingress and held-gates suites', () => {
    assert.deepEqual(
      SUITES.map((s) => s.name),
      ['temporal-engine', 'month-end', 'ledger', 'ingress', 'held-gates'],
    );
  });

  it('npm run bench --only <unknown> exits 2 naming the known suites', () => {
    const result = spawnSync(
      process.execPath,
      ['--import', 'tsx', join(__dirname, '../../bench/run.ts'), '--only', 'nope'],
      {
        encoding: 'utf8',
        timeout: 30_000,
      },
    );
    assert.equal(result.status, 2);
    assert.match(result.stderr, /unknown suite nope; known: temporal-engine, month-end/);
  });
});
