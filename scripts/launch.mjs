#!/usr/bin/env node
// `npm start`, `npm run server`, `npm run worker`: runs the compiled dist/ when `npm run build` made it
// from the sources as they are now, and the TypeScript sources through tsx otherwise (a fresh clone,
// or sources changed since the build). It says which on stderr, once, so old code never runs unnoticed.
// An image has dist/ and no src/: it runs dist/.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { sourceFingerprint } from './source-fingerprint.mjs';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const ROLES = ['start', 'server', 'worker'];

/** 'dist' or 'sources', and why (for the one line this prints). */
export function chooseCode(root) {
  const infoPath = join(root, 'dist', 'build-info.json');
  if (!existsSync(infoPath)) return { run: 'sources', why: 'no dist/ (npm run build makes one)' };
  const info = JSON.parse(readFileSync(infoPath, 'utf8'));
  if (!existsSync(join(root, 'src'))) return { run: 'dist', why: `built ${info.builtAt}` };
  if (info.sourceFingerprint !== sourceFingerprint(root)) {
    return {
      run: 'sources',
      why: 'dist/ is out of date: the sources changed since `npm run build`; rebuild it or delete it',
    };
  }
  return { run: 'dist', why: `built ${info.builtAt} from these sources` };
}

async function main() {
  const role = process.argv[2];
  if (!ROLES.includes(role)) {
    console.error(`usage: launch.mjs ${ROLES.join('|')}`);
    process.exit(2);
  }
  const choice = chooseCode(ROOT);
  if (choice.run === 'dist') {
    process.stderr.write(`invoice-gate: running compiled dist/ (${choice.why})\n`);
    await import(pathToFileURL(join(ROOT, 'dist', 'src', 'bin', `${role}.js`)).href);
  } else {
    process.stderr.write(`invoice-gate: running from sources with tsx (${choice.why})\n`);
    await import('tsx'); // what `node --import tsx` does: TypeScript from here on
    await import(pathToFileURL(join(ROOT, 'src', 'bin', `${role}.ts`)).href);
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) await main();
