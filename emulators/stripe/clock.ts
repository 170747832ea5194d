// The emulated clock: wall clock plus an offset that tests advance. With no advancing it is real time.
export class Clock {
  private offsetMs = 0;

  nowMs(): number {
    return Date.now() + this.offsetMs;
  }

  /** Unix seconds, as Stripe timestamps are. */
  now(): number {
    return Math.floor(this.nowMs() / 1000);
  }

  get offsetSeconds(): number {
    return Math.round(this.offsetMs / 1000);
  }

  /** Moves emulated time forward so that now() >= unixSeconds (never backwards). */
  moveTo(unixSeconds: number): void {
    const target = unixSeconds * 1000;
    const current = this.nowMs();
    if (target > current) this.offsetMs += target - current;
  }

  reset(): void {
    this.offsetMs = 0;
  }
}

const DAY = 86400;

function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month + 1, 0)).getUTCDate();
}

/**
 * The end of the `n`-th period after `anchor` (n >= 1), calendar-aware for months and years
 * (a cycle anchored on the 31st bills on the last day of shorter months, as Stripe does).
 */
export function periodBoundary(anchor: number, interval: string, count: number, n: number): number {
  if (interval === 'day') return anchor + n * count * DAY;
  if (interval === 'week') return anchor + n * count * 7 * DAY;
  const months = (interval === 'year' ? 12 : 1) * count * n;
  const d = new Date(anchor * 1000);
  const total = d.getUTCMonth() + months;
  const year = d.getUTCFullYear() + Math.floor(total / 12);
  const month = ((total % 12) + 12) % 12;
  const day = Math.min(d.getUTCDate(), daysInMonth(year, month));
  return Math.floor(Date.UTC(year, month, day, d.getUTCHours(), d.getUTCMinutes(), d.getUTCSeconds()) / 1000);
}
