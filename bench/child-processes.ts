// What several benchmarks need of their child processes: the Temporal engine in its own process, and
// a process's CPU time (to say what one operation costs each side).
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';

// USER_HZ is 100 on every Linux the project runs on.
const CLOCK_TICKS_PER_SECOND = 100;

/** CPU seconds (user + system) a process has used so far, from /proc (Linux only). */
export function processCpuSeconds(pid: number): number | undefined {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    // utime and stime are fields 14 and 15 of stat, i.e. 12 and 13 after the command name.
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_SECOND;
  } catch {
    return undefined;
  }
}

/** What a child prints as `listening on <address>` on its stdout, once it does. */
export function listeningAddress(child: ChildProcess, what: string): Promise<string> {
  return new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (chunk) => {
      out += chunk;
      const m = /listening on (\S+)/.exec(out);
      if (m) resolve(m[1]);
    });
    child.once('exit', (code) => reject(new Error(`${what} exited with ${code}`)));
  });
}

export interface EngineProcess {
  address: string;
  pid: number;
  stop(): Promise<void>;
}

/** Starts the engine's CLI in its own process and returns its address. */
export async function spawnEngine(): Promise<EngineProcess> {
  const child = spawn(
    process.execPath,
    [
      // e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof` to see where the engine's time goes
      ...(process.env.BENCH_ENGINE_NODE_ARGS ?? '').split(' ').filter(Boolean),
      '--import',
      'tsx',
      require.resolve('../emulators/temporal/cli.ts'),
      '--port',
      '0',
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const address = await listeningAddress(child, 'engine');
  return {
    address,
    pid: child.pid!,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}
