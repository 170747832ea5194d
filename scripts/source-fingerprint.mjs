// What `npm run build` compiles, reduced to one hash: the build stores it in dist/build-info.json and
// the launcher (scripts/launch.mjs) runs dist/ only while the sources still hash the same.
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

/** The inputs of the build: compiled trees, plus what changes how they compile or resolve. */
export const BUILD_INPUTS = ['src', 'emulators', 'tsconfig.json', 'tsconfig.build.json', 'package-lock.json'];

function files(root, path) {
  if (!existsSync(path)) return [];
  if (!statSync(path).isDirectory()) return [path];
  return readdirSync(path)
    .sort()
    .flatMap((name) => files(root, join(path, name)));
}

/** sha256 over every input file's path and content, in a fixed order. */
export function sourceFingerprint(root) {
  const hash = createHash('sha256');
  for (const input of BUILD_INPUTS) {
    for (const file of files(root, join(root, input))) {
      hash.update(relative(root, file).split('\\').join('/'));
      hash.update('\0');
      hash.update(readFileSync(file));
      hash.update('\0');
    }
  }
  return hash.digest('hex');
}
