// @ts-check
// ESLint 9 flat config: typescript-eslint's recommended rules, Prettier owns the layout (eslint-config-prettier
// turns off every rule it would fight), and no-restricted-imports guards the boundaries DEVELOPERS.md draws.
// Flat config does not merge a rule's options across blocks (the last matching block wins), so each file group
// below gets the full list of patterns that applies to it. Import circles in src/ are caught by
// test/lint/import-circles.test.ts (the whole graph, type-only imports included), which npm test runs.
import { builtinModules } from 'node:module';
import js from '@eslint/js';
import { defineConfig } from 'eslint/config';
import prettier from 'eslint-config-prettier';
import globals from 'globals';
import tseslint from 'typescript-eslint';

// The one place in src/ allowed to import emulators/ (start-up wiring for the embedded defaults).
// If it moves or is renamed, change this line.
const EMULATOR_WIRING = 'src/services/embedded-emulators.ts';

// What Temporal bundles into the workflow sandbox: src/workflows and every src module it imports at run time.
// A new value import from src/workflows must be added here, or the closure rule below reports it.
const WORKFLOW_BUNDLE_DIRS = ['src/workflows/**', 'src/gate/**'];
const WORKFLOW_BUNDLE_FILES = ['src/temporal/search-attribute-keys.ts'];

// Known violations on the day the rules landed (issue 16): files still to move. Remove an entry when its file
// moves (shared helpers go to test/support/); the rule holds for every other file.
const KNOWN_TEST_BENCH_CROSSINGS = [
  'test/bench/**', // the tests of bench/'s own code (tests mirror the code they test)
];

/** Import sources are matched as written, so ".."-relative regexes stand for the top-level folders. */
const upTo = (dir) => `^(\\.\\./)+${dir}(/|$)`;

const noEmulatorsFromSrc = {
  regex: upTo('emulators'),
  message: `src/ reaches emulators/ only through the start-up wiring (${EMULATOR_WIRING}).`,
};

// Package names as regexes: a "group" glob such as "stripe/*" would also match "../stripe/invoice-not-found".
const packages = (names) => `^(${names.join('|')})(/|$)`;

const noNodeBuiltins = {
  regex: `^node:|${packages(builtinModules)}`,
  message: 'Node built-ins do not exist in the workflow sandbox; do this in an activity.',
};

const noNodeOnlyPackages = {
  regex: packages([
    '@temporalio/(activity|client|worker|testing)',
    'stripe',
    'kysely',
    'pg',
    '@electric-sql/[^/]+',
    '@slack/[^/]+',
    '@grpc/[^/]+',
    'fastify',
    'pino',
    'prom-client',
    'dotenv',
  ]),
  message: 'Node-only package: the workflow bundle must not pull it in; do this in an activity.',
};

// Bundle members sit at src/<folder>/<file>.ts (depth 1) or src/workflows/<folder>/<file>.ts (depth 2, the
// gate's phases): `up(depth)` is the relative prefix that reaches src/ from there.
const up = (depth) => '\\.\\./'.repeat(depth);

const activityTypesOnly = (depth) => ({
  regex: `^${up(depth)}activities(/|$)`,
  allowTypeImports: true,
  message: 'Workflows import activity *types* only (import type) and call them through proxyActivities.',
});

// Value imports must stay in the bundle; type imports are erased and may come from anywhere. Activities
// have their own message above.
const escapeRegex = (text) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const bundleMembers = [
  ...WORKFLOW_BUNDLE_DIRS.map((glob) => `${escapeRegex(glob.replace(/^src\/|\/\*\*$/g, ''))}(/|$)`),
  ...WORKFLOW_BUNDLE_FILES.map((file) => `${escapeRegex(file.replace(/^src\/|\.ts$/g, ''))}$`),
  'activities(/|$)',
];
const notInBundle =
  'Not part of the workflow bundle (WORKFLOW_BUNDLE_* in eslint.config.mjs): import a type, or move the code.';
const staysInBundle = (depth) => ({
  regex: `^${up(depth)}(?!${bundleMembers.join('|')})`,
  allowTypeImports: true,
  message: notInBundle,
});
const staysInSrc = (depth) => ({ regex: `^${up(depth + 1)}`, allowTypeImports: true, message: notInBundle });
// The single-file members' neighbours are not in the bundle.
const noNeighbours = { ...staysInBundle(1), regex: '^\\./' };

