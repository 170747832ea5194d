// TestWorkflowEnvironment.sleep and TestService SleepUntil behave as on Temporal's time-skipping test
// server (issue 14): the clock jumps only while nothing is in flight, and a sleep returns once its
// time has passed and the workflow tasks that became due by then have been handled.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { msToTs } from '@temporalio/common/lib/time';
import { temporal } from '@temporalio/proto';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { createTestActivities } from './activities';
import {
  emulatorOnly,
  eventually,
  runWorker,
  startTestEnv,
  uniqueId,
  type RunningWorker,
  type TestEnv,
} from './helpers';
import type { BlockingActivities, LockRequest } from './workflows';

const EventType = temporal.api.enums.v1.EventType;
const MINUTE = 60_000;
const HOUR = 3600_000;

/**
 * The environment TestWorkflowEnvironment.createTimeSkipping() gives, on the engine instead of the
 * Java test server it downloads. `create` is what createTimeSkipping calls once its server runs;
 * it is private in the typings only.
 */
function timeSkippingEnvironment(env: TestEnv): Promise<TestWorkflowEnvironment> {
  return (TestWorkflowEnvironment as any).create({
    server: { type: 'existing' },
    supportsTimeSkipping: true,
    address: env.address,
    namespace: env.namespace,
  });
}

/** A latch per activity run: the test sees it start and decides when it ends. */
function blockingActivities() {
  let started!: () => void;
  let release!: () => void;
  const startedP = new Promise<void>((r) => (started = r));
  const releasedP = new Promise<void>((r) => (release = r));
  const activities: BlockingActivities = {
    async blockUntilReleased() {
      started();
      await releasedP;
    },
  };
  return { activities, started: startedP, release };
}

describe(
  'temporal conformance: sleeping on a time-skipping TestWorkflowEnvironment',
  emulatorOnly('TestService time skipping'),
  () => {
    let env: TestEnv;
    let testEnv: TestWorkflowEnvironment;
    let worker: RunningWorker;
    const blocking = blockingActivities();
    before(async () => {
      env = await startTestEnv();
      testEnv = await timeSkippingEnvironment(env);
      worker = await runWorker(env, { activities: { ...createTestActivities(), ...blocking.activities } });
    });
    after(async () => {
      await worker?.stop();
      await testEnv?.teardown();
      await env?.stop();
    });

    it("the samples' mutex: after the lease runs out during a sleep, the next requester holds the lock", async () => {
      const client = testEnv.client;
      const { taskQueue } = worker;
      const lockId = uniqueId('lock');
      const [first, second] = [uniqueId('requester-1'), uniqueId('requester-2')];
      for (const workflowId of [first, second]) await client.workflow.start('lockRequester', { taskQueue, workflowId });
      const request = (holder: string, timeoutMs: number): [LockRequest] => [{ holder, timeoutMs }];
      await client.workflow.signalWithStart('lockService', {
        taskQueue,
        workflowId: lockId,
        signal: 'lockRequest',
        signalArgs: request(first, HOUR),
      });
      await eventually(() => client.workflow.getHandle(first).query<boolean>('granted'));
      const lock = client.workflow.getHandle(lockId);
      await lock.signal('lockRequest', ...request(second, 24 * HOUR));

      await testEnv.sleep(MINUTE);
      assert.equal(await lock.query('holder'), first);
      assert.equal(await client.workflow.getHandle(second).query('granted'), false);

      // The lease ends inside this sleep: the timer, the lock's next task, the grant signalled to the
      // second requester and that requester's task are all done when it returns.
      await testEnv.sleep(2 * HOUR);
      assert.equal(await lock.query('holder'), second);
      assert.equal(await client.workflow.getHandle(second).query('granted'), true);

      for (const id of [lockId, first, second]) await client.workflow.getHandle(id).terminate('test cleanup');
    });

    it('does not jump the clock over an activity in flight; skips once it is done', async () => {
      const handle = await testEnv.client.workflow.start('timerOrActivity', {
        taskQueue: worker.taskQueue,
        workflowId: uniqueId('in-flight'),
        args: [HOUR],
      });
      await blocking.started;
      const before = await testEnv.currentTimeMs();
      const sleeping = testEnv.sleep(2 * HOUR);
      // Real time for an engine that wrongly jumps over running work to do so (the engine used to give
      // activities 2 s); the outcome below does not depend on how long this takes.
      await new Promise((resolve) => setTimeout(resolve, 3_000));
      blocking.release();
      await sleeping;
      assert.equal(await handle.result(), 'activity', 'the 1 h timer must not fire while the activity runs');
      assert.ok((await testEnv.currentTimeMs()) - before >= 2 * HOUR, 'then the rest of the sleep was skipped');
    });
  },
);

describe(
  'temporal conformance: SleepUntil with automatic time skipping',
  emulatorOnly('TestService time skipping'),
  () => {
    let env: TestEnv;
    let testEnv: TestWorkflowEnvironment;
    let worker: RunningWorker;
    before(async () => {
      env = await startTestEnv({ timeSkipping: true });
      testEnv = await timeSkippingEnvironment(env);
      worker = await runWorker(env, { activities: createTestActivities() });
    });
    after(async () => {
      await worker?.stop();
      await testEnv?.teardown();
      await env?.stop();
    });

    it('returns at the timestamp with the reminders that fell due (timer, task, activity, task) handled', async () => {
      // Nothing is scheduled after the second reminder: on an engine that skips whenever it can, the
      // clock would otherwise move on right after the sleep returns.
      const handle = await testEnv.client.workflow.start('twoReminders', {
        taskQueue: worker.taskQueue,
        workflowId: uniqueId('sleep-until'),
      });
      const until = (await testEnv.currentTimeMs()) + 30 * HOUR;
      await testEnv.connection.testService!.sleepUntil({ timestamp: msToTs(until) });
      assert.ok((await testEnv.currentTimeMs()) >= until);
      // Reminders at 4 h and 28 h; each one runs an activity and a task after it.
      assert.equal((await handle.query<{ total: number }>('state')).total, 2);
      const events = (await handle.fetchHistory()).events!;
      assert.equal(events.filter((e) => e.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED).length, 2);
      const taskEvents = events.filter((e) =>
        [
          EventType.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED,
          EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED,
          EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED,
        ].includes(e.eventType!),
      );
      assert.equal(
        taskEvents.at(-1)?.eventType,
        EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED,
        'no workflow task left pending',
      );
      await handle.terminate('test cleanup');
    });
  },
);
