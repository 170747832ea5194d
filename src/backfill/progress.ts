// Progress of a backfill run on the terminal: on a TTY one line redrawn in place (a bar, counts, rate
// and ETA); otherwise (CI, a pipe, a log file) a plain line at most every `everyMs`, and one at the end.

export interface ProgressStream {
  write(text: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

export interface ProgressCounts {
  /** Invoices recorded so far (by this and earlier runs with the same arguments). */
  done: number;
  /** Invoices in the window; null until Stripe's listing was counted. */
  total: number | null;
}

export interface ProgressReporter {
  update(counts: ProgressCounts): void;
  /** Draws the final state and ends the line. */
  finish(counts: ProgressCounts): void;
}

export interface ProgressOptions {
  stream: ProgressStream;
  /** Milliseconds clock; injectable for tests. */
  now?: () => number;
  /** Non-TTY: at most one line this often (default 5 s). */
  everyMs?: number;
  barWidth?: number;
}

export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const rest = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${rest}` : `${m}:${rest}`;
}

export function createProgressReporter(options: ProgressOptions): ProgressReporter {
  const { stream } = options;
  const now = options.now ?? Date.now;
  const everyMs = options.everyMs ?? 5_000;
  const barWidth = options.barWidth ?? 30;
  const startedAt = now();
  let firstDone: number | null = null;
  let lastLineAt = -Infinity;
  let lastText = '';

  // Rate over this process's work only: invoices recorded by an earlier run came for free.
  const describe = ({ done, total }: ProgressCounts) => {
    firstDone ??= done;
    const elapsed = (now() - startedAt) / 1000;
    const rate = elapsed > 0 ? (done - firstDone) / elapsed : 0;
    const count = total === null ? `${done} invoices (counting…)` : `${done}/${total} invoices`;
    const pct = total ? Math.min(100, Math.floor((done / total) * 100)) : total === 0 ? 100 : null;
    const eta = total !== null && rate > 0 ? formatDuration((total - done) / rate) : '?';
    return { count, pct, rate: `${rate.toFixed(1)}/s`, eta };
  };

  const ttyLine = (counts: ProgressCounts) => {
    const d = describe(counts);
    const filled = d.pct === null ? 0 : Math.round((d.pct / 100) * barWidth);
    const bar = `[${'#'.repeat(filled)}${'.'.repeat(barWidth - filled)}]`;
    return `${bar} ${d.pct === null ? '  ?' : String(d.pct).padStart(3)}%  ${d.count}  ${d.rate}  ETA ${d.eta}`;
  };
  const plainLine = (counts: ProgressCounts) => {
    const d = describe(counts);
    return `backfill: ${d.count}${d.pct === null ? '' : ` (${d.pct}%)`}, ${d.rate}, ETA ${d.eta}\n`;
  };

  return {
    update(counts) {
      if (stream.isTTY) {
        const text = ttyLine(counts);
        if (text !== lastText) stream.write(`\r${text}\u001b[K`);
        lastText = text;
        return;
      }
      const at = now();
      if (at - lastLineAt < everyMs) {
        describe(counts);
        return;
      }
      lastLineAt = at;
      stream.write(plainLine(counts));
    },
    finish(counts) {
      if (stream.isTTY) stream.write(`\r${ttyLine(counts)}\u001b[K\n`);
      else stream.write(plainLine(counts));
    },
  };
}