const workflowBundlePatterns = (depth) => [
  noEmulatorsFromSrc,
  noNodeBuiltins,
  noNodeOnlyPackages,
  activityTypesOnly(depth),
  staysInBundle(depth),
  staysInSrc(depth),
];

const restrict = (patterns) => ({ 'no-restricted-imports': ['error', { patterns }] });

// import() and require() escape no-restricted-imports; the workflow bundle needs neither.
const noDynamicImports = {
  'no-restricted-syntax': [
    'error',
    { selector: 'ImportExpression', message: 'No dynamic import() in the workflow bundle: import statically.' },
    {
      selector: "CallExpression[callee.name='require']",
      message: 'No require() in the workflow bundle: import statically.',
    },
  ],
};

export default defineConfig(
  { ignores: ['node_modules/', 'dist/', '.data/', 'bench/results/'] },
  js.configs.recommended,
  tseslint.configs.recommendedTypeChecked,
  { languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } } },
  {
    rules: {
      // Fired 70 times on sound code: Kysely<any> for the runtime-configured ledger table and migrations (Kysely's
      // own idiom), untyped gRPC/proto payloads in the Temporal emulator, error callbacks in tests.
      '@typescript-eslint/no-explicit-any': 'off',
      // The same `any`s, seen from their uses (~1,100 reports: proto payloads in the Temporal emulator, Kysely<any>).
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      // node:test's describe/it return promises the runner itself awaits.
      '@typescript-eslint/no-floating-promises': [
        'error',
        {
          allowForKnownSafeCalls: [
            { from: 'package', package: 'node:test', name: ['describe', 'it', 'test', 'suite'] },
          ],
        },
      ],
      // Async functions that implement an async interface without awaiting (emulator handlers, test doubles): 79.
      '@typescript-eslint/require-await': 'off',
      // Harmless and auto-fixable (32 today); turn on with the formatting pass: `eslint --fix` removes them.
      '@typescript-eslint/no-unnecessary-type-assertion': 'off',
      // `unknown | null` in the Temporal emulator's signatures says "nothing to dispatch"; 8 reports.
      '@typescript-eslint/no-redundant-type-constituents': 'off',
      // Stringifying caught `unknown`s and wire values into messages is deliberate (11 reports in all).
      '@typescript-eslint/no-base-to-string': 'off',
      '@typescript-eslint/restrict-template-expressions': 'off',
      // gRPC status and Slack error codes are compared with the wire values they stand for.
      '@typescript-eslint/no-unsafe-enum-comparison': 'off',
      // Rethrowing a caught error as a rejection keeps it as it was.
      '@typescript-eslint/prefer-promise-reject-errors': ['error', { allowThrowingUnknown: true }],
      // `const { notes, ...rest } = x` is how the code drops a key.
      '@typescript-eslint/no-unused-vars': ['error', { ignoreRestSiblings: true }],
    },
  },
  {
    // Plain JavaScript (this file, scripts/run-tests.mjs) is outside tsconfig.json: no type information.
    files: ['**/*.mjs', '**/*.cjs', '**/*.js'],
    extends: [tseslint.configs.disableTypeChecked],
    languageOptions: { globals: globals.node },
  },

  // Boundaries (DEVELOPERS.md "Layout").
  { files: ['src/**'], ignores: [EMULATOR_WIRING], rules: restrict([noEmulatorsFromSrc]) },
  { files: WORKFLOW_BUNDLE_DIRS, rules: { ...restrict(workflowBundlePatterns(1)), ...noDynamicImports } },
  { files: ['src/workflows/*/**'], rules: { ...restrict(workflowBundlePatterns(2)), ...noDynamicImports } },
  {
    files: WORKFLOW_BUNDLE_FILES,
    rules: { ...restrict([...workflowBundlePatterns(1), noNeighbours]), ...noDynamicImports },
  },
  {
    files: ['emulators/**'],
    rules: restrict([{ regex: upTo('src'), message: 'Emulators stand alone: import nothing from src/.' }]),
  },
  {
    files: ['bench/**'],
    ignores: KNOWN_TEST_BENCH_CROSSINGS,
    rules: restrict([
      {
        regex: '^(\\.\\./)+test(/(?!support(/|$))|$)',
        message: 'bench/ may import test/support/ only; move shared helpers there.',
      },
    ]),
  },
  {
    files: ['test/**'],
    ignores: KNOWN_TEST_BENCH_CROSSINGS,
    rules: restrict([
      { regex: upTo('bench'), message: 'Tests do not import bench/; move shared code to test/support/.' },
    ]),
  },

  prettier,
);
