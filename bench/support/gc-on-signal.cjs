// Preloaded into the measured worker (`node --expose-gc --require bench/support/gc-on-signal.cjs`) by
// bench/held-gates-memory.ts: SIGWINCH runs a full GC in every V8 isolate of the process, the main
// thread's and each worker thread's (the held workflows live in the workflow thread's isolate).
// Signals reach only the main thread, so it passes the request on over a BroadcastChannel. Not SIGUSR2:
// the Temporal SDK's runtime shuts the worker down on it (as on SIGINT, SIGTERM and SIGQUIT).
// With BENCH_HEAP_REPORT=<file>, each isolate then appends its heap sizes to that file as a JSON line,
// so the bench can tell V8's share of the RSS from native memory.
'use strict';
// A --require preload is CommonJS.
/* eslint-disable @typescript-eslint/no-require-imports */
const { BroadcastChannel, isMainThread, threadId } = require('node:worker_threads');
const { appendFileSync } = require('node:fs');
const { getHeapStatistics } = require('node:v8');
/* eslint-enable @typescript-eslint/no-require-imports */

const report = process.env.BENCH_HEAP_REPORT;

function reportHeap() {
  if (!report) return;
  const heap = getHeapStatistics();
  const line = {
    thread: isMainThread ? 'main' : `worker ${threadId}`,
    // Heap pages resident in memory (committed but untouched pages are not), what is live in them.
    totalHeap: heap.total_physical_size,
    usedHeap: heap.used_heap_size,
    malloced: heap.malloced_memory,
    // Memory outside the heap that JavaScript objects keep alive (Buffers, ArrayBuffers).
    external: heap.external_memory,
  };
  appendFileSync(report, `${JSON.stringify(line)}\n`);
}

const gc = globalThis.gc;
if (typeof gc === 'function') {
  const channel = new BroadcastChannel('bench-gc');
  channel.unref();
  if (isMainThread) {
    process.on('SIGWINCH', () => {
      gc();
      reportHeap();
      channel.postMessage('gc');
    });
  } else {
    channel.onmessage = () => {
      gc();
      reportHeap();
    };
  }
}
