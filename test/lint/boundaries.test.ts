// The import boundaries in eslint.config.mjs, exercised on in-memory snippets so a rule that stops
// matching (a renamed folder, a wrong pattern) fails here instead of silently letting imports through.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { ESLint } from 'eslint';
import tseslint from 'typescript-eslint';

// The boundary rule needs no type information; dropping it keeps each lintText call fast.
const eslint = new ESLint({ cwd: join(__dirname, '../..'), overrideConfig: tseslint.configs.disableTypeChecked });

/** The no-restricted-imports reports for `code` placed at `filePath`; fails on a parse error. */
async function restrictedImports(filePath: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(`${code}\nexport {};\n`, { filePath });
  assert.ok(result, `no lint result for ${filePath}`);
  const fatal = result.messages.filter((m) => m.fatal);
  assert.deepEqual(fatal, [], `${filePath} did not parse`);
  return result.messages.filter((m) => m.ruleId === 'no-restricted-imports').map((m) => m.message);
}

async function assertReported(filePath: string, code: string, why: RegExp): Promise<void> {
  const messages = await restrictedImports(filePath, code);
  assert.equal(messages.length, 1, `expected one report for ${code} in ${filePath}, got ${JSON.stringify(messages)}`);
  assert.match(messages[0], why);
}

async function assertAllowed(filePath: string, code: string): Promise<void> {
  assert.deepEqual(await restrictedImports(filePath, code), [], `${code} in ${filePath}`);
}

describe('workflow bundle', () => {
  const workflow = 'src/workflows/new-workflow.ts';

  it('rejects Node built-ins, with or without the node: prefix', async () => {
    await assertReported(workflow, `import { readFileSync } from 'node:fs';`, /Node built-ins/);
    await assertReported(workflow, `import { randomUUID } from 'crypto';`, /Node built-ins/);
    await assertReported(workflow, `import { join } from 'path';`, /Node built-ins/);
    await assertReported(workflow, `import { readFile } from 'fs/promises';`, /Node built-ins/);
    await assertReported(
      'src/gate/new-rule.ts',
      `import { setTimeout } from 'node:timers/promises';`,
      /Node built-ins/,
    );
  });

  it('rejects Node-only packages', async () => {
    for (const pkg of [
      '@temporalio/activity',
      '@temporalio/worker',
      '@temporalio/client',
      'stripe',
      'kysely',
      'pg',
      '@slack/web-api',
      '@slack/bolt',
      'fastify',
      'pino',
    ]) {
      await assertReported(workflow, `import * as m from '${pkg}'; void m;`, /Node-only package/);
    }
  });

  it('allows activity types and rejects activity values', async () => {
    await assertAllowed(workflow, `import type { GateActivities } from '../activities';`);
    await assertAllowed(workflow, `import { type GateActivities } from '../activities';`);
    await assertReported(workflow, `import { createActivities } from '../activities';`, /activity \*types\* only/);
    await assertReported(workflow, `import { auditActivities } from '../activities/audit';`, /activity \*types\* only/);
  });

  it('allows what the workflow sandbox provides and the bundle members', async () => {
    await assertAllowed(workflow, `import { proxyActivities, condition } from '@temporalio/workflow';`);
    await assertAllowed(workflow, `import { compareInvoice } from '../gate/compare';`);
    await assertAllowed(workflow, `import { StripeInvoiceIdKey } from '../temporal/search-attribute-keys';`);
    await assertAllowed(workflow, `import { FailureType } from '../gate/failures';`);
    await assertAllowed(workflow, `import { invoiceGate } from './invoice-gate';`);
    await assertAllowed('src/gate/new-rule.ts', `import Decimal from 'decimal.js';`);
  });

  it('rejects value imports of src modules outside the bundle, but not their types', async () => {
    await assertReported(
      workflow,
      `import { readInvoice } from '../stripe/read-invoice';`,
      /Not part of the workflow bundle/,
    );
    await assertReported(workflow, `import { parseConfig } from '../config/env';`, /Not part of the workflow bundle/);
    await assertReported(
      'src/temporal/search-attribute-keys.ts',
      `import { x } from './search-attributes';`,
      /Not part of the workflow bundle/,
    );
    await assertAllowed(workflow, `import type { AppConfig } from '../config/env';`);
  });

  it('holds one folder down too (src/workflows/gate/)', async () => {
    const phase = 'src/workflows/gate/new-phase.ts';
    await assertAllowed(phase, `import { audit } from '../activities';`);
    await assertAllowed(phase, `import { gateWorkflowId } from '../definitions';`);
    await assertAllowed(phase, `import { compareInvoice } from '../../gate/compare';`);
    await assertAllowed(phase, `import { StripeInvoiceIdKey } from '../../temporal/search-attribute-keys';`);
    await assertAllowed(phase, `import type { GateActivities } from '../../activities';`);
    await assertReported(phase, `import { createActivities } from '../../activities';`, /activity \*types\* only/);
    await assertReported(
      phase,
      `import { readInvoice } from '../../stripe/read-invoice';`,
      /Not part of the workflow bundle/,
    );
    await assertReported(phase, `import { readFileSync } from 'node:fs';`, /Node built-ins/);
  });

  it('rejects import() and require(), which no-restricted-imports cannot see', async () => {
    const [result] = await eslint.lintText(
      `export async function f() { await import('node:fs'); return require('stripe'); }\n`,
      { filePath: workflow },
    );
    const syntax = result?.messages.filter((m) => m.ruleId === 'no-restricted-syntax').map((m) => m.message);
    assert.deepEqual(syntax, [
      'No dynamic import() in the workflow bundle: import statically.',
      'No require() in the workflow bundle: import statically.',
    ]);
  });
});

describe('src and emulators', () => {
  it('keeps emulators/ out of src/ except the start-up wiring', async () => {
    await assertReported('src/app.ts', `import { startStripeEmulator } from '../emulators/stripe';`, /start-up wiring/);
    await assertReported('src/slack/new.ts', `import { x } from '../../emulators/slack/state';`, /start-up wiring/);
    await assertAllowed(
      'src/services/embedded-emulators.ts',
      `import { startStripeEmulator } from '../../emulators/stripe';`,
    );
    await assertReported(
      'src/services/resolve-services.ts',
      `import { startStripeEmulator } from '../../emulators/stripe';`,
      /start-up wiring/,
    );
  });

  it('keeps src/ out of emulators/', async () => {
    await assertReported(
      'emulators/stripe/new.ts',
      `import type { GateState } from '../../src/gate/types';`,
      /import nothing from src/,
    );
    await assertReported('emulators/cli.ts', `import { main } from '../src/main';`, /import nothing from src/);
    await assertAllowed('emulators/stripe/new.ts', `import { startStripeEmulator } from '../stripe';`);
  });
});

describe('test and bench', () => {
  it('lets bench/ import test/support/ only', async () => {
    await assertReported(
      'bench/new-bench.ts',
      `import { startGateHarness } from '../test/e2e/harness';`,
      /test\/support/,
    );
    await assertAllowed('bench/new-bench.ts', `import { startGateHarness } from '../test/support/gate-harness';`);
  });

  it('keeps bench/ out of test/', async () => {
    await assertReported(
      'test/e2e/new.test.ts',
      `import { runMonthEndBench } from '../../bench/month-end';`,
      /do not import bench/,
    );
    await assertAllowed('test/e2e/new.test.ts', `import { startGateHarness } from './harness';`);
  });
});
