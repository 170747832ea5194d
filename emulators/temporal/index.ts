// The embedded Temporal engine: an in-memory, Temporal-compatible gRPC server for tests, the demo
// and offline development. See README.md for what it covers and what it is not.
import { Engine } from './engine';
import { TEMPORAL_EMULATOR_DEFAULTS } from './defaults';
import { startGrpcServer } from './server';

export { TEMPORAL_EMULATOR_DEFAULTS } from './defaults';

export interface TemporalEmulatorOptions {
  /** Default TEMPORAL_EMULATOR_DEFAULTS.port; 0 picks a random free port (tests). */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 'default'; more namespaces may be registered through RegisterNamespace. */
  namespace?: string;
  /** Jump the clock to the next timer/timeout whenever nothing is in flight. Default false. */
  timeSkipping?: boolean;
  /**
   * When WorkflowTaskStarted suggests continue-as-new (`workflowInfo().continueAsNewSuggested`):
   * history length in events and approximate size in bytes. Default: Temporal Server's 4096 events
   * and 4 MiB; lower them so a test reaches the suggestion in a few events.
   */
  continueAsNewSuggestedAt?: { historyLength?: number; historySizeBytes?: number };
  log?: (msg: string) => void;
}

export interface TemporalEmulator {
  /** '127.0.0.1:PORT', for Connection.connect / NativeConnection.connect. */
  address: string;
  port: number;
  namespace: string;
  /** Virtual clock: moves the server clock forward by ms, firing due timers/timeouts in order. Works with or without timeSkipping. */
  skipTime(ms: number): Promise<void>;
  now(): Date;
  /** Long polls parked in the engine right now (workers' task polls, history waits such as handle.result()). */
  openLongPolls(): { taskQueues: number; history: number };
  /**
   * Puts TestService time skipping back to its initial state (locked once unless started with
   * timeSkipping), whatever clients locked or unlocked. Locks of a client connection that closes
   * are released anyway; this is for a client still connected.
   */
  resetTimeSkipping(): void;
  /** Ends open long polls and closes the server. */
  stop(): Promise<void>;
}

export async function startTemporalEmulator(opts: TemporalEmulatorOptions = {}): Promise<TemporalEmulator> {
  const host = opts.host ?? TEMPORAL_EMULATOR_DEFAULTS.host;
  const namespace = opts.namespace ?? TEMPORAL_EMULATOR_DEFAULTS.namespace;
  const engine = new Engine({
    namespace,
    timeSkipping: opts.timeSkipping ?? false,
    continueAsNewSuggestedAt: opts.continueAsNewSuggestedAt,
    log: opts.log ?? (() => {}),
  });
  const server = await startGrpcServer(engine, host, opts.port ?? TEMPORAL_EMULATOR_DEFAULTS.port);
  let stopping: Promise<void> | undefined;
  return {
    address: `${host}:${server.port}`,
    port: server.port,
    namespace,
    skipTime: (ms) => engine.skipTime(ms),
    now: () => new Date(engine.now()),
    openLongPolls: () => engine.openLongPolls(),
    resetTimeSkipping: () => engine.resetTimeSkipping(),
    stop: () => (stopping ??= server.stop()),
  };
}
