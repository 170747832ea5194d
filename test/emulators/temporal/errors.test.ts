// Errors a client can act on: NOT_FOUND, ALREADY_EXISTS, INVALID_ARGUMENT with a message,
// UNIMPLEMENTED with the method name; malformed requests never take the server down.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { WorkflowNotFoundError } from '@temporalio/client';
import { emulatorOnly, startTestEnv, uniqueId, type TestEnv } from './helpers';

describe('temporal conformance: errors', () => {
  let env: TestEnv;
  before(async () => {
    env = await startTestEnv();
  });
  after(async () => {
    await env?.stop();
  });
  const svc = () => env.connection.workflowService;

  it('reports unknown workflows as NOT_FOUND', async () => {
    await assert.rejects(env.client.workflow.getHandle(uniqueId('nope')).describe(), WorkflowNotFoundError);
    await assert.rejects(env.client.workflow.getHandle(uniqueId('nope')).terminate(), WorkflowNotFoundError);
    await assert.rejects(env.client.workflow.getHandle(uniqueId('nope')).cancel(), WorkflowNotFoundError);
    await assert.rejects(
      svc().getWorkflowExecutionHistory({ namespace: env.namespace, execution: { workflowId: uniqueId('nope') } }),
      { code: 5 },
    );
  });

  it('rejects malformed requests with INVALID_ARGUMENT and a message', async () => {
    await assert.rejects(
      svc().startWorkflowExecution({
        namespace: env.namespace,
        workflowId: '',
        workflowType: { name: 'x' },
        taskQueue: { name: 'q' },
        requestId: 'r',
      }),
      (err: any) => {
        assert.equal(err.code, 3);
        assert.match(err.details, /WorkflowId/);
        return true;
      },
    );
    await assert.rejects(
      svc().startWorkflowExecution({
        namespace: env.namespace,
        workflowId: 'x',
        taskQueue: { name: 'q' },
        requestId: 'r',
      }),
      { code: 3 },
    );
    await assert.rejects(
      svc().respondActivityTaskCompleted({ namespace: env.namespace, taskToken: Buffer.from('garbage') }),
      { code: 3 },
    );
    await assert.rejects(
      svc().signalWorkflowExecution({ namespace: env.namespace, workflowExecution: { workflowId: 'x' } }),
      { code: 3 },
    );
    await assert.rejects(svc().describeWorkflowExecution({ namespace: env.namespace }), { code: 3 });
    await assert.rejects(svc().updateWorkflowExecution({ namespace: env.namespace }), { code: 3 });
  });

  it(
    'refuses a well-formed task token for an unknown run with NOT_FOUND',
    emulatorOnly('task tokens are server-specific'),
    async () => {
      const token = Buffer.from(JSON.stringify({ t: 'wft', ns: env.namespace, run: 'no-such-run', seq: 1 }));
      await assert.rejects(svc().respondWorkflowTaskCompleted({ namespace: env.namespace, taskToken: token }), {
        code: 5,
      });
    },
  );

  it(
    'answers unimplemented methods with UNIMPLEMENTED naming the method',
    emulatorOnly('the real server implements these'),
    async () => {
      await assert.rejects(svc().listSchedules({ namespace: env.namespace }), (err: any) => {
        assert.equal(err.code, 12);
        assert.match(err.details, /ListSchedules/);
        return true;
      });
      await assert.rejects(svc().deleteWorkflowExecution({ namespace: env.namespace }), { code: 12 });
    },
  );

  it(
    'gives the SDK client the errors the README lists for what the engine does not do',
    emulatorOnly('the real server implements these'),
    async () => {
      const unimplemented = (method: string) => (err: any) => {
        assert.equal(err.cause?.code, 12, `${err}`);
        assert.equal(
          err.cause?.details,
          `temporal.api.workflowservice.v1.WorkflowService/${method} is not supported by the embedded Temporal engine (use Temporal Server for it)`,
        );
        return true;
      };
      const client = env.client;
      await assert.rejects(
        client.schedule.create({
          scheduleId: uniqueId('schedule'),
          spec: { intervals: [{ every: '1h' }] },
          action: { type: 'startWorkflow', workflowType: 'noop', taskQueue: 'q' },
        }),
        unimplemented('CreateSchedule'),
      );
      await assert.rejects(
        client.workflow.start('noop', { taskQueue: 'q', workflowId: uniqueId('cron'), cronSchedule: '0 * * * *' }),
        (err: any) => {
          assert.equal(err.cause?.code, 3);
          assert.equal(err.cause?.details, 'cronSchedule is not supported by the embedded Temporal engine');
          return true;
        },
      );
      await assert.rejects(client.workflow.count('GROUP BY WorkflowType'), (err: any) => {
        assert.equal(err.cause?.code, 3);
        assert.match(err.cause?.details, /'GROUP BY' clause is only supported for ExecutionStatus/);
        return true;
      });
    },
  );

  it(
    'survives every WorkflowService method called with an empty request',
    emulatorOnly('calls every method, including destructive ones'),
    async () => {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const root = require('@temporalio/proto/protos/json-module');
      const methods = Object.keys(root.lookupService('temporal.api.workflowservice.v1.WorkflowService').methods);
      assert.ok(methods.length > 50);
      const outcomes = await Promise.all(
        methods.map(async (name) => {
          const call = (svc() as any)[name[0].toLowerCase() + name.slice(1)].bind(svc());
          try {
            await env.connection.withDeadline(Date.now() + 3_000, () => call({ namespace: env.namespace }));
            return 'ok';
          } catch (err: any) {
            return typeof err?.code === 'number' ? 'grpc error' : `unexpected: ${err}`;
          }
        }),
      );
      assert.deepEqual(
        outcomes.filter((o) => o.startsWith('unexpected')),
        [],
      );
    },
  );

  it('keeps serving after bad requests', async () => {
    const info = await svc().getSystemInfo({});
    assert.ok(info.serverVersion);
  });
});
