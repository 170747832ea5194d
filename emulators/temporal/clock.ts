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
  // A binary min-heap by (at, seq): a month end has thousands of open timers and activity timeouts,
  // and a sorted array made every schedule and cancel a scan of all of them. Cancelled timers stay
  // until they reach the top (or a compaction), so cancel is O(1).
  private heap: ClockTimer[] = [];
  private cancelledInHeap = 0;
  private realTimeout: NodeJS.Timeout | undefined;
  private stopped = false;

  now(): number {
    return Date.now() + this.offsetMs;
  }

  /** Runs fire() once the server clock reaches `at` (real time passing or a skip). */
  at(at: number, fire: () => void): ClockTimer {
    const timer: ClockTimer = { at, seq: this.seq++, fire, cancelled: false };
    this.heap.push(timer);
    this.siftUp(this.heap.length - 1);
    if (this.peek() === timer) this.arm();
    return timer;
  }

  after(ms: number, fire: () => void): ClockTimer {
    return this.at(this.now() + Math.max(0, ms), fire);
  }

  cancel(timer: ClockTimer | undefined | null): void {
    if (!timer || timer.cancelled) return;
    timer.cancelled = true;
    this.cancelledInHeap += 1;
    if (this.cancelledInHeap > 1024 && this.cancelledInHeap * 2 > this.heap.length) this.compact();
  }

  /** Open (not cancelled, not fired) timers. */
  get pendingTimers(): number {
    return this.heap.length - this.cancelledInHeap;
  }

  /** The earliest pending deadline, if any. */
  nextDeadline(): number | undefined {
    return this.peek()?.at;
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
    const next = this.peek();
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
    this.heap = [];
    this.cancelledInHeap = 0;
  }

  private fireDue(): void {
    const now = this.now();
    for (let t = this.peek(); t && t.at <= now; t = this.peek()) {
      this.popTop();
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
    const next = this.peek();
    if (!next) return;
    // setTimeout caps at ~24.8 days; re-arming on wake handles longer waits.
    const delay = Math.min(Math.max(0, next.at - this.now()), 2_000_000_000);
    this.realTimeout = setTimeout(() => this.fireDue(), delay);
    this.realTimeout.unref();
  }

  /** The earliest open timer, dropping cancelled ones from the top. */
  private peek(): ClockTimer | undefined {
    while (this.heap.length > 0 && this.heap[0].cancelled) {
      this.popTop();
      this.cancelledInHeap -= 1;
    }
    return this.heap[0];
  }

  private popTop(): ClockTimer | undefined {
    const top = this.heap[0];
    const last = this.heap.pop();
    if (this.heap.length > 0 && last) {
      this.heap[0] = last;
      this.siftDown(0);
    }
    return top;
  }

  private compact(): void {
    this.heap = this.heap.filter((t) => !t.cancelled);
    this.cancelledInHeap = 0;
    for (let i = (this.heap.length >> 1) - 1; i >= 0; i--) this.siftDown(i);
  }

  private static earlier(a: ClockTimer, b: ClockTimer): boolean {
    return a.at < b.at || (a.at === b.at && a.seq < b.seq);
  }

  private siftUp(i: number): void {
    const heap = this.heap;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!VirtualClock.earlier(heap[i], heap[parent])) return;
      [heap[i], heap[parent]] = [heap[parent], heap[i]];
      i = parent;
    }
  }

  private siftDown(i: number): void {
    const heap = this.heap;
    for (;;) {
      const left = 2 * i + 1;
      const right = left + 1;
      let first = i;
      if (left < heap.length && VirtualClock.earlier(heap[left], heap[first])) first = left;
      if (right < heap.length && VirtualClock.earlier(heap[right], heap[first])) first = right;
      if (first === i) return;
      [heap[i], heap[first]] = [heap[first], heap[i]];
      i = first;
    }
  }
}
