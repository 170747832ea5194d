// The gate's worker as its own process (`src/bin/worker.ts`, as `npm run worker` runs it), so a test
// can kill it with SIGKILL while the Temporal engine and the emulators live on in the test process.
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';

const WORKER_ENTRY = join(__dirname, '..', '..', 'src', 'bin', 'worker.ts');

export interface WorkerProcess {
  child: ChildProcess;
  /** The last lines it printed, for a failure message. */
  output(): string;
  /** Sends SIGKILL and waits for the process to be gone. */
  kill(): Promise<void>;
  /** SIGTERM (graceful shutdown) and waits for the exit. */
  stop(): Promise<void>;
}

/** Starts a worker with `env` (see GateHarness.workerEnv) and resolves once it polls its task queue. */
export async function startWorkerProcess(env: Record<string, string>, timeoutMs = 60_000): Promise<WorkerProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', WORKER_ENTRY], {
    env: { PATH: process.env.PATH ?? '', NODE_ENV: 'test', LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  const keep = (chunk: Buffer) => {
    lines.push(...chunk.toString().split('\n').filter(Boolean));
    lines.splice(0, Math.max(0, lines.length - 40));
  };
  child.stderr.on('data', keep);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const output = () => lines.join('\n');

  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      // Not left behind, polling a Temporal that the caller is about to stop.
      child.kill('SIGKILL');
      reject(new Error(`worker did not start in ${timeoutMs} ms:\n${output()}`));
    }, timeoutMs);
    child.stdout.on('data', (chunk: Buffer) => {
      keep(chunk);
      if (chunk.toString().includes('"msg":"worker started"')) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`worker exited (${code ?? signal}) before it started:\n${output()}`));
    });
  });

  const signalAndWait = async (signal: NodeJS.Signals) => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    await exited;
  };
  return { child, output, kill: () => signalAndWait('SIGKILL'), stop: () => signalAndWait('SIGTERM') };
}
