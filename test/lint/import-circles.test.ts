// No import circles in src/ (DEVELOPERS.md "Layout": dependencies point one way). Type-only imports count:
// a type-only circle is still two modules that cannot be read, moved or tested one without the other.
// The graph is read with TypeScript's own import scanner (static, type-only, re-exports and literal
// import()), and circles are its strongly connected components (Tarjan).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';

const repo = join(__dirname, '../..');

/** Every .ts file under `dir` (declaration files have no imports worth following). */
function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts') ? [path] : [];
  });
}

/** The file of `files` a relative specifier names, as TypeScript resolves it (`./x` -> x.ts or x/index.ts). */
function resolveRelative(from: string, specifier: string, files: Set<string>): string | null {
  const base = resolve(dirname(from), specifier.replace(/\.js$/, ''));
  return [base, `${base}.ts`, join(base, 'index.ts')].find((candidate) => files.has(candidate)) ?? null;
}

/** file -> the files it imports (relative imports within the tree only). */
export function importGraph(files: string[], read: (file: string) => string = (f) => readFileSync(f, 'utf8')) {
  const known = new Set(files);
  const graph = new Map<string, string[]>();
  for (const file of files) {
    const { importedFiles } = ts.preProcessFile(read(file), true, true);
    const targets = importedFiles
      .filter(({ fileName }) => fileName.startsWith('.'))
      .map(({ fileName }) => resolveRelative(file, fileName, known))
      .filter((target): target is string => target !== null && target !== file);
    graph.set(file, [...new Set(targets)]);
  }
  return graph;
}

/** The circles of a graph: its strongly connected components of more than one file (Tarjan). */
export function importCircles(graph: Map<string, string[]>): string[][] {
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const circles: string[][] = [];
  const visit = (file: string): void => {
    index.set(file, next);
    low.set(file, next);
    next += 1;
    stack.push(file);
    onStack.add(file);
    for (const target of graph.get(file) ?? []) {
      if (!index.has(target)) {
        visit(target);
        low.set(file, Math.min(low.get(file)!, low.get(target)!));
      } else if (onStack.has(target)) {
        low.set(file, Math.min(low.get(file)!, index.get(target)!));
      }
    }
    if (low.get(file) !== index.get(file)) return;
    const component: string[] = [];
    let member: string;
    do {
      member = stack.pop()!;
      onStack.delete(member);
      component.push(member);
    } while (member !== file);
    if (component.length > 1) circles.push(component.sort());
  };
  for (const file of graph.keys()) if (!index.has(file)) visit(file);
  return circles;
}

describe('import circles', () => {
  it('src/ has none, type-only imports included', () => {
    const circles = importCircles(importGraph(sourceFiles(join(repo, 'src'))));
    const named = circles.map((circle) => circle.map((file) => relative(repo, file)).join(' -> '));
    assert.deepEqual(named, [], 'break each circle: move the shared part into a module both sides import');
  });

  it('finds a circle, type-only or through a re-export, and none in a chain', () => {
    const sources: Record<string, string> = {
      '/t/a.ts': `import type { B } from './b';`,
      '/t/b.ts': `export { c } from './c/index.js';`,
      '/t/c/index.ts': `import { a } from '../a'; const later = () => import('../d');`,
      '/t/d.ts': `import { e } from './e';`,
      '/t/e.ts': `export const e = 1;`,
    };
    const graph = importGraph(Object.keys(sources), (file) => sources[file]!);
    assert.deepEqual(graph.get('/t/c/index.ts'), ['/t/a.ts', '/t/d.ts']);
    assert.deepEqual(importCircles(graph), [['/t/a.ts', '/t/b.ts', '/t/c/index.ts']]);
  });
});
