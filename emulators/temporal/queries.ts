// Queries. The server does not answer them itself: it hands a "legacy query task" to a worker and
// relays the answer. A worker that caches the run (sticky) gets the query alone; any other worker
// gets the full history to replay first. Closed workflows are queried the same way.
import type { CancelSignal } from './cancel-signal';
import { randomUUID } from 'node:crypto';
import { status } from '@grpc/grpc-js';
import type { Engine } from './engine';
import { RpcError, invalidArgument, notFound } from './errors';
import type { Execution } from './execution';
import { msToTimestamp } from './proto-values';
import { encodeTaskToken } from './task-tokens';

interface PendingQuery {
  resolve: (result: unknown) => void;
  reject: (err: Error) => void;
}

const STICKY_QUERY_FALLBACK_MS = 5_000;

export class Queries {
  private readonly pendingQueries = new Map<string, PendingQuery>();

  constructor(private readonly engine: Engine) {}

  pending(): number {
    return this.pendingQueries.size;
  }

  async query(
    execution: Execution,
    query: { queryType: string; queryArgs: unknown; header: unknown },
    timeoutMs: number,
    signal: CancelSignal,
  ): Promise<unknown> {
    const deadline = Date.now() + timeoutMs;
    // Like the server's consistent queries: a query sees every event the workflow has already
    // been handed, so wait for a running (or queued) workflow task to finish first.
    await this.waitForQuiescence(execution, deadline, signal);
    const id = randomUUID();
    const engine = this.engine;
    return new Promise((resolve, reject) => {
      let dispatched = false;
      let fallback: NodeJS.Timeout | undefined;
      const finish = () => {
        clearTimeout(timer);
        clearTimeout(fallback);
        signal.removeEventListener('abort', onAbort);
        this.pendingQueries.delete(id);
      };
      const timer = setTimeout(
        () => {
          finish();
          reject(
            new RpcError(
              status.DEADLINE_EXCEEDED,
              'query timed out: no worker answered (is a worker running for this task queue?)',
            ),
          );
        },
        Math.max(0, deadline - Date.now()),
      );
      const onAbort = () => {
        finish();
        reject(new RpcError(status.CANCELLED, 'query cancelled'));
      };
      signal.addEventListener('abort', onAbort);
      this.pendingQueries.set(id, {
        resolve: (r) => {
          finish();
          resolve(r);
        },
        reject: (e) => {
          finish();
          reject(e);
        },
      });
      const enqueue = (sticky: boolean) => {
        const queueName = sticky ? execution.sticky!.queueName : execution.taskQueue;
        engine.matching.add(engine.workflowQueueKey(execution, queueName), {
          kind: 'query',
          dispatch: () => {
            if (dispatched || !this.pendingQueries.has(id)) return null;
            dispatched = true;
            clearTimeout(fallback);
            return {
              taskToken: encodeTaskToken({ t: 'query', id }),
              workflowExecution: { workflowId: execution.workflowId, runId: execution.runId },
              workflowType: { name: execution.workflowType },
              previousStartedEventId: execution.previousStartedEventId,
              startedEventId: 0,
              attempt: 1,
              backlogCountHint: 0,
              history: { events: sticky ? [] : execution.history.slice() },
              nextPageToken: null,
              query,
              workflowExecutionTaskQueue: { name: execution.taskQueue, kind: 'TASK_QUEUE_KIND_NORMAL', normalName: '' },
              scheduledTime: msToTimestamp(engine.now()),
              startedTime: msToTimestamp(engine.now()),
              queries: {},
              messages: [],
            };
          },
        });
      };
      const sticky =
        execution.running &&
        execution.sticky !== null &&
        engine.matching.hasLivePoller(engine.workflowQueueKey(execution, execution.sticky.queueName));
      if (sticky) {
        enqueue(true);
        // The sticky worker may be gone without having said so: fall back to the normal queue.
        fallback = setTimeout(() => {
          if (!dispatched) enqueue(false);
        }, STICKY_QUERY_FALLBACK_MS);
      } else {
        enqueue(false);
      }
    });
  }

  private waitForQuiescence(execution: Execution, deadline: number, signal: CancelSignal): Promise<void> {
    const idle = () =>
      !execution.running || (!execution.wft && execution.buffered.length === 0 && execution.previousStartedEventId > 0);
    if (idle()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      // Evaluated after the current engine step: events are written in the middle of a task's
      // completion, before its follow-up task is scheduled, and that in-between state is not idle.
      let done = false;
      const check = () =>
        queueMicrotask(() => {
          if (!done && idle()) {
            cleanup();
            resolve();
          }
        });
      const unsubscribe = execution.onChange(check);
      const timer = setTimeout(
        () => {
          cleanup();
          reject(
            new RpcError(
              status.DEADLINE_EXCEEDED,
              'query timed out waiting for the running workflow task (is a worker running for this task queue?)',
            ),
          );
        },
        Math.max(0, deadline - Date.now()),
      );
      const onAbort = () => {
        cleanup();
        reject(new RpcError(status.CANCELLED, 'query cancelled'));
      };
      const cleanup = () => {
        done = true;
        unsubscribe();
        clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
      };
      signal.addEventListener('abort', onAbort);
    });
  }

  /** RespondQueryTaskCompleted. */
  respond(id: string, request: any): void {
    const pending = this.pendingQueries.get(id);
    if (!pending) throw notFound('query task not found (it timed out or was already answered)');
    if (request.completedType === 'QUERY_RESULT_TYPE_ANSWERED') {
      pending.resolve(request.queryResult ?? { payloads: [] });
    } else {
      // The server reports a failed query as INVALID_ARGUMENT carrying the worker's message.
      pending.reject(invalidArgument(request.errorMessage || request.failure?.message || 'query failed'));
    }
  }

  close(): void {
    for (const [id, p] of this.pendingQueries) {
      this.pendingQueries.delete(id);
      p.reject(new RpcError(status.UNAVAILABLE, 'the Temporal emulator is shutting down'));
    }
  }
}
