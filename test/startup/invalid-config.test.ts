import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

test('npm start refuses a bad configuration, naming each bad variable, and exits non-zero', () => {
  const root = join(__dirname, '..', '..');
  const result = spawnSync(process.execPath, ['--import', 'tsx', 'src/bin/start.ts'], {
    cwd: root,
    env: {
      ...process.env,
      PORT: 'eighty',
      GATE_TOLERANCE_PCT: '-5',
      DATABASE_URL: 'mysql://nope',
      INVOICE_GATE_CONFIG: '',
    },
    encoding: 'utf8',
    timeout: 30_000,
  });
  assert.equal(result.status, 1, result.stderr);
  assert.match(result.stderr, /invalid configuration/);
  assert.match(result.stderr, /PORT/);
  assert.match(result.stderr, /GATE_TOLERANCE_PCT/);
  assert.match(result.stderr, /DATABASE_URL/);
  assert.doesNotMatch(result.stdout, /starting invoice-gate/);
});
