// Timers (start, fire, cancel), skipTime on the virtual clock (the product's 4h-then-24h
// reminders), automatic time skipping, and the TestService used by @temporalio/testing.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Connection, type ConnectionOptions } from '@temporalio/client';
import { InternalConnectionOptionsSymbol } from '@temporalio/client/lib/connection';
import { msToTs } from '@temporalio/common/lib/time';
import { temporal } from '@temporalio/proto';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { TimeSkippingClient } from '@temporalio/testing/lib/client';
import { Worker } from '@temporalio/worker';
import { createTestActivities } from './activities';
import {
  emulatorOnly,
  ensureSearchAttributes,
  runWorker,
  startTestEnv,
  uniqueId,
  uniqueTaskQueue,
  workflowBundle,
  type RunningWorker,
  type TestEnv,
} from './helpers';

const EventType = temporal.api.enums.v1.EventType;
const HOUR = 3600_000;

describe('temporal conformance: timers', () => {
  let env: TestEnv;
  let worker: RunningWorker;
  before(async () => {
    env = await startTestEnv();
    await ensureSearchAttributes(env, {
      InvoiceGateStatus: 'INDEXED_VALUE_TYPE_KEYWORD',
      GateVariancePct: 'INDEXED_VALUE_TYPE_DOUBLE',
    });
    worker = await runWorker(env, { activities: createTestActivities() });
  });
  after(async () => {
    await worker?.stop();
    await env?.stop();
  });

  it('fires timers in real time', async () => {
    const elapsed = await env.client.workflow.execute('sleeper', {
      taskQueue: worker.taskQueue,
      workflowId: uniqueId('sleep'),
      args: [200],
    });
    assert.ok(elapsed >= 200, `workflow saw ${elapsed} ms`);
  });

  it('cancels a timer the workflow no longer needs', async () => {
    const handle = await env.client.workflow.start('cancelTimer', {
      taskQueue: worker.taskQueue,
      workflowId: uniqueId('cancel-timer'),
    });
    await handle.signal('approve', 'x');
    assert.equal(await handle.result(), 'signal');
    const history = await handle.fetchHistory();
    const types = history.events!.map((e) => e.eventType);
    assert.ok(types.includes(EventType.EVENT_TYPE_TIMER_CANCELED));
    assert.equal(types.filter((t) => t === EventType.EVENT_TYPE_TIMER_FIRED).length, 1); // the 10 ms sleep only
  });

  it(
    'skipTime fires the 4h reminder and the 24h one the workflow starts in reaction',
    emulatorOnly('skipTime'),
    async () => {
      const handle = await env.client.workflow.start('reminderGate', {
        taskQueue: worker.taskQueue,
        workflowId: uniqueId('gate'),
      });
      const before = env.emulator!.now().getTime();
      await env.skipTime(30 * HOUR);
      assert.ok(env.emulator!.now().getTime() - before >= 30 * HOUR);
      assert.equal((await handle.query<{ total: number }>('state')).total, 2);
      await handle.signal('approve', 'release');
      assert.deepEqual(await handle.result(), { reminders: 2, decision: 'release' });
      const fired = (await handle.fetchHistory()).events!.filter(
        (e) => e.eventType === EventType.EVENT_TYPE_TIMER_FIRED,
      );
      assert.equal(fired.length, 2);
    },
  );

  it('sleeps in workflow time across skipTime', emulatorOnly('skipTime'), async () => {
    const handle = await env.client.workflow.start('sleeper', {
      taskQueue: worker.taskQueue,
      workflowId: uniqueId('long-sleep'),
      args: [48 * HOUR],
    });
    await env.skipTime(48 * HOUR);
    const elapsed = await handle.result();
    assert.ok(elapsed >= 48 * HOUR, `workflow saw ${elapsed} ms`);
  });
});

describe('temporal conformance: automatic time skipping', () => {
  let env: TestEnv;
  before(async () => {
    env = await startTestEnv({ timeSkipping: true });
  });
  after(async () => {
    await env?.stop();
  });

  it('jumps to the next timer when nothing is in flight', emulatorOnly('timeSkipping'), async () => {
    const worker = await runWorker(env, { activities: createTestActivities() });
    try {
      const started = Date.now();
      const elapsed = await env.client.workflow.execute('sleeper', {
        taskQueue: worker.taskQueue,
        workflowId: uniqueId('skip'),
        args: [7 * 24 * HOUR],
      });
      assert.ok(elapsed >= 7 * 24 * HOUR);
      // A week skipped, not waited: the bound only tells the two apart, with room for a loaded machine.
      assert.ok(Date.now() - started < 60_000, `took ${Date.now() - started} ms`);
      assert.equal(
        await env.client.workflow.execute('manyTimers', {
          taskQueue: worker.taskQueue,
          workflowId: uniqueId('timers'),
        }),
        3,
      );
    } finally {
      await worker.stop();
    }
  });

  // Bounded: on a loaded machine this test was seen looping on workflow tasks for good (the
  // time-skipping client's unlock lets the clock jump over the running task's timeout); a failure
  // after two minutes is better than a stalled run.
  const bounded = { ...emulatorOnly('TestService'), timeout: 120_000 };
  it('serves TestService: current time, sleep and the time-skipping client', bounded, async () => {
    // The time-skipping client needs the TestService stub, which Connection only creates on request.
    const connection = await Connection.connect({
      address: env.address,
      [InternalConnectionOptionsSymbol]: { supportsTestService: true },
    } as ConnectionOptions);
    try {
      const t0 = (await connection.testService!.getCurrentTime({})).time!;
      await connection.testService!.unlockTimeSkippingWithSleep({ duration: msToTs(HOUR) });
      const t1 = (await connection.testService!.getCurrentTime({})).time!;
      assert.ok(Number(t1.seconds) - Number(t0.seconds) >= 3600);
      const client = new TimeSkippingClient({ connection, namespace: env.namespace });
      const worker = await runWorker(env, { activities: createTestActivities() });
      try {
        assert.ok(
          (await client.workflow.execute('sleeper', {
            taskQueue: worker.taskQueue,
            workflowId: uniqueId('ts-client'),
            args: [HOUR],
          })) >= HOUR,
        );
      } finally {
        await worker.stop();
      }
    } finally {
      await connection.close();
    }
  });
});

describe('temporal conformance: @temporalio/testing against an existing server', () => {
  it('TestWorkflowEnvironment.createFromExistingServer runs workflows', async () => {
    const env = await startTestEnv();
    const testEnv = await TestWorkflowEnvironment.createFromExistingServer({
      address: env.address,
      namespace: env.namespace,
    });
    try {
      const taskQueue = uniqueTaskQueue('testing');
      const worker = await Worker.create({
        connection: testEnv.nativeConnection,
        namespace: env.namespace,
        taskQueue,
        workflowBundle: await workflowBundle(),
        activities: createTestActivities(),
      });
      const result = await worker.runUntil(
        testEnv.client.workflow.execute('greet', { taskQueue, workflowId: uniqueId('testing'), args: ['env'] }),
      );
      assert.equal(result, 'hello env');
    } finally {
      await testEnv.teardown();
      await env.stop();
    }
  });
});
