// No Docker engine in CI: the Dockerfile is linted (dockerfile-utils, the validator behind VS Code's
// Dockerfile support) and its structure checked here; the build stage's commands (npm ci, npm run
// build) run for real in test/build/build-and-start.test.ts and in .ci/run.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { join } from 'node:path';
import { DockerfileParser, type Instruction } from 'dockerfile-ast';
import { validate, ValidationSeverity, type ValidatorSettings } from 'dockerfile-utils';
import { REPO_ROOT } from '../support/gate-process';

const text = readFileSync(join(REPO_ROOT, 'Dockerfile'), 'utf8');
const packageJson = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as {
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
  scripts: Record<string, string>;
};

/** Every rule the validator has, as an error. */
const strict: ValidatorSettings = {
  deprecatedMaintainer: ValidationSeverity.ERROR,
  directiveCasing: ValidationSeverity.ERROR,
  emptyContinuationLine: ValidationSeverity.ERROR,
  instructionCasing: ValidationSeverity.ERROR,
  instructionCmdMultiple: ValidationSeverity.ERROR,
  instructionEntrypointMultiple: ValidationSeverity.ERROR,
  instructionHealthcheckMultiple: ValidationSeverity.ERROR,
  instructionJSONInSingleQuotes: ValidationSeverity.ERROR,
  instructionWorkdirRelative: ValidationSeverity.ERROR,
};

interface Stage {
  name: string | null;
  image: string;
  instructions: Array<{ keyword: string; args: string }>;
}

function stages(dockerfile: string): Stage[] {
  const result: Stage[] = [];
  for (const instruction of DockerfileParser.parse(dockerfile).getInstructions() as Instruction[]) {
    const keyword = instruction.getKeyword();
    // flags (--from=, --interval=, ...) first, then the arguments, continuation lines joined
    const flags = 'getFlags' in instruction ? (instruction as unknown as { getFlags(): object[] }).getFlags() : [];
    const content = (instruction.getArgumentsContent() ?? '').replace(/\\\n\s*/g, '').trim();
    const args = [...flags.map(String), content].join(' ');
    if (keyword === 'FROM') {
      const [image, as, name] = args.split(/\s+/);
      result.push({ name: as?.toUpperCase() === 'AS' ? name : null, image, instructions: [] });
    } else {
      result.at(-1)!.instructions.push({ keyword, args });
    }
  }
  return result;
}

const [build, runtime] = stages(text);
const all = (stage: Stage, keyword: string) =>
  stage.instructions.filter((i) => i.keyword === keyword).map((i) => i.args);

