// Late usage changes a draft in bursts: a draft is compared again at most once per debounce interval.

/** Late usage arrives in bursts: one recheck per minute at most. */
export const RECHECK_DEBOUNCE_MS = 60_000;

export class LateUsage {
  /** When late usage last changed the draft and was not yet compared (epoch ms). */
  private since: number | null = null;
  private lastRecheckAt = 0;

  /** Late usage changed the draft: compare again, at most once per `debounceMs`. */
  seen(now: number): void {
    this.since ??= now;
  }

  /** Milliseconds until a pending late-usage recheck is due (0: now), or null when none is pending. */
  msUntilRecheck(now: number, debounceMs = RECHECK_DEBOUNCE_MS): number | null {
    if (this.since === null) return null;
    return Math.max(0, this.lastRecheckAt + debounceMs - now);
  }

  recheckStarted(now: number): void {
    this.since = null;
    this.lastRecheckAt = now;
  }
}
