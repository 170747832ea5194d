// At most `limit` calls run at once; the rest wait and run in the order they arrived. A finishing call
// hands its slot straight to the oldest waiter, so a newcomer can never overtake the queue.

/** A call waited longer than its caller allowed for a slot; it never ran. */
export class SlotWaitTimeoutError extends Error {
  constructor(readonly waitedMs: number) {
    super(`no free slot within ${waitedMs} ms`);
    this.name = 'SlotWaitTimeoutError';
  }
}

export class FifoLimiter {
  private running = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(readonly limit: number) {
    if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`limit must be a positive integer, got ${limit}`);
  }

  /** Calls now running. */
  get active(): number {
    return this.running;
  }

  /** Calls waiting for a slot. */
  get queued(): number {
    return this.waiting.length;
  }

  /**
   * Runs `call` once a slot is free; its result or error is the caller's. With `maxWaitMs`, a call that
   * found no slot in that time is dropped from the queue and rejected with SlotWaitTimeoutError.
   */
  async run<T>(call: () => Promise<T>, options: { maxWaitMs?: number } = {}): Promise<T> {
    if (this.running < this.limit) this.running += 1;
    else await this.slot(options.maxWaitMs);
    try {
      return await call();
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.running -= 1;
    }
  }

  private slot(maxWaitMs: number | undefined): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      if (maxWaitMs === undefined) return void this.waiting.push(resolve);
      const granted = () => {
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(() => {
        const at = this.waiting.indexOf(granted);
        if (at < 0) return; // granted in the meantime (granted() clears this timer; never both)
        this.waiting.splice(at, 1);
        reject(new SlotWaitTimeoutError(maxWaitMs));
      }, maxWaitMs);
      this.waiting.push(granted);
    });
  }
}
