// temporalio/samples-typescript's timer-examples test, reproduced on the engine through a
// time-skipping TestWorkflowEnvironment: an activity that calls env.sleep('2 days') while the
// workflow's 1-day timer is pending lets virtual time move past that timer (issue 22).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode, Worker } from '@temporalio/worker';
import { emulatorOnly, startTestEnv, uniqueId, uniqueTaskQueue, type TestEnv } from './helpers';
import type { OrderActivities } from './sample-workflows';

const DAY = 24 * 3600_000;

describe(
  'temporal conformance: samples on a time-skipping TestWorkflowEnvironment',
  emulatorOnly('TestService'),
  () => {
    let env: TestEnv;
    let testEnv: TestWorkflowEnvironment;
    let workflowBundle: { code: string };
    before(async () => {
      env = await startTestEnv();
      // createFromExistingServer has no time skipping; the samples use createTimeSkipping, whose
      // environment is the same one with supportsTimeSkipping (private in the typings only).
      testEnv = await (TestWorkflowEnvironment as any).create({
        server: { type: 'existing' },
        supportsTimeSkipping: true,
        address: env.address,
        namespace: env.namespace,
      });
      workflowBundle = await bundleWorkflowCode({
        workflowsPath: require.resolve('./sample-workflows'),
        logger: { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error() {} } as any,
      });
    });
    after(async () => {
      await testEnv?.teardown();
      await env?.stop();
    });

    async function runOrder(activities: OrderActivities): Promise<void> {
      const taskQueue = uniqueTaskQueue('timer-examples');
      const worker = await Worker.create({
        connection: testEnv.nativeConnection,
        taskQueue,
        workflowBundle,
        activities,
      });
      await worker.runUntil(
        testEnv.client.workflow.execute('processOrderWorkflow', {
          taskQueue,
          workflowId: uniqueId('order'),
          args: [3 * DAY, DAY],
        }),
      );
    }

    it('timer-examples: the reminder goes out while processOrder sleeps 2 days in env.sleep', async () => {
      let emailSent = false;
      const startedAt = await testEnv.currentTimeMs();
      await runOrder({
        async processOrder() {
          await testEnv.sleep('2 days');
        },
        async sendNotificationEmail() {
          emailSent = true;
        },
      });
      assert.ok(emailSent, 'the 1-day timer fired while the activity slept');
      assert.ok((await testEnv.currentTimeMs()) - startedAt >= 2 * DAY, 'virtual time moved past the sleep');
    });

    it('timer-examples: no reminder when processing finishes in time', async () => {
      let emailSent = false;
      await runOrder({
        async processOrder() {},
        async sendNotificationEmail() {
          emailSent = true;
        },
      });
      assert.equal(emailSent, false);
    });
  },
);
