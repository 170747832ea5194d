// The update protocol played by hand against the engine's gRPC API (issue 22): the request message
// a worker gets, and the exact events the worker's acceptance, response and rejection produce.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { google, temporal } from '@temporalio/proto';
import { startTestEnv, uniqueId, uniqueTaskQueue, type TestEnv } from './helpers';

const { EventType, CommandType, UpdateWorkflowExecutionLifecycleStage: Stage } = temporal.api.enums.v1;
const update = temporal.api.update.v1;

function any(typeName: string, bytes: Uint8Array): google.protobuf.IAny {
  return { type_url: `type.googleapis.com/${typeName}`, value: bytes };
}

function payload(value: unknown): temporal.api.common.v1.IPayload {
  return { metadata: { encoding: Buffer.from('json/plain') }, data: Buffer.from(JSON.stringify(value)) };
}

describe('temporal conformance: the update protocol by hand', () => {
  let env: TestEnv;
  const taskQueue = uniqueTaskQueue('updates-by-hand');
  before(async () => {
    env = await startTestEnv();
  });
  after(async () => {
    await env?.stop();
  });

  const service = () => env.connection.workflowService;
  const poll = () =>
    service().pollWorkflowTaskQueue({ namespace: env.namespace, taskQueue: { name: taskQueue }, identity: 'hand' });
  const complete = (
    task: temporal.api.workflowservice.v1.IPollWorkflowTaskQueueResponse,
    commands: temporal.api.command.v1.ICommand[],
    messages: temporal.api.protocol.v1.IMessage[] = [],
  ) =>
    service().respondWorkflowTaskCompleted({
      namespace: env.namespace,
      taskToken: task.taskToken,
      identity: 'hand',
      commands,
      messages,
    });
  const sendUpdate = (workflowId: string, updateId: string, name: string) =>
    service().updateWorkflowExecution({
      namespace: env.namespace,
      workflowExecution: { workflowId },
      waitPolicy: { lifecycleStage: Stage.UPDATE_WORKFLOW_EXECUTION_LIFECYCLE_STAGE_ACCEPTED },
      request: { meta: { updateId, identity: 'caller' }, input: { name, args: { payloads: [payload(name)] } } },
    });
  const history = async (workflowId: string) =>
    (await service().getWorkflowExecutionHistory({ namespace: env.namespace, execution: { workflowId } })).history!
      .events!;

  it('acceptance and response become Accepted and Completed events; a rejection leaves history as it was', async () => {
    const workflowId = uniqueId('by-hand');
    await service().startWorkflowExecution({
      namespace: env.namespace,
      workflowId,
      workflowType: { name: 'handPlayed' },
      taskQueue: { name: taskQueue },
      requestId: uniqueId('request'),
    });
    await complete(await poll(), []);

    // The request, as a protocol message sequenced after the task's WorkflowTaskScheduled event.
    const updated = sendUpdate(workflowId, 'upd-1', 'decide');
    const task = await poll();
    assert.equal(task.startedEventId!.toString(), '6');
    assert.equal(task.messages!.length, 1);
    const [request] = task.messages!;
    assert.equal(request.id, 'upd-1/request');
    assert.equal(request.protocolInstanceId, 'upd-1');
    assert.equal(request.eventId!.toString(), '5');
    assert.equal(request.body!.type_url, 'type.googleapis.com/temporal.api.update.v1.Request');
    const decoded = update.Request.decode(request.body!.value!);
    assert.equal(decoded.meta!.updateId, 'upd-1');
    assert.equal(decoded.input!.name, 'decide');

    // The worker accepts and answers in the same task, one protocol-message command each.
    await complete(
      task,
      [
        {
          commandType: CommandType.COMMAND_TYPE_PROTOCOL_MESSAGE,
          protocolMessageCommandAttributes: { messageId: 'upd-1/accept' },
        },
        {
          commandType: CommandType.COMMAND_TYPE_PROTOCOL_MESSAGE,
          protocolMessageCommandAttributes: { messageId: 'upd-1/complete' },
        },
      ],
      [
        {
          id: 'upd-1/accept',
          protocolInstanceId: 'upd-1',
          body: any(
            'temporal.api.update.v1.Acceptance',
            update.Acceptance.encode(
              update.Acceptance.fromObject({
                acceptedRequestMessageId: 'upd-1/request',
                acceptedRequestSequencingEventId: 5,
              }),
            ).finish(),
          ),
        },
        {
          id: 'upd-1/complete',
          protocolInstanceId: 'upd-1',
          body: any(
            'temporal.api.update.v1.Response',
            update.Response.encode({
              meta: { updateId: 'upd-1', identity: 'hand' },
              outcome: { success: { payloads: [payload('released')] } },
            }).finish(),
          ),
        },
      ],
    );
    const response = await updated;
    assert.ok(response.stage! >= Stage.UPDATE_WORKFLOW_EXECUTION_LIFECYCLE_STAGE_ACCEPTED);
    const polled = await service().pollWorkflowExecutionUpdate({
      namespace: env.namespace,
      updateRef: { workflowExecution: { workflowId }, updateId: 'upd-1' },
      waitPolicy: { lifecycleStage: Stage.UPDATE_WORKFLOW_EXECUTION_LIFECYCLE_STAGE_COMPLETED },
    });
    assert.equal(polled.stage, Stage.UPDATE_WORKFLOW_EXECUTION_LIFECYCLE_STAGE_COMPLETED);
    assert.equal(Buffer.from(polled.outcome!.success!.payloads![0].data!).toString(), '"released"');

    let events = await history(workflowId);
    assert.deepEqual(
      events.map((e) => EventType[e.eventType!]),
      [
        'EVENT_TYPE_WORKFLOW_EXECUTION_STARTED',
        'EVENT_TYPE_WORKFLOW_TASK_SCHEDULED',
        'EVENT_TYPE_WORKFLOW_TASK_STARTED',
        'EVENT_TYPE_WORKFLOW_TASK_COMPLETED',
        'EVENT_TYPE_WORKFLOW_TASK_SCHEDULED',
        'EVENT_TYPE_WORKFLOW_TASK_STARTED',
        'EVENT_TYPE_WORKFLOW_TASK_COMPLETED',
        'EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED',
        'EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_COMPLETED',
      ],
    );
    const accepted = events[7].workflowExecutionUpdateAcceptedEventAttributes!;
    assert.equal(accepted.protocolInstanceId, 'upd-1');
    assert.equal(accepted.acceptedRequestMessageId, 'upd-1/request');
    assert.equal(accepted.acceptedRequestSequencingEventId!.toString(), '5');
    assert.equal(accepted.acceptedRequest!.input!.name, 'decide');
    const completed = events[8].workflowExecutionUpdateCompletedEventAttributes!;
    assert.equal(completed.acceptedEventId!.toString(), '8');
    assert.equal(completed.meta!.updateId, 'upd-1');

    // A rejection: no update event, and the task that carried only it is not kept either.
    const rejected = sendUpdate(workflowId, 'upd-2', 'bogus');
    const rejectTask = await poll();
    assert.equal(rejectTask.startedEventId!.toString(), '11');
    const dropped = await complete(
      rejectTask,
      [],
      [
        {
          id: 'upd-2/reject',
          protocolInstanceId: 'upd-2',
          body: any(
            'temporal.api.update.v1.Rejection',
            update.Rejection.encode({
              rejectedRequestMessageId: 'upd-2/request',
              failure: { message: 'unknown update bogus', applicationFailureInfo: { type: 'Error' } },
            }).finish(),
          ),
        },
      ],
    );
    // The worker is told to roll back to the last task that stayed in history (its Started event),
    // as the server does when it drops its speculative task.
    assert.equal(dropped.resetHistoryEventId!.toString(), '6');
    const rejection = await rejected;
    assert.equal(rejection.stage, Stage.UPDATE_WORKFLOW_EXECUTION_LIFECYCLE_STAGE_COMPLETED);
    assert.equal(rejection.outcome!.failure!.message, 'unknown update bogus');
    events = await history(workflowId);
    assert.equal(events.length, 9, 'history is as it was before the rejected update');

    // The same id again is validated again (a rejection is not remembered, as on the server), and
    // the next task reuses the event ids the dropped one had.
    const again = sendUpdate(workflowId, 'upd-2', 'bogus').then(
      () => assert.fail('an update of a workflow terminated before accepting it does not succeed'),
      (err: Error) => err,
    );
    const againTask = await poll();
    assert.equal(againTask.startedEventId!.toString(), '11');
    assert.equal(againTask.messages![0].protocolInstanceId, 'upd-2');
    await service().terminateWorkflowExecution({ namespace: env.namespace, workflowExecution: { workflowId } });
    // The workflow closed before accepting it: NotFound, as the server answers.
    assert.match((await again).message, /NOT_FOUND: workflow execution already completed/);
  });
});
