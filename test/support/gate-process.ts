// Test helper: the gate as an operator runs it, a child process of `node <entry>`, with its JSON log
// lines collected so a test can wait for one (the serving URL, "worker started") and for its exit.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { Client as PgClient } from 'pg';

export const REPO_ROOT = join(__dirname, '..', '..');
/** `node --import <this>` runs TypeScript entry points the way `npm start` from sources does. */
export const TSX_LOADER = join(REPO_ROOT, 'node_modules', 'tsx', 'dist', 'loader.mjs');

export interface GateProcess {
  child: ChildProcess;
  /** Resolves with the first stdout line matching `pattern`; rejects on exit or after `ms`. */
  waitForLine(pattern: RegExp, ms: number): Promise<string>;
  /** The serving URL from the "invoice-gate is serving" line. */
  waitForUrl(ms: number): Promise<string>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  output(): string;
}

/** The environment without anything that configures a service, plus `env`. */
export function cleanEnvironment(env: Record<string, string>): NodeJS.ProcessEnv {
  const clean = { ...process.env };
  for (const name of Object.keys(clean))
    if (/^(DATABASE_URL|LEDGER_DATABASE_URL|TEMPORAL_|STRIPE_|SLACK_|GATE_|INVOICE_GATE_CONFIG|PORT$|HOST$)/.test(name))
      delete clean[name];
  return { ...clean, ...env };
}

export function startGateProcess(args: string[], env: Record<string, string>, cwd = REPO_ROOT): GateProcess {
  const child = spawn(process.execPath, args, { cwd, env: cleanEnvironment(env), stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  const waiters: Array<{ pattern: RegExp; done: (line: string) => void }> = [];
  child.stdout!.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
    for (const waiter of [...waiters]) {
      const line = stdout.split('\n').find((l) => waiter.pattern.test(l));
      if (line !== undefined) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.done(line);
      }
    }
  });
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal })),
  );
  const output = () => `--- stdout\n${stdout}\n--- stderr\n${stderr}`;
  const waitForLine = (pattern: RegExp, ms: number) =>
    new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no line ${pattern} within ${ms} ms\n${output()}`)), ms);
      void exited.then(({ code, signal }) =>
        reject(new Error(`exited (${code ?? signal}) before ${pattern}\n${output()}`)),
      );
      waiters.push({
        pattern,
        done: (line) => {
          clearTimeout(timer);
          resolve(line);
        },
      });
      child.stdout!.emit('data', Buffer.alloc(0));
    });
  return {
    child,
    waitForLine,
    async waitForUrl(ms) {
      const line = await waitForLine(/invoice-gate is serving/, ms);
      return (JSON.parse(line) as { url: string }).url;
    },
    exited,
    output,
  };
}

const ADMIN_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/** A fresh PostgreSQL database for one test file's gate process, dropped by `drop()`. */
export async function createScratchDatabase(prefix: string): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `${prefix}_${randomBytes(6).toString('hex')}`;
  const run = async (statement: string) => {
    const admin = new PgClient({ connectionString: ADMIN_URL });
    await admin.connect();
    try {
      await admin.query(statement);
    } finally {
      await admin.end();
    }
  };
  await run(`CREATE DATABASE ${name}`);
  const url = new URL(ADMIN_URL);
  url.pathname = `/${name}`;
  return { url: url.toString(), drop: () => run(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`) };
}
