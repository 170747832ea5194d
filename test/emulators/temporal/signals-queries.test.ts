// Signals (held back while a workflow task runs), queries to sticky, cache-less and closed
// workflows, and the sticky queue's fallback to the normal queue when a worker goes away.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { QueryNotRegisteredError, WorkflowNotFoundError } from '@temporalio/client';
import { createTestActivities } from './activities';
import { runWorker, uniqueId, uniqueTaskQueue, useEnvWithWorker, type RunningWorker } from './helpers';

describe('temporal conformance: signals and queries', () => {
  const suite = useEnvWithWorker(createTestActivities());

  it('delivers signals and answers queries on a running (sticky) workflow', async () => {
    const handle = await suite.env.client.workflow.start('waitForApproval', {
      taskQueue: suite.worker.taskQueue,
      workflowId: uniqueId('sq'),
    });
    await handle.signal('add', 2);
    await handle.signal('add', 3);
    assert.deepEqual(await handle.query('state'), { approvedBy: null, total: 5, signals: 2 });
    await handle.signal('approve', 'carol');
    assert.deepEqual(await handle.result(), { approvedBy: 'carol', total: 5 });
    // Closed workflows are still queryable (replayed from history).
    assert.deepEqual(await handle.query('state'), { approvedBy: 'carol', total: 5, signals: 3 });
  });

  it('holds back signals that arrive while a workflow task runs, losing none', async () => {
    const handle = await suite.env.client.workflow.start('busySignals', {
      taskQueue: suite.worker.taskQueue,
      workflowId: uniqueId('burst'),
      args: [50],
    });
    await Promise.all(Array.from({ length: 25 }, () => handle.signal('add', 2)));
    assert.equal(await handle.result(), 50);
  });

  it('reports a failing query handler as a query error and an unknown workflow as not found', async () => {
    const handle = await suite.env.client.workflow.start('waitForApproval', {
      taskQueue: suite.worker.taskQueue,
      workflowId: uniqueId('qerr'),
    });
    await assert.rejects(handle.query('explode'), (err: Error) => {
      assert.ok(err instanceof QueryNotRegisteredError, `got ${err}`);
      assert.match(err.message, /query handler exploded/);
      return true;
    });
    await handle.terminate();
    await assert.rejects(
      suite.env.client.workflow.getHandle(uniqueId('missing')).query('state'),
      WorkflowNotFoundError,
    );
    await assert.rejects(
      suite.env.client.workflow.getHandle(uniqueId('missing')).signal('approve', 'x'),
      WorkflowNotFoundError,
    );
  });

  it('serves workers with the workflow cache off (full histories on the normal queue)', async () => {
    const cacheless = await runWorker(suite.env, {
      activities: createTestActivities(),
      maxCachedWorkflows: 0,
      taskQueue: uniqueTaskQueue('cacheless'),
    });
    try {
      const handle = await suite.env.client.workflow.start('waitForApproval', {
        taskQueue: cacheless.taskQueue,
        workflowId: uniqueId('nocache'),
      });
      await handle.signal('add', 4);
      assert.deepEqual(await handle.query('state'), { approvedBy: null, total: 4, signals: 1 });
      await handle.signal('approve', 'dave');
      assert.deepEqual(await handle.result(), { approvedBy: 'dave', total: 4 });
      assert.equal(
        await suite.env.client.workflow.execute('greet', {
          taskQueue: cacheless.taskQueue,
          workflowId: uniqueId('nocache-greet'),
          args: ['x'],
        }),
        'hello x',
      );
    } finally {
      await cacheless.stop();
    }
  });

  it('moves a sticky workflow to another worker after the first one shuts down', async () => {
    const taskQueue = uniqueTaskQueue('handover');
    const first = await runWorker(suite.env, { activities: createTestActivities(), taskQueue });
    let second: RunningWorker | undefined;
    try {
      const handle = await suite.env.client.workflow.start('waitForApproval', {
        taskQueue,
        workflowId: uniqueId('handover'),
      });
      await handle.signal('add', 1);
      assert.equal((await handle.query<{ total: number }>('state')).total, 1);
      await first.stop();
      second = await runWorker(suite.env, { activities: createTestActivities(), taskQueue });
      await handle.signal('add', 1);
      assert.equal((await handle.query<{ total: number }>('state')).total, 2);
      await handle.signal('approve', 'erin');
      assert.deepEqual(await handle.result(), { approvedBy: 'erin', total: 2 });
    } finally {
      // Both, even after a failed assertion: a running worker keeps the test process alive.
      await first.stop();
      await second?.stop();
    }
  });

  it('signals another workflow from a workflow', async () => {
    const target = await suite.env.client.workflow.start('waitForApproval', {
      taskQueue: suite.worker.taskQueue,
      workflowId: uniqueId('target'),
    });
    assert.equal(
      await suite.env.client.workflow.execute('signalOther', {
        taskQueue: suite.worker.taskQueue,
        workflowId: uniqueId('sender'),
        args: [target.workflowId],
      }),
      'sent',
    );
    assert.equal((await target.result()).approvedBy, 'external');
  });
});
