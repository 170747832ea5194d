// Activities: timeouts filled in like the server, server-side retries (backoff, maximum attempts,
// non-retryable types and flag), heartbeat details carried to the next attempt, timeouts and
// cancellation.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { temporal } from '@temporalio/proto';
import { createTestActivities } from './activities';
import { uniqueId, useEnvWithWorker } from './helpers';

const EventType = temporal.api.enums.v1.EventType;

describe('temporal conformance: activities', () => {
  const activities = createTestActivities();
  const suite = useEnvWithWorker(activities);
  const run = (type: string, args: unknown[] = []) =>
    suite.env.client.workflow.execute(type, { taskQueue: suite.worker.taskQueue, workflowId: uniqueId(type), args });

  it('fills in every activity timeout from schedule-to-close', async () => {
    const info = (await run('activityTimeouts')) as Record<string, number>;
    assert.deepEqual(info, { attempt: 1, scheduleToCloseMs: 60_000, startToCloseMs: 60_000, heartbeatMs: 0 });
  });

  it('retries a failing activity on the server and records only the final outcome', async () => {
    const key = uniqueId('retry');
    const workflowId = uniqueId('retry');
    const result = await suite.env.client.workflow.execute('retryUntilSuccess', {
      taskQueue: suite.worker.taskQueue,
      workflowId,
      args: [key, 2],
    });
    assert.equal(result, 'succeeded on attempt 3');
    assert.equal(activities.calls.get(key), 3);
    const history = await suite.env.client.workflow.getHandle(workflowId).fetchHistory();
    const types = history.events!.map((e) => e.eventType);
    assert.equal(types.filter((t) => t === EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED).length, 1);
    const started = history.events!.find((e) => e.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED)!;
    assert.equal(started.activityTaskStartedEventAttributes?.attempt, 3);
    assert.equal(started.activityTaskStartedEventAttributes?.lastFailure?.message, 'failure 2');
    const scheduled = history.events!.find((e) => e.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED)!;
    assert.equal(scheduled.activityTaskScheduledEventAttributes?.retryPolicy?.maximumAttempts, 10);
  });

  it('stops at maximumAttempts', async () => {
    const seen = await run('activityFailure', ['maxAttempts']);
    assert.equal(seen.causeType, 'TransientError');
    assert.equal(seen.retryState, 'MAXIMUM_ATTEMPTS_REACHED');
  });

  it('does not retry nonRetryableErrorTypes', async () => {
    const seen = await run('activityFailure', ['nonRetryableType']);
    assert.equal(seen.causeType, 'FatalError');
    assert.equal(seen.retryState, 'NON_RETRYABLE_FAILURE');
  });

  it('does not retry a failure flagged nonRetryable', async () => {
    const seen = await run('activityFailure', ['nonRetryableFlag']);
    assert.equal(seen.retryState, 'NON_RETRYABLE_FAILURE');
  });

  it('hands heartbeat details to the next attempt', async () => {
    const key = uniqueId('hb');
    const result = await run('heartbeatDetails', [key]);
    assert.equal(result, 'attempt 3 saw {"progress":20}');
    assert.deepEqual(activities.heartbeatSeen.get(key), [null, { progress: 10 }, { progress: 20 }]);
  });

  it('times out an activity that stops heartbeating', async () => {
    const seen = await run('activityFailure', ['heartbeat']);
    assert.equal(seen.causeName, 'TimeoutFailure');
    assert.equal(seen.timeoutType, 'HEARTBEAT');
  });

  it('times out start-to-close and retries up to maximumAttempts', async () => {
    const seen = await run('activityFailure', ['startToClose']);
    assert.equal(seen.causeName, 'TimeoutFailure');
    assert.equal(seen.timeoutType, 'START_TO_CLOSE');
    assert.equal(seen.retryState, 'MAXIMUM_ATTEMPTS_REACHED');
  });

  it('ends retries at schedule-to-close', async () => {
    const seen = await run('activityFailure', ['scheduleToClose']);
    // The last failure if the next retry would pass the deadline, or the schedule-to-close timeout
    // itself if the deadline passes while an attempt runs (a loaded machine).
    assert.ok(seen.causeName === 'ApplicationFailure' || seen.causeName === 'TimeoutFailure', JSON.stringify(seen));
    assert.equal(seen.retryState, 'TIMEOUT');
  });

  it('times out schedule-to-start when no worker polls the queue', async () => {
    const seen = await run('activityFailure', ['scheduleToStart']);
    assert.equal(seen.causeName, 'TimeoutFailure');
    assert.equal(seen.timeoutType, 'SCHEDULE_TO_START');
  });

  it('delivers a cancellation request to a running activity through its heartbeat', async () => {
    const workflowId = uniqueId('cancel-act');
    assert.equal(
      await suite.env.client.workflow.execute('cancelActivity', { taskQueue: suite.worker.taskQueue, workflowId }),
      'cancelled',
    );
    const history = await suite.env.client.workflow.getHandle(workflowId).fetchHistory();
    const types = history.events!.map((e) => e.eventType);
    assert.ok(types.includes(EventType.EVENT_TYPE_ACTIVITY_TASK_CANCEL_REQUESTED));
    assert.ok(types.includes(EventType.EVENT_TYPE_ACTIVITY_TASK_CANCELED));
  });

  it('cancels an activity that has not started yet at once', async () => {
    assert.equal(await run('cancelScheduledActivity'), 'cancelled');
  });
});
