// A workflow task that closes the workflow while new events wait is refused the way Temporal Server
// refuses it (issue 11): WorkflowTaskFailed with cause UNHANDLED_COMMAND and INVALID_ARGUMENT
// "UnhandledCommand" to the worker, which core treats as routine (an eviction, no warning in the logs).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { status } from '@grpc/grpc-js';
import { Context } from '@temporalio/activity';
import { temporal } from '@temporalio/proto';
import { createTestActivities } from './activities';
import { runWorker, startTestEnv, uniqueId, uniqueTaskQueue, type RunningWorker, type TestEnv } from './helpers';
import type { LocalTestActivities } from './workflows';

const EventType = temporal.api.enums.v1.EventType;
const Cause = temporal.api.enums.v1.WorkflowTaskFailedCause;
const CommandType = temporal.api.enums.v1.CommandType;
const TaskQueueKind = temporal.api.enums.v1.TaskQueueKind;

describe('temporal conformance: UnhandledCommand', () => {
  let env: TestEnv;
  let worker: RunningWorker;
  const signalled = new Set<string>();
  before(async () => {
    env = await startTestEnv();
    const local: LocalTestActivities = {
      async signalSelfOnce() {
        const workflowId = Context.current().info.workflowExecution!.workflowId;
        if (signalled.has(workflowId)) return;
        signalled.add(workflowId);
        // Sent while the workflow task that runs this local activity is still open.
        await env.client.workflow.getHandle(workflowId).signal('add', 1);
      },
    };
    worker = await runWorker(env, { activities: { ...createTestActivities(), ...local } });
  });
  after(async () => {
    await worker?.stop();
    await env?.stop();
  });

  it('refuses a completion that closes the workflow over a new signal', async () => {
    const handle = await env.client.workflow.start('closesWhileSignalled', {
      taskQueue: worker.taskQueue,
      workflowId: uniqueId('unhandled'),
    });
    assert.equal(await handle.result(), 1, 'the retried task saw the signal');

    const events = (await handle.fetchHistory()).events!;
    const failed = events.filter((e) => e.eventType === EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED);
    assert.equal(failed.length, 1);
    const attrs = failed[0].workflowTaskFailedEventAttributes!;
    assert.equal(attrs.cause, Cause.WORKFLOW_TASK_FAILED_CAUSE_UNHANDLED_COMMAND);
    assert.equal(attrs.failure?.message, 'UnhandledCommand');
    assert.ok(attrs.failure?.serverFailureInfo, 'a server failure');
    const failedAt = events.indexOf(failed[0]);
    assert.equal(
      events[failedAt + 1]?.eventType,
      EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED,
      'the held signal follows the failed task',
    );
    assert.equal(events.filter((e) => e.eventType === EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED).length, 1);
  });

  it('answers the refused completion with INVALID_ARGUMENT "UnhandledCommand", the message core matches', async () => {
    // Played by hand on a queue no worker polls, so the signal lands between poll and completion.
    const taskQueue = uniqueTaskQueue('unhandled-raw');
    const handle = await env.client.workflow.start('noop', { taskQueue, workflowId: uniqueId('unhandled-raw') });
    const service = env.connection.workflowService;
    const task = await service.pollWorkflowTaskQueue({
      namespace: env.namespace,
      taskQueue: { name: taskQueue, kind: TaskQueueKind.TASK_QUEUE_KIND_NORMAL },
      identity: 'conformance',
    });
    assert.equal(task.workflowExecution?.runId, handle.firstExecutionRunId);
    await handle.signal('add', 1);
    await assert.rejects(
      service.respondWorkflowTaskCompleted({
        namespace: env.namespace,
        taskToken: task.taskToken,
        identity: 'conformance',
        commands: [
          {
            commandType: CommandType.COMMAND_TYPE_COMPLETE_WORKFLOW_EXECUTION,
            completeWorkflowExecutionCommandAttributes: {},
          },
        ],
      }),
      (err: { code?: number; details?: string }) => {
        assert.equal(err.code, status.INVALID_ARGUMENT);
        // Exactly this: core silences it only on an exact match (otherwise a WARN line per refusal).
        assert.equal(err.details, 'UnhandledCommand');
        return true;
      },
    );
    const types = (await handle.fetchHistory()).events!.map((e) => e.eventType);
    const failedAt = types.indexOf(EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED);
    assert.ok(failedAt > 0, 'the task was failed');
    assert.equal(types[failedAt + 1], EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED);
    assert.ok(!types.includes(EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED), 'the workflow stays open');
    await handle.terminate('test cleanup');
  });
});
