// A new PGlite data directory is initialised in a child process (src/db/pglite-initdb.ts), so initdb's
// memory never lands in the gate's process.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { initPgliteDataDirInChildProcess, pgliteDataDirInitialised } from '../../src/db/pglite-initdb';

test('the child process creates the cluster, which then opens in this process', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'gate-pglite-initdb-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  assert.equal(pgliteDataDirInitialised(dir), false);
  await initPgliteDataDirInChildProcess(dir, PGlite.defaultStartParams, []);
  assert.equal(pgliteDataDirInitialised(dir), true);
  const pglite = new PGlite(dir);
  try {
    assert.deepEqual((await pglite.query('select 1 as one')).rows, [{ one: 1 }]);
  } finally {
    await pglite.close();
  }
});

test('a failed initdb is an error that names the directory', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'gate-pglite-initdb-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const notADirectory = join(dir, 'file');
  writeFileSync(notADirectory, 'x');
  await assert.rejects(
    initPgliteDataDirInChildProcess(notADirectory, PGlite.defaultStartParams, []),
    new RegExp(`creating the PGlite database in ${notADirectory} failed`),
  );
});
