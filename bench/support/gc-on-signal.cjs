// Preloaded into the measured worker (`node --expose-gc --require bench/support/gc-on-signal.cjs`) by
// bench/held-gates-memory.ts: SIGWINCH runs a full GC in every V8 isolate of the process, the main
// thread's and each worker thread's (the held workflows live in the workflow thread's isolate).
// Signals reach only the main thread, so it passes the request on over a BroadcastChannel. Not SIGUSR2:
// the Temporal SDK's runtime shuts the worker down on it (as on SIGINT, SIGTERM and SIGQUIT).
'use strict';
// A --require preload is CommonJS.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { BroadcastChannel, isMainThread } = require('node:worker_threads');

const gc = globalThis.gc;
if (typeof gc === 'function') {
  const channel = new BroadcastChannel('bench-gc');
  channel.unref();
  if (isMainThread) {
    process.on('SIGWINCH', () => {
      gc();
      channel.postMessage('gc');
    });
  } else {
    channel.onmessage = () => gc();
  }
}
