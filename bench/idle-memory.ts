// `npx tsx bench/idle-memory.ts [--code dist|sources] [--fresh] [--settle 30] [--samples 5]`: the idle
// resident memory (RSS) of `npm start` on the embedded defaults. Starts the gate as `npm start` does
// (scripts/launch.mjs start: the in-process Temporal, Stripe and Slack emulators on their default
// ports, PGlite in a scratch working directory's .data/), waits until it serves, lets it settle, then
// samples VmRSS of the gate process (npm's own process excluded) and prints the median and the peak.
// --code dist needs `npm run build` first; --fresh starts on an empty .data/ (initdb on the first start).
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

const ROOT = join(__dirname, '..');
const { values } = parseArgs({
  options: {
    code: { type: 'string', default: 'dist' },
    fresh: { type: 'boolean', default: false },
    settle: { type: 'string', default: '30' },
    samples: { type: 'string', default: '5' },
  },
});

const kib = (field: string, pid: number) =>
  Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? NaN);
const mib = (k: number) => Math.round(k / 1024);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function main(): Promise<void> {
  const dist = join(ROOT, 'dist');
  // .data/ is ignored by git, lint and format: dist/ waits there while the sources run
  const aside = join(ROOT, '.data', `dist-aside-${process.pid}`);
  if (values.code === 'dist' && !existsSync(join(dist, 'build-info.json'))) throw new Error('run npm run build first');
  if (values.code === 'sources' && existsSync(dist)) {
    mkdirSync(join(ROOT, '.data'), { recursive: true });
    renameSync(dist, aside);
  }
  // The gate's .data/ (PGlite) lives in the working directory: a scratch one, or the repository's.
  const cwd = values.fresh ? mkdtempSync(join(tmpdir(), 'gate-idle-')) : ROOT;
  const env: NodeJS.ProcessEnv = { ...process.env, PORT: process.env.PORT ?? '3999', LOG_LEVEL: 'info' };
  for (const name of Object.keys(env))
    if (/^(DATABASE_URL|LEDGER_DATABASE_URL|TEMPORAL_ADDRESS|STRIPE_|SLACK_)/.test(name)) delete env[name];
  const started = Date.now();
  const child = spawn(process.execPath, [join(ROOT, 'scripts/launch.mjs'), 'start'], {
    cwd,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  try {
    while (!output.includes('invoice-gate is serving')) {
      if (child.exitCode !== null) throw new Error(`the gate exited ${child.exitCode}\n${output}`);
      if (Date.now() - started > 300_000) throw new Error(`not serving after 300 s\n${output}`);
      await sleep(250);
    }
    const readyMs = Date.now() - started;
    await sleep(Number(values.settle) * 1000);
    const samples: number[] = [];
    for (let i = 0; i < Number(values.samples); i++) {
      samples.push(kib('VmRSS', child.pid!));
      await sleep(2000);
    }
    samples.sort((a, b) => a - b);
    const runs = /invoice-gate: running (.*)/.exec(output)?.[1] ?? '?';
    console.log(
      JSON.stringify({
        code: values.code,
        fresh: values.fresh,
        runs,
        readyS: Math.round(readyMs / 100) / 10,
        idleRssMiB: {
          median: mib(samples[Math.floor(samples.length / 2)]),
          min: mib(samples[0]),
          max: mib(samples.at(-1)!),
        },
        peakRssMiB: mib(kib('VmHWM', child.pid!)),
      }),
    );
  } finally {
    child.kill('SIGTERM');
    await new Promise((resolve) => child.once('exit', resolve));
    if (existsSync(aside)) renameSync(aside, dist);
    if (values.fresh) rmSync(cwd, { recursive: true, force: true });
  }
}

void main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
