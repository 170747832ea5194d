import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

function runCommand(config: unknown, args: string[]) {
  const dir = mkdtempSync(join(tmpdir(), 'ledger-rollup-'));
  try {
    const path = join(dir, 'config.json');
    writeFileSync(path, JSON.stringify(config));
    return spawnSync(process.execPath, ['--import', 'tsx', 'src/bin/ledger-rollup.ts', ...args], {
      encoding: 'utf8',
      env: { PATH: process.env.PATH, INVOICE_GATE_CONFIG: path },
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('--print writes the rollup SQL for the configured mapping, in one transaction', () => {
  const run = runCommand({ ledger: { schema: 'billing', table: 'usage_events', rollup: { table: 'usage_daily' } } }, [
    '--print',
  ]);
  assert.equal(run.status, 0, run.stderr);
  assert.match(run.stdout, /^begin;/);
  assert.match(run.stdout, /create table if not exists "billing"\."usage_daily"/);
  assert.match(run.stdout, /create trigger invoice_gate_rollup_delete after delete on "billing"\."usage_events"/);
  assert.match(run.stdout, /commit;\n$/);
});

test('without ledger.rollup in the config file: exit 2 and says what to set', () => {
  const run = runCommand({}, ['--print']);
  assert.equal(run.status, 2);
  assert.match(run.stderr, /set ledger\.rollup\.table in INVOICE_GATE_CONFIG/);
});
