// Benchmark of the embedded Temporal engine (emulators/temporal) driven by the real SDK, the way
// invoice-gate uses it when TEMPORAL_ADDRESS is unset: engine, worker and client in one process.
//
// - one-activity workflow (start -> activity -> complete, client waits for the result) with 1 and
//   with 50 concurrent starters: workflows/s and per-workflow latency;
// - 1,000 concurrent signal-waiting workflows: start all, then signal all; latency is per workflow
//   from its signal to its result, throughput is workflows completed per second of the whole run;
// - the 50-starter run again with the engine in its own process (its CLI), measuring the engine's
//   own CPU time per workflow.
//
// The workflows are the conformance suite's (test/emulators/temporal/workflows.ts): `greet` runs one
// activity, `waitForApproval` waits for the `approve` signal.
import { randomUUID } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import { bundleWorkflowCode, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import { startTemporalEmulator } from '../emulators/temporal';
import { type BenchResult, startTimer, toBenchResult } from './bench-result';
import { processCpuSeconds, spawnEngine } from './child-processes';

const silent = { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error() {} };

/** Runs `total` operations with `concurrency` loops; returns each operation's latency. */
async function runConcurrently(
  total: number,
  concurrency: number,
  op: (i: number) => Promise<void>,
): Promise<{ latencies: number[]; totalMs: number }> {
  const latencies: number[] = [];
  let next = 0;
  const elapsed = startTimer();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < total) {
        const i = next++;
        const t = startTimer();
        await op(i);
        latencies.push(t());
      }
    }),
  );
  return { latencies, totalMs: elapsed() };
}

interface Harness {
  client: Client;
  taskQueue: string;
  worker: Worker;
  close(): Promise<void>;
}

async function connectHarness(address: string, namespace: string): Promise<Harness> {
  const connection = await Connection.connect({ address });
  const nativeConnection = await NativeConnection.connect({ address });
  const client = new Client({ connection, namespace });
  const taskQueue = `bench-${randomUUID().slice(0, 8)}`;
  const worker = await Worker.create({
    connection: nativeConnection,
    namespace,
    taskQueue,
    workflowBundle: await workflowBundle(),
    activities: { echo: async (v: string) => v },
    // Keep all 1,000 waiting workflows cached, as a production worker sized for them would.
    maxCachedWorkflows: 2_000,
    maxConcurrentWorkflowTaskExecutions: 100,
    maxConcurrentActivityTaskExecutions: 200,
  });
  return {
    client,
    taskQueue,
    worker,
    async close() {
      await connection.close();
      await nativeConnection.close();
    },
  };
}

let bundle: Promise<{ code: string }> | undefined;
function workflowBundle(): Promise<{ code: string }> {
  bundle ??= bundleWorkflowCode({
    workflowsPath: require.resolve('../test/emulators/temporal/workflows'),
    logger: silent as any,
  });
  return bundle;
}

function greeter(h: Harness, tag: string) {
  const runId = randomUUID().slice(0, 8);
  return (i: number) =>
    h.client.workflow
      .execute('greet', { taskQueue: h.taskQueue, workflowId: `bench-${runId}-${tag}-${i}`, args: ['bench'] })
      .then(() => undefined);
}

const WARM_UP_WORKFLOWS = 1_000;

export async function runTemporalEngineBench(): Promise<BenchResult[]> {
  try {
    Runtime.install({
      logger: silent as any,
      telemetryOptions: { logging: { filter: { core: 'ERROR', other: 'ERROR' } } },
    });
  } catch {
    // Another suite in this process installed the runtime already.
  }
  const results: BenchResult[] = [];
  const note = 'op = start -> activity -> complete, client awaits result()';

  // 1. As `npm start` runs it: engine, worker and client share one process (and event loop).
  const emulator = await startTemporalEmulator({ port: 0 });
  const h = await connectHarness(emulator.address, emulator.namespace);
  try {
    await h.worker.runUntil(async () => {
      // Warm-up to steady state (JIT of engine and SDK, workflow isolate, connections): a long-running
      // service is measured warm; 50 workflows left the first thousand measuring the JIT.
      await runConcurrently(WARM_UP_WORKFLOWS, 50, greeter(h, 'warm'));

      const serial = await runConcurrently(200, 1, greeter(h, 'serial'));
      results.push(
        toBenchResult(
          'one-activity workflow, 1 starter',
          serial.latencies,
          serial.totalMs,
          `${note}; engine in-process`,
        ),
      );

      const parallel = await runConcurrently(1_000, 50, greeter(h, 'parallel'));
      results.push(
        toBenchResult(
          'one-activity workflow, 50 starters',
          parallel.latencies,
          parallel.totalMs,
          `${note}; engine in-process`,
        ),
      );

      const count = 1_000;
      const runId = randomUUID().slice(0, 8);
      const elapsed = startTimer();
      const handles: Array<Awaited<ReturnType<typeof h.client.workflow.start>>> = [];
      await runConcurrently(count, 50, async (i) => {
        handles[i] = await h.client.workflow.start('waitForApproval', {
          taskQueue: h.taskQueue,
          workflowId: `bench-${runId}-signal-${i}`,
        });
      });
      const signalled = await runConcurrently(count, 50, async (i) => {
        await handles[i].signal('approve', 'bench');
        await handles[i].result();
      });
      results.push(
        toBenchResult(
          '1,000 signal-waiting workflows',
          signalled.latencies,
          elapsed(),
          'start all 1,000 (50 at a time), then signal all (50 at a time); latency = signal -> result; rate = completed / whole run',
        ),
      );
    });
  } finally {
    await h.close();
    await emulator.stop();
  }

  // 2. The engine in its own process: throughput when it does not share an event loop with the
  //    SDK, and the engine's own CPU cost per workflow (what "the engine is not the limit" means).
  const engine = await spawnEngine();
  const h2 = await connectHarness(engine.address, 'default');
  try {
    await h2.worker.runUntil(async () => {
      await runConcurrently(WARM_UP_WORKFLOWS, 50, greeter(h2, 'warm'));
      const cpuBefore = processCpuSeconds(engine.pid);
      const parallel = await runConcurrently(1_000, 50, greeter(h2, 'separate'));
      const cpuAfter = processCpuSeconds(engine.pid);
      const cpuNote =
        cpuBefore !== undefined && cpuAfter !== undefined
          ? `; engine CPU ${(((cpuAfter - cpuBefore) * 1000) / parallel.latencies.length).toFixed(2)} ms per workflow (${(((cpuAfter - cpuBefore) / (parallel.totalMs / 1000)) * 100).toFixed(0)}% of one core)`
          : '';
      results.push(
        toBenchResult(
          'one-activity workflow, 50 starters, engine in its own process',
          parallel.latencies,
          parallel.totalMs,
          `${note}${cpuNote}`,
        ),
      );
    });
  } finally {
    await h2.close();
    await engine.stop();
  }
  return results;
}

if (require.main === module) {
  runTemporalEngineBench().then(
    (r) => {
      console.table(r);
      process.exit(0);
    },
    (err) => {
      console.error(err);
      process.exit(1);
    },
  );
}
