// Activity operator controls (issue 25, item 10): pause, unpause and reset are not implemented;
// the engine refuses them as the README lists, with UNIMPLEMENTED naming the method, and the
// activity carries on untouched.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createTestActivities } from './activities';
import { emulatorOnly, uniqueId, useEnvWithWorker } from './helpers';

describe('temporal conformance: activity operator controls', () => {
  const suite = useEnvWithWorker(createTestActivities());

  it(
    'refuses PauseActivity, UnpauseActivity and ResetActivity with UNIMPLEMENTED naming the method',
    emulatorOnly('the real server implements these'),
    async () => {
      const { env, worker } = suite;
      const handle = await env.client.workflow.start('greet', {
        taskQueue: worker.taskQueue,
        workflowId: uniqueId('activity-controls'),
        args: ['paused?'],
      });
      const request = { namespace: env.namespace, execution: { workflowId: handle.workflowId }, id: '1' };
      const calls = {
        PauseActivity: () => env.connection.workflowService.pauseActivity(request),
        UnpauseActivity: () => env.connection.workflowService.unpauseActivity(request),
        ResetActivity: () => env.connection.workflowService.resetActivity(request),
      };
      for (const [method, call] of Object.entries(calls)) {
        await assert.rejects(call(), (err: any) => {
          assert.equal(err.code, 12, `${method}: ${err}`);
          assert.equal(
            err.details,
            `temporal.api.workflowservice.v1.WorkflowService/${method} is not supported by the embedded Temporal engine (use Temporal Server for it)`,
          );
          return true;
        });
      }
      assert.equal(await handle.result(), 'hello paused?');
    },
  );
});
