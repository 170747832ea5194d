// GetWorkflowExecutionHistory: paging, long polls for new events and the close-event filter, and
// the raw workflow task protocol (a task nobody answers times out and is handed out again).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { temporal } from '@temporalio/proto';
import { createTestActivities } from './activities';
import { uniqueId, uniqueTaskQueue, useEnvWithWorker } from './helpers';

const EventType = temporal.api.enums.v1.EventType;
const CLOSE_EVENT = temporal.api.enums.v1.HistoryEventFilterType.HISTORY_EVENT_FILTER_TYPE_CLOSE_EVENT;

describe('temporal conformance: history and long polls', () => {
  const suite = useEnvWithWorker(createTestActivities());

  it('pages through a history', async () => {
    const handle = await suite.env.client.workflow.start('greet', {
      taskQueue: suite.worker.taskQueue,
      workflowId: uniqueId('paging'),
      args: ['p'],
    });
    await handle.result();
    const all = (await handle.fetchHistory()).events!;
    const paged = [];
    let nextPageToken: Uint8Array | undefined;
    do {
      const page = await suite.env.connection.workflowService.getWorkflowExecutionHistory({
        namespace: suite.env.namespace,
        execution: { workflowId: handle.workflowId },
        maximumPageSize: 3,
        nextPageToken,
      });
      assert.ok(page.history!.events!.length <= 3);
      paged.push(...page.history!.events!);
      nextPageToken = page.nextPageToken?.length ? page.nextPageToken : undefined;
    } while (nextPageToken);
    assert.deepEqual(
      paged.map((e) => Number(e.eventId)),
      all.map((e) => Number(e.eventId)),
    );
  });

  it('reads a history newest-first (GetWorkflowExecutionHistoryReverse)', async () => {
    const handle = await suite.env.client.workflow.start('greet', {
      taskQueue: suite.worker.taskQueue,
      workflowId: uniqueId('reverse'),
      args: ['r'],
    });
    await handle.result();
    const all = (await handle.fetchHistory()).events!.map((e) => Number(e.eventId));
    const reversed: number[] = [];
    let nextPageToken: Uint8Array | undefined;
    do {
      const page = await suite.env.connection.workflowService.getWorkflowExecutionHistoryReverse({
        namespace: suite.env.namespace,
        execution: { workflowId: handle.workflowId },
        maximumPageSize: 4,
        nextPageToken,
      });
      reversed.push(...page.history!.events!.map((e) => Number(e.eventId)));
      nextPageToken = page.nextPageToken?.length ? page.nextPageToken : undefined;
    } while (nextPageToken);
    assert.deepEqual(reversed, [...all].reverse());
  });

  it('long-polls for the close event (what handle.result() does)', async () => {
    const handle = await suite.env.client.workflow.start('waitForApproval', {
      taskQueue: suite.worker.taskQueue,
      workflowId: uniqueId('close'),
    });
    const poll = suite.env.connection.workflowService.getWorkflowExecutionHistory({
      namespace: suite.env.namespace,
      execution: { workflowId: handle.workflowId },
      waitNewEvent: true,
      historyEventFilterType: CLOSE_EVENT,
    });
    await new Promise((r) => setTimeout(r, 100));
    await handle.signal('approve', 'x');
    const page = await poll;
    assert.equal(page.history!.events!.length, 1);
    assert.equal(page.history!.events![0].eventType, EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED);
  });

  it('long-polls for new events after the last page', async () => {
    const handle = await suite.env.client.workflow.start('waitForApproval', {
      taskQueue: suite.worker.taskQueue,
      workflowId: uniqueId('wait-new'),
    });
    let page = await suite.env.connection.workflowService.getWorkflowExecutionHistory({
      namespace: suite.env.namespace,
      execution: { workflowId: handle.workflowId },
    });
    const seen = page.history!.events!.length;
    // Drain to the end, then wait for whatever comes next.
    page = await suite.env.connection.workflowService.getWorkflowExecutionHistory({
      namespace: suite.env.namespace,
      execution: { workflowId: handle.workflowId },
      waitNewEvent: true,
    });
    const token = page.nextPageToken;
    assert.ok(token?.length, 'a running workflow keeps a token to wait on');
    const pending = suite.env.connection.workflowService.getWorkflowExecutionHistory({
      namespace: suite.env.namespace,
      execution: { workflowId: handle.workflowId },
      waitNewEvent: true,
      nextPageToken: token,
    });
    await new Promise((r) => setTimeout(r, 100));
    await handle.signal('add', 1);
    // Each long poll returns as soon as something new is written; keep following the token.
    const fresh = [];
    let next = await pending;
    for (;;) {
      fresh.push(...next.history!.events!);
      if (fresh.some((e) => e.eventType === EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED)) break;
      next = await suite.env.connection.workflowService.getWorkflowExecutionHistory({
        namespace: suite.env.namespace,
        execution: { workflowId: handle.workflowId },
        waitNewEvent: true,
        nextPageToken: next.nextPageToken,
      });
    }
    assert.ok(Number(fresh[0].eventId) >= seen);
    await handle.terminate();
  });

  it('times out a workflow task nobody completes and hands it out again', async () => {
    const taskQueue = uniqueTaskQueue('raw');
    const workflowId = uniqueId('wft-timeout');
    await suite.env.client.workflow.start('noop', { taskQueue, workflowId, workflowTaskTimeout: '1s' });
    const svc = suite.env.connection.workflowService;
    const first = await svc.pollWorkflowTaskQueue({
      namespace: suite.env.namespace,
      taskQueue: { name: taskQueue },
      identity: 'raw-test',
    });
    assert.equal(Number(first.startedEventId), 3);
    assert.equal(Number(first.previousStartedEventId), 0);
    assert.equal(first.history!.events!.length, 3);
    // Do not answer: after 1 s the task times out and is scheduled again, as attempt 2.
    const second = await svc.pollWorkflowTaskQueue({
      namespace: suite.env.namespace,
      taskQueue: { name: taskQueue },
      identity: 'raw-test',
    });
    assert.equal(second.attempt, 2);
    const types = second.history!.events!.map((e) => e.eventType);
    assert.ok(types.includes(EventType.EVENT_TYPE_WORKFLOW_TASK_TIMED_OUT));
    // The stale token is refused; the fresh one completes the workflow.
    await assert.rejects(
      svc.respondWorkflowTaskCompleted({
        namespace: suite.env.namespace,
        taskToken: first.taskToken,
        identity: 'raw-test',
        commands: [],
      }),
      { code: 5 },
    );
    await svc.respondWorkflowTaskCompleted({
      namespace: suite.env.namespace,
      taskToken: second.taskToken,
      identity: 'raw-test',
      commands: [
        {
          commandType: temporal.api.enums.v1.CommandType.COMMAND_TYPE_COMPLETE_WORKFLOW_EXECUTION,
          completeWorkflowExecutionCommandAttributes: {},
        },
      ],
    });
    assert.equal((await suite.env.client.workflow.getHandle(workflowId).describe()).status.name, 'COMPLETED');
  });
});
