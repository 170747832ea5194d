// Time-skipping locks left behind by one test environment (issue 22): TestService locks count per
// client connection (HTTP/2 session), so what a connection leaves locked is released when it
// closes (another test process ending mid-test), and the next environment on the same engine
// starts from the engine's default. resetTimeSkipping() does it explicitly for clients of the same
// process, which share their connections.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { after, before, describe, it } from 'node:test';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { createTestActivities } from './activities';
import { emulatorOnly, runWorker, startTestEnv, uniqueId, type RunningWorker, type TestEnv } from './helpers';

const DAY = 24 * 3600_000;

/** A time-skipping TestWorkflowEnvironment on the engine (`create` is private in the typings only). */
function timeSkippingEnvironment(env: TestEnv): Promise<TestWorkflowEnvironment> {
  return (TestWorkflowEnvironment as any).create({
    server: { type: 'existing' },
    supportsTimeSkipping: true,
    address: env.address,
    namespace: env.namespace,
  });
}

describe('temporal conformance: time-skipping locks between environments', emulatorOnly('TestService'), () => {
  let env: TestEnv;
  let worker: RunningWorker;
  before(async () => {
    env = await startTestEnv({ timeSkipping: true });
    worker = await runWorker(env, { activities: createTestActivities() });
  });
  after(async () => {
    await worker?.stop();
    await env?.stop();
  });

  /** A 1-day workflow timer, awaited with a plain client: quick only while the clock may jump. */
  async function sleepsADayQuickly(): Promise<boolean> {
    const handle = await env.client.workflow.start('sleeper', {
      taskQueue: worker.taskQueue,
      workflowId: uniqueId('sleeper'),
      args: [DAY],
    });
    const quick = await Promise.race([
      handle.result().then(() => true),
      new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 3_000)),
    ]);
    if (!quick) await handle.terminate('test cleanup');
    return quick;
  }

  it('releases the locks of a client process that ended holding them', async () => {
    // Another test process that locked time skipping twice and ended mid-test. (Clients in one
    // process share their HTTP/2 connections, so in-process leftovers need resetTimeSkipping().)
    const script = `
      const { TestWorkflowEnvironment } = require('@temporalio/testing');
      TestWorkflowEnvironment.create({ server: { type: 'existing' }, supportsTimeSkipping: true,
        address: process.argv[1], namespace: 'default' })
        .then(async (env) => {
          await env.connection.testService.lockTimeSkipping({});
          await env.connection.testService.lockTimeSkipping({});
          process.send('locked');
          setInterval(() => {}, 1000);
        });`;
    const child = spawn(process.execPath, ['-e', script, env.address], {
      stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
    });
    await once(child, 'message');
    assert.equal(await sleepsADayQuickly(), false, 'locked while that process is connected');
    child.kill('SIGKILL');
    await once(child, 'exit');
    assert.equal(await sleepsADayQuickly(), true, 'the next client finds time skipping as the engine started');
  });

  it('resetTimeSkipping() unlocks what a connected client left locked', async () => {
    const testEnv = await timeSkippingEnvironment(env);
    await testEnv.connection.testService!.lockTimeSkipping({});
    assert.equal(await sleepsADayQuickly(), false);
    env.emulator!.resetTimeSkipping();
    assert.equal(await sleepsADayQuickly(), true);
    await testEnv.teardown();
  });
});
