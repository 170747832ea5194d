// Task queues and long-poll matching. A queued task is only a promise to build a poll response:
// the owning execution decides at dispatch time whether the task is still wanted, so tasks never
// need to be dug out of queues when a workflow moves on (stale ones are dropped here).
import type { CancelSignal } from './cancel-signal';

export interface PollContext {
  identity: string;
  /** The raw poll request (task queue kind, worker version, ...). */
  request: unknown;
}

export interface QueuedTask {
  /** Returns the poll response, or null when the task is stale and should be dropped. */
  dispatch(ctx: PollContext): unknown | null;
  /** The engine's bookkeeping for "is anything in flight" (time skipping). */
  readonly kind: 'workflow' | 'activity' | 'query';
}

interface Poller {
  ctx: PollContext;
  resolve: (response: unknown | null) => void;
}

class TaskQueue {
  tasks: QueuedTask[] = [];
  pollers: Poller[] = [];
  lastPollAt = 0;
}

export type QueueKind = 'workflow' | 'activity';

export function queueKey(namespace: string, kind: QueueKind, name: string): string {
  return `${namespace}\u0000${kind}\u0000${name}`;
}

export class Matching {
  private readonly queues = new Map<string, TaskQueue>();
  private closed = false;

  private queue(key: string): TaskQueue {
    let q = this.queues.get(key);
    if (!q) {
      q = new TaskQueue();
      this.queues.set(key, q);
    }
    return q;
  }

  /** Hands the task to a waiting poller, or queues it for the next poll. */
  add(key: string, task: QueuedTask): void {
    const q = this.queue(key);
    while (q.pollers.length > 0) {
      const poller = q.pollers.shift()!;
      const response = this.tryDispatch(task, poller.ctx);
      if (response === null) return; // stale: nobody needs it, keep the poller waiting
      poller.resolve(response);
      return;
    }
    q.tasks.push(task);
  }

  /**
   * Long poll: resolves with a task's poll response, or null after waitMs, on abort, or when the
   * engine stops (an empty response tells the SDK to poll again).
   */
  poll(key: string, ctx: PollContext, waitMs: number, signal: CancelSignal): Promise<unknown | null> {
    const q = this.queue(key);
    q.lastPollAt = Date.now();
    while (q.tasks.length > 0) {
      const task = q.tasks.shift()!;
      const response = this.tryDispatch(task, ctx);
      if (response !== null) return Promise.resolve(response);
    }
    if (this.closed || signal.aborted) return Promise.resolve(null);
    return new Promise((resolve) => {
      const done = (response: unknown | null) => {
        clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
        q.lastPollAt = Date.now();
        resolve(response);
      };
      const poller: Poller = { ctx, resolve: done };
      const remove = () => {
        const i = q.pollers.indexOf(poller);
        if (i >= 0) q.pollers.splice(i, 1);
      };
      const onAbort = () => {
        remove();
        done(null);
      };
      const timer = setTimeout(onAbort, waitMs);
      signal.addEventListener('abort', onAbort);
      q.pollers.push(poller);
    });
  }

  /** Moves queued tasks (e.g. from a sticky queue whose worker went away) to another queue. */
  moveAll(fromKey: string, toKey: string): void {
    const from = this.queues.get(fromKey);
    if (!from) return;
    const tasks = from.tasks.splice(0);
    for (const t of tasks) this.add(toKey, t);
  }

  /** Ends the open polls on one queue with empty responses (ShutdownWorker). */
  releasePollers(key: string): void {
    const q = this.queues.get(key);
    if (!q) return;
    for (const p of q.pollers.splice(0)) p.resolve(null);
  }

  /** A worker is (or very recently was) polling this queue. */
  hasLivePoller(key: string, withinMs = 5_000): boolean {
    const q = this.queues.get(key);
    if (!q) return false;
    return q.pollers.length > 0 || Date.now() - q.lastPollAt < withinMs;
  }

  /** Long polls parked here waiting for a task, across all queues. */
  openPolls(): number {
    let n = 0;
    for (const q of this.queues.values()) n += q.pollers.length;
    return n;
  }

  backlog(key: string): number {
    return this.queues.get(key)?.tasks.length ?? 0;
  }

  close(): void {
    this.closed = true;
    for (const q of this.queues.values()) {
      for (const p of q.pollers.splice(0)) p.resolve(null);
    }
  }

  private tryDispatch(task: QueuedTask, ctx: PollContext): unknown | null {
    try {
      return task.dispatch(ctx);
    } catch (err) {
      process.emitWarning(`temporal emulator: dispatching a task failed: ${(err as Error).stack ?? err}`);
      return null;
    }
  }
}
