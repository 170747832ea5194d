// The server clock. Every time the engine writes (event times, timer deadlines, timeouts) comes
// from here, so moving the offset forward is all time skipping needs on the server side: the SDK
// derives workflow time from event timestamps.

export interface ClockTimer {
  readonly at: number;
  readonly seq: number;
  readonly fire: () => void;
  cancelled: boolean;
}

export class VirtualClock {
  private offsetMs = 0;
  private seq = 0;
  // Kept sorted by (at, seq); timer counts are small (one per open timer/timeout).
  private timers: ClockTimer[] = [];
  private realTimeout: NodeJS.Timeout | undefined;
  private stopped = false;

  now(): number {
    return Date.now() + this.offsetMs;
  }

  /** Runs fire() once the server clock reaches `at` (real time passing or a skip). */
  at(at: number, fire: () => void): ClockTimer {
    const timer: ClockTimer = { at, seq: this.seq++, fire, cancelled: false };
    let i = this.timers.length;
    while (i > 0 && this.timers[i - 1].at > at) i--;
    this.timers.splice(i, 0, timer);
    if (i === 0) this.arm();
    return timer;
  }

  after(ms: number, fire: () => void): ClockTimer {
    return this.at(this.now() + Math.max(0, ms), fire);
  }

  cancel(timer: ClockTimer | undefined | null): void {
    if (!timer || timer.cancelled) return;
    timer.cancelled = true;
    const i = this.timers.indexOf(timer);
    if (i >= 0) this.timers.splice(i, 1);
  }

  /** The earliest pending deadline, if any. */
  nextDeadline(): number | undefined {
    return this.timers[0]?.at;
  }

  /**
   * Moves the clock to `target` (never backwards) and fires what is then due, in deadline order.
   * Callers that must let the system react between fires use jumpToNext instead.
   */
  advanceTo(target: number): void {
    if (target > this.now()) this.offsetMs += target - this.now();
    this.fireDue();
  }

  /** Jumps to the next deadline if it is at or before `limit` and fires it; false if none. */
  jumpToNext(limit = Infinity): boolean {
    const next = this.timers[0];
    if (!next || next.at > limit) return false;
    this.advanceTo(next.at);
    return true;
  }

  setTo(ms: number): void {
    if (ms > this.now()) this.offsetMs += ms - this.now();
    this.arm();
  }

  stop(): void {
    this.stopped = true;
    if (this.realTimeout) clearTimeout(this.realTimeout);
    this.timers = [];
  }

  private fireDue(): void {
    const now = this.now();
    while (this.timers.length > 0 && this.timers[0].at <= now) {
      const t = this.timers.shift()!;
      t.cancelled = true;
      try {
        t.fire();
      } catch (err) {
        // A failing callback must not stop the clock for everyone else.
        process.emitWarning(`temporal emulator timer callback failed: ${(err as Error).stack ?? err}`);
      }
    }
    this.arm();
  }

  private arm(): void {
    if (this.stopped) return;
    if (this.realTimeout) clearTimeout(this.realTimeout);
    this.realTimeout = undefined;
    const next = this.timers[0];
    if (!next) return;
    // setTimeout caps at ~24.8 days; re-arming on wake handles longer waits.
    const delay = Math.min(Math.max(0, next.at - this.now()), 2_000_000_000);
    this.realTimeout = setTimeout(() => this.fireDue(), delay);
    this.realTimeout.unref();
  }
}
