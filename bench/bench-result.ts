// What every benchmark reports, and the small helpers that produce it. `npm run bench` (bench/run.ts)
// prints these as a table and writes them to bench/results/.

export interface BenchResult {
  /** What was measured, e.g. "start+complete workflow". */
  name: string;
  /** Operations completed. */
  ops: number;
  /** Wall-clock seconds for all of them. */
  seconds: number;
  /** ops / seconds. */
  perSecond: number;
  /** Median latency of one operation, milliseconds. */
  p50Ms: number;
  /** 99th-percentile latency of one operation, milliseconds. */
  p99Ms: number;
  /** Anything needed to read the numbers: concurrency, payload size, what an "op" is. */
  notes?: string;
}

/**
 * The p-th percentile (0..100) of latencies in ms, nearest-rank method: the smallest sample with at
 * least p% of the samples at or below it. p=50 of [1,2,3,4] is 2; p=100 is the maximum.
 */
export function percentile(samplesMs: readonly number[], p: number): number {
  if (samplesMs.length === 0) throw new RangeError('percentile of no samples');
  if (!(p >= 0 && p <= 100)) throw new RangeError(`percentile must be within 0..100, got ${p}`);
  const sorted = [...samplesMs].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1];
}

/** Starts a monotonic timer; the returned function gives the milliseconds elapsed since. */
export function startTimer(): () => number {
  const start = process.hrtime.bigint();
  return () => Number(process.hrtime.bigint() - start) / 1e6;
}

/** Times one call of `fn`, in ms. */
export async function timeMs(fn: () => Promise<unknown>): Promise<number> {
  const elapsed = startTimer();
  await fn();
  return elapsed();
}

/**
 * A BenchResult from per-operation latencies and the wall-clock time of the whole run (which is
 * shorter than their sum when operations overlap).
 */
export function toBenchResult(
  name: string,
  latenciesMs: readonly number[],
  totalMs: number,
  notes?: string,
): BenchResult {
  if (!(totalMs > 0)) throw new RangeError(`total time must be positive, got ${totalMs}`);
  const seconds = totalMs / 1000;
  return {
    name,
    ops: latenciesMs.length,
    seconds,
    perSecond: latenciesMs.length / seconds,
    p50Ms: percentile(latenciesMs, 50),
    p99Ms: percentile(latenciesMs, 99),
    ...(notes !== undefined && { notes }),
  };
}
