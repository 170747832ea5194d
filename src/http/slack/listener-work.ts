// Clicks whose listeners are still working after Slack got its ack: both Slack transports track them so
// that a shutdown waits for a reviewer's decision to reach the gate instead of dropping it.
export class ListenerWork {
  private readonly running = new Set<Promise<unknown>>();

  /** Tracks `work` until it settles; returns it. */
  track<T>(work: Promise<T>): Promise<T> {
    this.running.add(work);
    const untrack = () => void this.running.delete(work);
    work.then(untrack, untrack);
    return work;
  }

  get size(): number {
    return this.running.size;
  }

  /** Resolves once no tracked work is running, or after `timeoutMs`. */
  async drain(timeoutMs: number): Promise<void> {
    if (this.running.size === 0) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.allSettled([...this.running]),
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, timeoutMs);
      }),
    ]);
    clearTimeout(timer);
  }
}
