// `npm run demo` is part of the contract: one command, no configuration, exit 0, and a narration that
// tells the whole story. Runs it the way a user does, as a child process.
import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { test } from 'node:test';
import assert from 'node:assert/strict';

const ROOT = resolve(__dirname, '..', '..');
const TIME_LIMIT_MS = 90_000;

function runDemo(): Promise<{
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  ms: number;
}> {
  const started = Date.now();
  // No configuration: drop anything that would point the service at real infrastructure.
  const env = { ...process.env };
  for (const name of Object.keys(env))
    if (/^(DATABASE_URL|LEDGER_DATABASE_URL|TEMPORAL_|STRIPE_|SLACK_|INVOICE_GATE_CONFIG|PORT$)/.test(name))
      delete env[name];
  const child = spawn('npm', ['run', '--silent', 'demo'], {
    cwd: ROOT,
    env,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk) => (stdout += chunk));
  child.stderr.on('data', (chunk) => (stderr += chunk));
  // npm does not pass signals on to its child: stop the whole process group on timeout.
  const timer = setTimeout(() => process.kill(-child.pid!, 'SIGKILL'), TIME_LIMIT_MS);
  return new Promise((done, fail) => {
    child.on('error', fail);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      done({ code, signal, stdout, stderr, ms: Date.now() - started });
    });
  });
}

test('npm run demo tells the whole story and exits 0', { timeout: TIME_LIMIT_MS + 10_000 }, async () => {
  const run = await runDemo();
  const context = `exit ${run.code} signal ${run.signal} after ${run.ms} ms\n--- stdout\n${run.stdout}\n--- stderr\n${run.stderr}`;
  assert.equal(run.code, 0, context);
  // Its own clock (without npm and tsx start-up): well under a minute alone, under 60 s even on a busy CI machine.
  const took = /Done in ([\d.]+) s/.exec(run.stdout);
  assert.ok(took && Number(took[1]) < 60, `the demo should take well under a minute; ${context}`);

  const out = run.stdout;
  // usage with the numbers
  assert.match(out, /Matching Co: 1,200 API calls sent to Stripe, 1,200 rows in the ledger/, context);
  assert.match(out, /Diverging Ltd: 1,530 API calls sent to Stripe, 1,500 rows in the ledger/, context);
  // two draft invoices from the clock advance
  const drafts = [...out.matchAll(/Stripe created draft invoice (in_\w+) for (Matching Co|Diverging Ltd)/g)];
  assert.equal(drafts.length, 2, context);
  const invoiceOf = Object.fromEntries(drafts.map((m) => [m[2], m[1]]));
  // passed, held (with the alert rendered as text), released, finalized
  assert.match(out, /PASSED: Stripe 1,200 API calls, ledger 1,200/, context);
  assert.match(out, /HELD: Stripe 1,530 API calls, ledger 1,500 \(difference 30, 2 %/, context);
  assert.match(out, /INVOICE HELD: DIVERGING LTD/, context);
  assert.match(out, /\[ Release \]\s+\[ Recount \]/, context);
  assert.match(
    out,
    new RegExp(`RELEASED by U0ALICE: the gate finalized ${invoiceOf['Diverging Ltd']} in Stripe, status now "open"`),
    context,
  );
  assert.match(
    out,
    new RegExp(`FINALIZED by Stripe: ${invoiceOf['Matching Co']} \\(Matching Co\\) is now "open"`),
    context,
  );
  // the audit rows
  assert.match(
    out,
    new RegExp(`${invoiceOf['Diverging Ltd']}\\s+Diverging Ltd\\s+1,530\\s+1,500\\s+2 %\\s+released\\s+U0ALICE`),
    context,
  );
  assert.match(
    out,
    new RegExp(`${invoiceOf['Matching Co']}\\s+Matching Co\\s+1,200\\s+1,200\\s+0 %\\s+passed`),
    context,
  );
  assert.doesNotMatch(run.stderr, /demo FAILED/, context);
  // library logs stay quiet: no JSON log lines in the narration
  assert.doesNotMatch(out, /^\{"level"/m, context);
});
