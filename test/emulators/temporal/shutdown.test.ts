// Shutdown: worker.shutdown() returns fast (ShutdownWorker, polls ended), and stopping the
// emulator ends open long polls promptly.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { temporal } from '@temporalio/proto';
import { startTemporalEmulator } from '../../../emulators/temporal';
import { createTestActivities } from './activities';
import { emulatorOnly, eventually, runWorker, startTestEnv, uniqueId, type RunningWorker } from './helpers';

describe('temporal conformance: shutdown', () => {
  it('worker.shutdown() returns quickly after running workflows', async () => {
    const env = await startTestEnv();
    let worker: RunningWorker | undefined;
    try {
      worker = await runWorker(env, { activities: createTestActivities() });
      assert.equal(
        await env.client.workflow.execute('greet', {
          taskQueue: worker.taskQueue,
          workflowId: uniqueId('sd'),
          args: ['s'],
        }),
        'hello s',
      );
      const started = Date.now();
      await worker.stop();
      // Without ShutdownWorker the worker would wait for its open polls, which the engine answers after
      // 60 s: a bound well below that, and far above what a loaded machine needs for a prompt stop.
      assert.ok(Date.now() - started < 20_000, `shutdown took ${Date.now() - started} ms`);
    } finally {
      // Stopped here too when an assertion failed: a running worker keeps the process alive.
      await worker?.stop();
      await env.stop();
    }
  });

  it('stop() ends open long polls and closes the server fast', emulatorOnly('stops the embedded engine'), async () => {
    const emulator = await startTemporalEmulator({ port: 0 });
    const { Connection } = await import('@temporalio/client');
    const connection = await Connection.connect({ address: emulator.address });
    try {
      const poll = connection.workflowService.pollWorkflowTaskQueue({
        namespace: 'default',
        taskQueue: { name: 'idle' },
        identity: 'x',
      });
      // On another queue, so the workflow's first task does not answer the poll above.
      const history = connection.workflowService
        .startWorkflowExecution({
          namespace: 'default',
          workflowId: 'w',
          workflowType: { name: 't' },
          taskQueue: { name: 'no-worker' },
          requestId: 'r',
        })
        .then(() =>
          connection.workflowService.getWorkflowExecutionHistory({
            namespace: 'default',
            execution: { workflowId: 'w' },
            waitNewEvent: true,
            historyEventFilterType: temporal.api.enums.v1.HistoryEventFilterType.HISTORY_EVENT_FILTER_TYPE_CLOSE_EVENT,
          }),
        );
      // Both calls must be parked in the engine before it stops: a call that has not arrived yet
      // would meet a closed server and go through the client's retries instead.
      await eventually(async () => {
        const open = emulator.openLongPolls();
        return open.taskQueues === 1 && open.history === 1;
      });
      const started = Date.now();
      await emulator.stop();
      await Promise.allSettled([poll, history]);
      // Left open, the polls would last 20 s (history) and 60 s (task queue); a loaded machine stops in seconds.
      assert.ok(Date.now() - started < 10_000, `stop took ${Date.now() - started} ms`);
      assert.deepEqual(emulator.openLongPolls(), { taskQueues: 0, history: 0 }, 'stop() ended both');
    } finally {
      await emulator.stop();
      await connection.close();
    }
  });
});
