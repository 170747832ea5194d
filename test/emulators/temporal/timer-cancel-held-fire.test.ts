// A timer that fires while a workflow task runs and is cancelled by that task's completion: the
// server drops the held-back TimerFired and writes TimerCanceled. Writing TimerFired after the
// cancel (or no TimerCanceled) made core fail every later task with "TimerMachine in state
// CancelTimerCommandSent says the transition is invalid during event TimerStarted".
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { temporal } from '@temporalio/proto';
import { createTestActivities } from './activities';
import {
  eventually,
  runWorker,
  startTestEnv,
  uniqueId,
  uniqueTaskQueue,
  type RunningWorker,
  type TestEnv,
} from './helpers';

const EventType = temporal.api.enums.v1.EventType;
const CommandType = temporal.api.enums.v1.CommandType;
const TaskQueueKind = temporal.api.enums.v1.TaskQueueKind;

describe('temporal conformance: CancelTimer over a firing held back during the task', () => {
  let env: TestEnv;
  before(async () => {
    // No worker here: the raw test counts the engine's open polls and wants only its own.
    env = await startTestEnv();
  });
  after(async () => {
    await env?.stop();
  });

  /**
   * Plays two workflow tasks by hand: the first starts a 1 ms timer, the second is running when it
   * fires (the engine holds the TimerFired back). Returns the second task, not yet completed.
   */
  async function secondTaskRunningWhenTimerFires() {
    const taskQueue = uniqueTaskQueue('held-fire');
    const handle = await env.client.workflow.start('noop', { taskQueue, workflowId: uniqueId('held-fire') });
    const service = env.connection.workflowService;
    const poll = () =>
      service.pollWorkflowTaskQueue({
        namespace: env.namespace,
        taskQueue: { name: taskQueue, kind: TaskQueueKind.TASK_QUEUE_KIND_NORMAL },
        identity: 'conformance',
      });
    const complete = (taskToken: Uint8Array | null | undefined, commands: temporal.api.command.v1.ICommand[]) =>
      service.respondWorkflowTaskCompleted({ namespace: env.namespace, taskToken, identity: 'conformance', commands });

    const first = await poll();
    // Held back during the first task, so completing it schedules the second task at once.
    await handle.signal('add', 1);
    // A poll already waiting gets the second task in the same step as the completion that starts the
    // 1 ms timer, so the timer can only fire while the second task is running.
    const secondPoll = poll();
    if (env.emulator) {
      const emulator = env.emulator;
      await eventually(async () => emulator.openLongPolls().taskQueues === 1);
    } else {
      await new Promise((r) => setTimeout(r, 1_000));
    }
    await complete(first.taskToken, [
      {
        commandType: CommandType.COMMAND_TYPE_START_TIMER,
        startTimerCommandAttributes: { timerId: 't1', startToFireTimeout: { nanos: 1_000_000 } },
      },
    ]);
    const second = await secondPoll;
    const secondTypes = second.history!.events!.map((e) => e.eventType);
    assert.ok(
      secondTypes.includes(EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED),
      'the second task is the one the signal scheduled',
    );
    assert.ok(
      !secondTypes.includes(EventType.EVENT_TYPE_TIMER_FIRED),
      'the timer had not fired when the second task started',
    );
    // Let the timer's time pass while the task runs (the engine's 1 ms clock timer was armed before
    // this wait, so it fires first; a real server's timer queue needs longer).
    await new Promise((r) => setTimeout(r, env.emulator ? 50 : 2_000));
    return {
      handle,
      completeSecond: (commands: temporal.api.command.v1.ICommand[]) => complete(second.taskToken, commands),
    };
  }

  const cancelT1: temporal.api.command.v1.ICommand = {
    commandType: CommandType.COMMAND_TYPE_CANCEL_TIMER,
    cancelTimerCommandAttributes: { timerId: 't1' },
  };

  function assertCanceledNotFired(events: temporal.api.history.v1.IHistoryEvent[]): void {
    const started = events.find((e) => e.eventType === EventType.EVENT_TYPE_TIMER_STARTED)!;
    const canceled = events.filter((e) => e.eventType === EventType.EVENT_TYPE_TIMER_CANCELED);
    assert.equal(canceled.length, 1, 'one TimerCanceled');
    assert.equal(canceled[0].timerCanceledEventAttributes?.timerId, 't1');
    assert.equal(Number(canceled[0].timerCanceledEventAttributes?.startedEventId), Number(started.eventId));
    assert.deepEqual(
      events
        .filter((e) => e.eventType === EventType.EVENT_TYPE_TIMER_FIRED)
        .map((e) => e.timerFiredEventAttributes?.timerId),
      [],
      'no TimerFired for the cancelled timer',
    );
  }

  it('writes TimerCanceled, drops the TimerFired and schedules no task for it (hand-played completions)', async () => {
    const { handle, completeSecond } = await secondTaskRunningWhenTimerFires();
    await completeSecond([cancelT1]);
    const events = (await handle.fetchHistory()).events!;
    assertCanceledNotFired(events);
    assert.equal(
      events.at(-1)?.eventType,
      EventType.EVENT_TYPE_TIMER_CANCELED,
      'nothing after the cancel: no task scheduled for the dropped fire',
    );
    await handle.terminate('test cleanup');
  });

  it('accepts CancelTimer + CompleteWorkflowExecution over that held-back firing (nothing else waits)', async () => {
    const { handle, completeSecond } = await secondTaskRunningWhenTimerFires();
    // Core sends exactly this when a condition comes true in the task during which its timeout fired.
    await completeSecond([
      cancelT1,
      {
        commandType: CommandType.COMMAND_TYPE_COMPLETE_WORKFLOW_EXECUTION,
        completeWorkflowExecutionCommandAttributes: {},
      },
    ]);
    const events = (await handle.fetchHistory()).events!;
    assertCanceledNotFired(events);
    assert.ok(
      !events.some((e) => e.eventType === EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED),
      'the completion was not refused',
    );
    assert.equal(events.at(-1)?.eventType, EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED);
  });
});