describe('Dockerfile', () => {
  it('passes the linter with every rule as an error', () => {
    assert.deepEqual(validate(text, strict), []);
  });

  it('the linter does reject a broken Dockerfile', () => {
    const broken = text.replace('WORKDIR /app', 'WORKDIR app').replace('COPY src ./src', 'COPPY src ./src');
    const messages = validate(broken, strict).map((d) => d.message);
    assert.ok(messages.length >= 2, JSON.stringify(messages));
  });

  it('has two stages on the same Node 20 base: a build stage and the final one', () => {
    assert.equal(stages(text).length, 2);
    assert.equal(build.name, 'build');
    assert.equal(runtime.name, 'runtime');
    assert.match(build.image, /^node:20-/);
    assert.equal(runtime.image, build.image);
  });

  it('the build stage installs everything and runs npm run build, copying only files that exist', () => {
    assert.deepEqual(all(build, 'RUN'), ['npm ci --no-audit --no-fund', 'npm run build']);
    assert.equal(packageJson.scripts.build, 'node scripts/build.mjs');
    for (const copy of all(build, 'COPY')) {
      const sources = copy.split(/\s+/).slice(0, -1);
      for (const source of sources) assert.ok(existsSync(join(REPO_ROOT, source)), `${source} (COPY ${copy})`);
    }
  });

  it('the final stage has production dependencies and dist/ only, and runs as the node user', () => {
    assert.deepEqual(all(runtime, 'RUN'), ['npm ci --omit=dev --no-audit --no-fund && npm cache clean --force']);
    assert.deepEqual(all(runtime, 'COPY'), ['package.json package-lock.json ./', '--from=build /app/dist ./dist']);
    assert.deepEqual(all(runtime, 'USER'), ['node']);
    const user = runtime.instructions.findIndex((i) => i.keyword === 'USER');
    const cmd = runtime.instructions.findIndex((i) => i.keyword === 'CMD');
    assert.ok(user >= 0 && user < cmd, 'USER comes before the command');
    // listens on all interfaces inside the container (the contract's default is 127.0.0.1)
    assert.match(all(runtime, 'ENV').join(' '), /HOST=0\.0\.0\.0/);
  });

  it('checks /healthz, stops on SIGTERM and runs the server role by default (the worker with another command)', () => {
    const [healthcheck] = all(runtime, 'HEALTHCHECK');
    assert.match(healthcheck, /^--interval=\S+ --timeout=\S+ --start-period=\S+ --retries=\d+ CMD \[/);
    assert.match(healthcheck, /\/healthz/);
    assert.deepEqual(all(runtime, 'STOPSIGNAL'), ['SIGTERM']);
    assert.deepEqual(JSON.parse(all(runtime, 'CMD')[0]), ['node', 'dist/src/bin/server.js']);
    // both roles' entry points are what the build emits
    for (const role of ['server', 'worker']) assert.ok(existsSync(join(REPO_ROOT, 'src', 'bin', `${role}.ts`)));
  });

  it('.dockerignore keeps secrets, local data, build output and node_modules out of the context', () => {
    const ignored = readFileSync(join(REPO_ROOT, '.dockerignore'), 'utf8').split('\n');
    for (const entry of ['.env', '.data/', 'dist/', 'node_modules/', '.git/'])
      assert.ok(ignored.includes(entry), entry);
  });
});

/** Bare package names imported at run time (not `import type`) by the files under `dir`. */
function runtimeImports(dir: string): Map<string, string[]> {
  const found = new Map<string, string[]>();
  const visit = (path: string) => {
    if (statSync(path).isDirectory()) return readdirSync(path).forEach((name) => visit(join(path, name)));
    if (!path.endsWith('.ts') || path.endsWith('.d.ts')) return;
    const source = readFileSync(path, 'utf8');
    const specifiers = [
      ...[...source.matchAll(/^import (?!type )[^;]*?from '([^']+)'/gms)].map((m) => m[1]),
      ...[...source.matchAll(/\b(?:import|require(?:\.resolve)?)\('([^']+)'\)/g)].map((m) => m[1]),
    ];
    for (const specifier of specifiers) {
      if (specifier.startsWith('.') || specifier.startsWith('node:') || builtinModules.includes(specifier)) continue;
      const name = specifier.startsWith('@') ? specifier.split('/').slice(0, 2).join('/') : specifier.split('/')[0];
      found.set(name, [...(found.get(name) ?? []), path.slice(REPO_ROOT.length + 1)]);
    }
  };
  visit(join(REPO_ROOT, dir));
  return found;
}

describe('the final stage installs production dependencies only', () => {
  it('every package src/ loads at run time is a dependency; PGlite (embedded database) only lazily', () => {
    const imports = runtimeImports('src');
    // Loaded only when DATABASE_URL is unset (src/db/pglite-dialect.ts, by dynamic import) and checked up
    // front with a message naming DATABASE_URL (src/services/embedded-emulators.ts).
    const embeddedOnly = new Set(['@electric-sql/pglite']);
    for (const [name, files] of imports) {
      if (embeddedOnly.has(name)) {
        assert.ok(name in packageJson.devDependencies, name);
        continue;
      }
      assert.ok(name in packageJson.dependencies, `${name} (imported by ${files.join(', ')}) must be a dependency`);
    }
    assert.ok(imports.has('@temporalio/worker') && imports.has('fastify'), 'the scan sees imports');
  });
});
