// tsconfig uses `moduleResolution: node`, which ignores package.json "exports"; this declares the
// one PGlite subpath export we use (runtime resolution through "exports" works under Node and tsx).
declare module '@electric-sql/pglite/node-postgres' {
  import type { PGlite } from '@electric-sql/pglite';
  /** Connection settings for `new pg.Pool(...)` that talk to the given PGlite instance. */
  export function createPgConfig(pglite: PGlite): object;
}