describe('temporal conformance: short condition timeouts under a signal burst (SDK)', () => {
  let env: TestEnv;
  let worker: RunningWorker;
  before(async () => {
    env = await startTestEnv();
    worker = await runWorker(env, { activities: createTestActivities() });
  });
  after(async () => {
    await worker?.stop();
    await env?.stop();
  });

  // Bounded: with the bug, core fails every task and the workflow never completes.
  it('completes with every signal and no failed workflow task', { timeout: 30_000 }, async () => {
    const burst = 40;
    const handle = await env.client.workflow.start('drainSignalsWithShortTimeouts', {
      taskQueue: worker.taskQueue,
      workflowId: uniqueId('burst'),
      args: [burst],
    });
    // Spread over a little real time so timers start and fire between and during the tasks.
    for (let i = 0; i < burst; i++) {
      await handle.signal('add', 1);
      if (i % 4 === 3) await new Promise((r) => setTimeout(r, 2));
    }
    assert.equal(await handle.result(), burst);
    const events = (await handle.fetchHistory()).events!;
    const failed = events.filter((e) => e.eventType === EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED);
    if (process.env.DBG)
      console.log(
        events
          .slice(-12)
          .map((e) => EventType[e.eventType!])
          .join('\n'),
      );
    assert.deepEqual(
      failed.map((e) => e.workflowTaskFailedEventAttributes?.failure?.message),
      [],
      'no workflow task failed',
    );
    // Every started timer ends exactly once, fired or cancelled.
    const startedTimers = events
      .filter((e) => e.eventType === EventType.EVENT_TYPE_TIMER_STARTED)
      .map((e) => Number(e.eventId));
    const ended = events
      .map((e) => e.timerFiredEventAttributes?.startedEventId ?? e.timerCanceledEventAttributes?.startedEventId)
      .filter((id) => id != null)
      .map(Number);
    assert.deepEqual(
      [...ended].sort((a, b) => a - b),
      startedTimers,
    );
  });
});
