// `npm run audit` as an operator runs it: a child process on a scratch database.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { sql, type Kysely } from 'kysely';
import { createDatabase, migrateToLatest, type GateDatabase } from '../../src/db';
import { DecisionLog } from '../../src/audit/decision-log';
import { REPO_ROOT, TSX_LOADER, cleanEnvironment, createScratchDatabase } from '../support/gate-process';

const run = promisify(execFile);

let scratch: { url: string; drop(): Promise<void> };
let db: Kysely<GateDatabase>;
let dir: string;

before(async () => {
  scratch = await createScratchDatabase('audit_cli');
  db = createDatabase(scratch.url, { maxConnections: 2 });
  await migrateToLatest(db);
  const log = new DecisionLog(db);
  const base = { invoiceId: 'in_1', action: 'release', channel: 'slack', gateStatus: 'held', currency: 'usd' };
  await log.append({
    ...base,
    reviewer: 'U_ALICE',
    reason: 'ledger_late',
    accepted: true,
    at: new Date('2026-12-01T09:00:00Z'),
  });
  await log.append({
    ...base,
    reviewer: 'U_ALICE',
    action: 'approve',
    accepted: false,
    refusal: 'same_approver: =cmd| the first approver cannot approve again',
    at: new Date('2026-12-02T09:00:00Z'),
  });
  await log.append({
    ...base,
    reviewer: 'U_BOB',
    action: 'approve',
    accepted: true,
    moneyAtStake: '75000',
    at: new Date('2026-12-03T09:00:00Z'),
  });
  dir = await mkdtemp(join(tmpdir(), 'audit-cli-'));
});
after(async () => {
  await db.destroy();
  await scratch.drop();
});

async function audit(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, ['--import', TSX_LOADER, 'src/bin/audit.ts', ...args], {
      cwd: REPO_ROOT,
      env: cleanEnvironment({ DATABASE_URL: scratch.url }),
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

test('verify: an intact log exits 0 with its row count and head hash', async () => {
  const result = await audit('verify');
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stdout, /decision log intact: 3 rows, head hash [0-9a-f]{64}/);
});

test('export writes the window as CSV, --until inclusive, chain columns included', async () => {
  const out = join(dir, 'decisions.csv');
  const result = await audit('export', '--since', '2026-12-02', '--until', '2026-12-03', '--out', out);
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stdout, /wrote 2 decision log rows/);
  const lines = (await readFile(out, 'utf8')).split('\r\n').filter(Boolean);
  assert.equal(lines.length, 3);
  assert.match(lines[0]!, /^seq,at,invoice_id,reviewer,action,reason,note,accepted,refusal,channel,/);
  assert.match(lines[1]!, /^2,2026-12-02T09:00:00.000Z,in_1,U_ALICE,approve,,,false,/);
  assert.match(
    lines[2]!,
    /^3,2026-12-03T09:00:00.000Z,in_1,U_BOB,approve,,,true,,slack,held,75000,usd,[0-9a-f]{64},[0-9a-f]{64}$/,
  );
});

test('bad arguments exit 2 with the usage', async () => {
  const missing = await audit('export', '--since', '2026-12-01');
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /--out is required/);
  assert.match(missing.stderr, /usage: npm run audit/);
  const unknown = await audit('erase');
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /unknown command "erase"/);
});

test('verify names the first row edited by hand and exits 1', async () => {
  await sql`update invoice_gate.decision_log set reviewer = 'U_MALLORY' where seq = 2`.execute(db);
  const result = await audit('verify');
  assert.equal(result.code, 1);
  assert.match(result.stdout, /first row that does not match: 2/);
  assert.match(result.stdout, /row 2: its fields do not match its hash/);
});
