// Shared setup for the Temporal conformance suite: runs against the embedded engine, or against a
// real Temporal server when TEMPORAL_TEST_ADDRESS is set (e.g. `temporal server start-dev`), so
// the emulator can be checked against the real thing.
import { after, before } from 'node:test';
import { randomUUID } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import { bundleWorkflowCode, NativeConnection, Runtime, Worker, type WorkerOptions } from '@temporalio/worker';
import { SdkComponent } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import {
  startTemporalEmulator,
  type TemporalEmulator,
  type TemporalEmulatorOptions,
} from '../../../emulators/temporal';

export const REAL_SERVER_ADDRESS = process.env.TEMPORAL_TEST_ADDRESS;
export const usingRealServer = Boolean(REAL_SERVER_ADDRESS);

/** node:test options for tests that need emulator-only controls (skipTime, time skipping). */
export function emulatorOnly(what: string): { skip: string | false } {
  return {
    skip: usingRealServer ? `emulator-only (${what}); not available on a real server at ${REAL_SERVER_ADDRESS}` : false,
  };
}

/** What core logged at ERROR in this process, in order: a test can check the engine caused none. */
export const coreErrors: string[] = [];

let runtimeInstalled = false;
function quietRuntime(): void {
  if (runtimeInstalled) return;
  runtimeInstalled = true;
  // Core logs at WARN by default; failing workflow tasks in the error tests would be noisy. Core's
  // ERRORs are forwarded here (rather than printed by core) to be kept in coreErrors, and printed.
  Runtime.install({
    logger: {
      log(level: string, message: string, meta?: Record<string, unknown>) {
        if (level !== 'ERROR' || meta?.sdkComponent !== SdkComponent.core) return;
        coreErrors.push(message);
        console.error(`[core ERROR] ${message}`);
      },
      trace() {},
      debug() {},
      info() {},
      warn() {},
      error() {},
    } as any,
    telemetryOptions: { logging: { filter: { core: 'ERROR', other: 'ERROR' }, forward: {} } },
  });
}

/** Waits until core's forwarded logs of the last moments have reached coreErrors. */
export async function flushCoreLogs(): Promise<void> {
  // Core pushes its log buffer every 10 ms; the runtime holds entries 100 ms to order them.
  await new Promise((r) => setTimeout(r, 300));
  Runtime.instance().flushLogs();
}

export interface TestEnv {
  address: string;
  namespace: string;
  /** Set when running on the embedded engine. */
  emulator: TemporalEmulator | undefined;
  connection: Connection;
  client: Client;
  nativeConnection: NativeConnection;
  skipTime(ms: number): Promise<void>;
  stop(): Promise<void>;
}

export async function startTestEnv(
  opts: Pick<TemporalEmulatorOptions, 'timeSkipping' | 'continueAsNewSuggestedAt'> = {},
): Promise<TestEnv> {
  quietRuntime();
  const emulator = usingRealServer
    ? undefined
    : await startTemporalEmulator({
        port: 0,
        timeSkipping: opts.timeSkipping,
        continueAsNewSuggestedAt: opts.continueAsNewSuggestedAt,
        log: process.env.TEMPORAL_EMULATOR_TRACE === '1' ? (m) => console.log(`[engine] ${m}`) : undefined,
      });
  const address = REAL_SERVER_ADDRESS ?? emulator!.address;
  const namespace = process.env.TEMPORAL_TEST_NAMESPACE ?? 'default';
  const connection = await Connection.connect({ address });
  const nativeConnection = await NativeConnection.connect({ address });
  const client = new Client({ connection, namespace });
  return {
    address,
    namespace,
    emulator,
    connection,
    client,
    nativeConnection,
    async skipTime(ms) {
      if (!emulator) throw new Error('skipTime needs the embedded engine');
      await emulator.skipTime(ms);
    },
    async stop() {
      await connection.close();
      await nativeConnection.close();
      await emulator?.stop();
    },
  };
}

let bundlePromise: Promise<{ code: string }> | undefined;
/** Bundled once per test file (bundling costs ~1 s). */
export function workflowBundle(): Promise<{ code: string }> {
  bundlePromise ??= bundleWorkflowCode({
    workflowsPath: require.resolve('./workflows'),
    logger: { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error() {} } as any,
  });
  return bundlePromise;
}

export function uniqueTaskQueue(name: string): string {
  return `${name}-${randomUUID().slice(0, 8)}`;
}

export function uniqueId(prefix: string): string {
  return `${prefix}-${randomUUID()}`;
}

export interface RunningWorker {
  worker: Worker;
  taskQueue: string;
  stop(): Promise<void>;
}

/** Creates and runs a worker in the background; stop() shuts it down and waits for it. */
export async function runWorker(
  env: TestEnv,
  options: Partial<WorkerOptions> & { taskQueue?: string } = {},
): Promise<RunningWorker> {
  const taskQueue = options.taskQueue ?? uniqueTaskQueue('conformance');
  const worker = await Worker.create({
    connection: env.nativeConnection,
    namespace: env.namespace,
    workflowBundle: await workflowBundle(),
    ...options,
    taskQueue,
  });
  const running = worker.run();
  return {
    worker,
    taskQueue,
    async stop() {
      if (worker.getState() === 'RUNNING') worker.shutdown();
      await running;
    },
  };
}

/**
 * The common suite setup: one engine (or real server) and one worker with the test activities, started
 * before the suite's tests and stopped after them. Read `suite.env` / `suite.worker` inside tests.
 */
export function useEnvWithWorker(activities: WorkerOptions['activities']): {
  readonly env: TestEnv;
  readonly worker: RunningWorker;
} {
  let env: TestEnv | undefined;
  let worker: RunningWorker | undefined;
  before(async () => {
    env = await startTestEnv();
    worker = await runWorker(env, { activities });
  });
  after(async () => {
    await worker?.stop();
    await env?.stop();
  });
  return {
    get env() {
      if (!env) throw new Error('the suite has not started');
      return env;
    },
    get worker() {
      if (!worker) throw new Error('the suite has not started');
      return worker;
    },
  };
}

/** Registers custom search attributes (idempotent), as an operator would before deploying. */
export async function ensureSearchAttributes(
  env: TestEnv,
  attrs: Record<string, keyof typeof temporal.api.enums.v1.IndexedValueType>,
): Promise<void> {
  const existing = await env.connection.operatorService.listSearchAttributes({ namespace: env.namespace });
  const missing = Object.entries(attrs).filter(([name]) => !existing.customAttributes?.[name]);
  if (missing.length === 0) return;
  await env.connection.operatorService.addSearchAttributes({
    namespace: env.namespace,
    searchAttributes: Object.fromEntries(
      missing.map(([name, type]) => [name, temporal.api.enums.v1.IndexedValueType[type]]),
    ),
  });
}

/** Polls until fn returns a truthy value (visibility on a real server is eventually consistent). */
export async function eventually<T>(fn: () => Promise<T | undefined | null | false>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}
