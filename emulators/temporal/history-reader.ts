// GetWorkflowExecutionHistory: paging, long poll for new events (waitNewEvent) and the close-event
// filter that `handle.result()` loops on.
import type { CancelSignal } from './cancel-signal';
import type { Engine } from './engine';
import { invalidArgument } from './errors';
import type { Execution, HistoryEvent } from './execution';

const DEFAULT_PAGE_SIZE = 1000;
// The server holds a history long poll for about 20 s before answering empty (the SDK asks again).
const LONG_POLL_MS = 20_000;

interface PageToken {
  run: string;
  next: number;
}

function encodePageToken(t: PageToken): Buffer {
  return Buffer.from(JSON.stringify(t));
}

function decodePageToken(raw: Uint8Array | null | undefined): PageToken | null {
  if (!raw || raw.length === 0) return null;
  try {
    const t = JSON.parse(Buffer.from(raw).toString('utf8'));
    if (typeof t.run === 'string' && typeof t.next === 'number') return t;
  } catch {
    // fall through
  }
  throw invalidArgument('Invalid NextPageToken.');
}

export async function getHistory(
  engine: Engine,
  request: any,
  waitBudgetMs: number,
  signal: CancelSignal,
): Promise<{ history: { events: HistoryEvent[] }; nextPageToken: Buffer | null; archived: boolean }> {
  const token = decodePageToken(request.nextPageToken);
  const execution = engine.findRun(
    request.namespace,
    token ? { workflowId: request.execution?.workflowId, runId: token.run } : request.execution,
  );
  const closeOnly = request.historyEventFilterType === 'HISTORY_EVENT_FILTER_TYPE_CLOSE_EVENT';
  const wait = Boolean(request.waitNewEvent);
  const budget = Math.min(LONG_POLL_MS, waitBudgetMs);
  if (closeOnly) {
    if (execution.running && wait)
      await waitFor(engine, execution, () => engine.isStopped || !execution.running, budget, signal);
    if (execution.running) {
      // Nothing yet: an empty page with a token makes the SDK ask again.
      return {
        history: { events: [] },
        nextPageToken: wait ? encodePageToken({ run: execution.runId, next: execution.nextEventId }) : null,
        archived: false,
      };
    }
    return { history: { events: [execution.lastEvent()!] }, nextPageToken: null, archived: false };
  }
  const from = token?.next ?? 1;
  if (wait && execution.running && execution.nextEventId <= from) {
    await waitFor(
      engine,
      execution,
      () => engine.isStopped || execution.nextEventId > from || !execution.running,
      budget,
      signal,
    );
  }
  const pageSize = request.maximumPageSize > 0 ? request.maximumPageSize : DEFAULT_PAGE_SIZE;
  const events = execution.history.slice(from - 1, from - 1 + pageSize);
  const next = from + events.length;
  const more = next <= execution.history.length || (wait && execution.running);
  return {
    history: { events },
    nextPageToken: more ? encodePageToken({ run: execution.runId, next }) : null,
    archived: false,
  };
}

/** GetWorkflowExecutionHistoryReverse: newest events first, paged (the UI's "latest events"). */
export function getHistoryReverse(
  engine: Engine,
  request: any,
): { history: { events: HistoryEvent[] }; nextPageToken: Buffer | null } {
  const token = decodePageToken(request.nextPageToken);
  const execution = engine.findRun(
    request.namespace,
    token ? { workflowId: request.execution?.workflowId, runId: token.run } : request.execution,
  );
  // Here `next` is the id of the newest event not yet returned.
  const from = token?.next ?? execution.history.length;
  const pageSize = request.maximumPageSize > 0 ? request.maximumPageSize : DEFAULT_PAGE_SIZE;
  const lowest = Math.max(1, from - pageSize + 1);
  const events = execution.history.slice(lowest - 1, from).reverse();
  return {
    history: { events },
    nextPageToken: lowest > 1 ? encodePageToken({ run: execution.runId, next: lowest - 1 }) : null,
  };
}

function waitFor(
  engine: Engine,
  execution: Execution,
  done: () => boolean,
  ms: number,
  signal: CancelSignal,
): Promise<void> {
  if (done() || signal.aborted) return Promise.resolve();
  engine.historyWaits++;
  return new Promise((resolve) => {
    let finished = false;
    const finish = () => {
      if (finished) return;
      finished = true;
      engine.historyWaits--;
      unsubscribe();
      clearTimeout(timer);
      signal.removeEventListener('abort', finish);
      resolve();
    };
    const unsubscribe = execution.onChange(() => {
      if (done()) finish();
    });
    const timer = setTimeout(finish, Math.max(0, ms));
    signal.addEventListener('abort', finish);
  });
}
