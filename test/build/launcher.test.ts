// scripts/launch.mjs (npm start / server / worker) runs dist/ only when it was built from the sources
// as they are now; otherwise the sources through tsx. Checked on scratch trees.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from '../support/gate-process';

/** Runs a snippet with the launcher's and the fingerprint's exports in scope; returns its JSON output. */
function run(snippet: string, root: string): any {
  const script = `
    const { chooseCode } = await import(${JSON.stringify(join(REPO_ROOT, 'scripts/launch.mjs'))});
    const { sourceFingerprint } = await import(${JSON.stringify(join(REPO_ROOT, 'scripts/source-fingerprint.mjs'))});
    const root = process.argv[1];
    process.stdout.write(JSON.stringify(${snippet}));
  `;
  const result = spawnSync(process.execPath, ['--input-type=module', '-e', script, root], { encoding: 'utf8' });
  assert.equal(result.status, 0, result.stderr);
  return JSON.parse(result.stdout);
}

function scratchTree(): string {
  const root = mkdtempSync(join(tmpdir(), 'gate-launch-'));
  mkdirSync(join(root, 'src', 'bin'), { recursive: true });
  writeFileSync(join(root, 'src', 'bin', 'start.ts'), 'console.log(1);\n');
  writeFileSync(join(root, 'package-lock.json'), '{}\n');
  return root;
}

function build(root: string, fingerprint: string): void {
  mkdirSync(join(root, 'dist'), { recursive: true });
  writeFileSync(
    join(root, 'dist', 'build-info.json'),
    JSON.stringify({ sourceFingerprint: fingerprint, builtAt: '2026-11-29T00:00:00.000Z' }),
  );
}

describe('which code npm start runs', () => {
  it('a fresh clone (no dist/): the sources', () => {
    const root = scratchTree();
    try {
      assert.equal(run('chooseCode(root)', root).run, 'sources');
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it('dist/ built from these sources: dist/; after any source change: the sources, saying dist/ is out of date', () => {
    const root = scratchTree();
    try {
      build(root, run('sourceFingerprint(root)', root));
      assert.equal(run('chooseCode(root)', root).run, 'dist');
      writeFileSync(join(root, 'src', 'bin', 'start.ts'), 'console.log(2);\n');
      const stale = run('chooseCode(root)', root);
      assert.equal(stale.run, 'sources');
      assert.match(stale.why, /out of date/);
      // a new file counts too, and so does the lock file
      writeFileSync(join(root, 'src', 'bin', 'start.ts'), 'console.log(1);\n');
      assert.equal(run('chooseCode(root)', root).run, 'dist');
      writeFileSync(join(root, 'src', 'extra.ts'), '\n');
      assert.equal(run('chooseCode(root)', root).run, 'sources');
      rmSync(join(root, 'src', 'extra.ts'));
      writeFileSync(join(root, 'package-lock.json'), '{"changed":true}\n');
      assert.equal(run('chooseCode(root)', root).run, 'sources');
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it('an image (dist/ and no src/): dist/', () => {
    const root = scratchTree();
    try {
      build(root, 'anything');
      rmSync(join(root, 'src'), { recursive: true });
      assert.equal(run('chooseCode(root)', root).run, 'dist');
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it('an unknown role gets the usage and exit 2', () => {
    const result = spawnSync(process.execPath, [join(REPO_ROOT, 'scripts/launch.mjs'), 'nonsense'], {
      encoding: 'utf8',
    });
    assert.equal(result.status, 2);
    assert.match(result.stderr, /usage: launch\.mjs start\|server\|worker/);
  });
});
