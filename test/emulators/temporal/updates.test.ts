// Workflow Updates through the real SDK client and worker (issue 22): the samples'
// message-passing introduction, validator rejection without a history event (also several in a
// row, with no core error), update-id deduplication, updates to closed workflows, accepted updates
// across a worker restart, workflow close with handlers in flight, continue-as-new, and
// update-with-start (the early-return sample).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { WithStartWorkflowOperation, WorkflowUpdateFailedError, type WorkflowHandle } from '@temporalio/client';
import { WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import { bundleWorkflowCode, Runtime } from '@temporalio/worker';
import {
  coreErrors,
  eventually,
  flushCoreLogs,
  runWorker,
  startTestEnv,
  uniqueId,
  type RunningWorker,
  type TestEnv,
} from './helpers';
import type {
  GreetingActivities,
  Language,
  TransactionActivities,
  decisionWorkflow,
  greetingWorkflow,
  transactionWorkflow,
} from './sample-workflows';

const EventType = temporal.api.enums.v1.EventType;
const UPDATE_EVENTS = [
  EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED,
  EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_COMPLETED,
];

async function eventTypes(handle: WorkflowHandle): Promise<number[]> {
  return ((await handle.fetchHistory()).events ?? []).map((e) => e.eventType!);
}

describe('temporal conformance: workflow updates', () => {
  let env: TestEnv;
  let worker: RunningWorker;
  let workflowBundle: { code: string };
  const greetingService: Partial<Record<Language, string>> = { ARABIC: 'مرحبا بالعالم' };
  const transactions: string[] = [];
  const activities: GreetingActivities & TransactionActivities = {
    async callGreetingService(language) {
      return greetingService[language];
    },
    async initTransaction(id) {
      transactions.push(`init ${id}`);
      return `confirmation of ${id}`;
    },
    async completeTransaction(id) {
      transactions.push(`complete ${id}`);
    },
  };
  before(async () => {
    env = await startTestEnv();
    workflowBundle = await bundleWorkflowCode({
      workflowsPath: require.resolve('./sample-workflows'),
      logger: { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error() {} } as any,
    });
    worker = await runWorker(env, { workflowBundle, activities });
  });
  after(async () => {
    await worker?.stop();
    await env?.stop();
  });

  function startDecision(waitForHandlers = true) {
    return env.client.workflow.start<typeof decisionWorkflow>('decisionWorkflow', {
      taskQueue: worker.taskQueue,
      workflowId: uniqueId('decision'),
      args: [waitForHandlers],
    });
  }

  it('message-passing introduction: updates, a validator, an update that calls an activity', async () => {
    const handle = await env.client.workflow.start<typeof greetingWorkflow>('greetingWorkflow', {
      taskQueue: worker.taskQueue,
      workflowId: uniqueId('greeting'),
    });
    assert.equal(await handle.executeUpdate('setLanguage', { args: ['CHINESE'] }), 'ENGLISH');
    assert.equal(await handle.query('getLanguage'), 'CHINESE');
    await assert.rejects(handle.executeUpdate('setLanguage', { args: ['ARABIC'] }), (err: unknown) => {
      assert.ok(err instanceof WorkflowUpdateFailedError);
      assert.match(String((err.cause as Error)?.message), /ARABIC is not supported/);
      return true;
    });
    assert.equal(await handle.executeUpdate('setLanguageUsingActivity', { args: ['ARABIC'] }), 'CHINESE');
    await assert.rejects(
      handle.executeUpdate('setLanguageUsingActivity', { args: ['HINDI'] }),
      WorkflowUpdateFailedError,
    );
    await handle.signal('approve', { name: 'reviewer' });
    assert.equal(await handle.result(), 'مرحبا بالعالم');
  });

  it('an accepted update writes Accepted and Completed right after the task that ran it', async () => {
    const handle = await startDecision();
    await eventually(async () => (await eventTypes(handle)).includes(EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED));
    const update = await handle.startUpdate('decide', { args: ['release'], waitForStage: 'ACCEPTED' });
    await handle.signal('releaseHandlers');
    assert.equal(await update.result(), 'release');
    await handle.signal('finish');
    assert.equal(await handle.result(), 'release');
    assert.deepEqual(
      (await eventTypes(handle)).map((t) => EventType[t]),
      [
        'EVENT_TYPE_WORKFLOW_EXECUTION_STARTED',
        'EVENT_TYPE_WORKFLOW_TASK_SCHEDULED',
        'EVENT_TYPE_WORKFLOW_TASK_STARTED',
        'EVENT_TYPE_WORKFLOW_TASK_COMPLETED',
        'EVENT_TYPE_WORKFLOW_TASK_SCHEDULED',
        'EVENT_TYPE_WORKFLOW_TASK_STARTED',
        'EVENT_TYPE_WORKFLOW_TASK_COMPLETED',
        'EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED',
        'EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED',
        'EVENT_TYPE_WORKFLOW_TASK_SCHEDULED',
        'EVENT_TYPE_WORKFLOW_TASK_STARTED',
        'EVENT_TYPE_WORKFLOW_TASK_COMPLETED',
        'EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_COMPLETED',
        'EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED',
        'EVENT_TYPE_WORKFLOW_TASK_SCHEDULED',
        'EVENT_TYPE_WORKFLOW_TASK_STARTED',
        'EVENT_TYPE_WORKFLOW_TASK_COMPLETED',
        'EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED',
      ],
    );
  });

  it('a validator rejection writes no event, not even the workflow task that carried it', async () => {
    const handle = await startDecision();
    await eventually(async () => (await eventTypes(handle)).includes(EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED));
    const before = await eventTypes(handle);
    await assert.rejects(handle.executeUpdate('decide', { args: ['maybe'] }), (err: unknown) => {
      assert.ok(err instanceof WorkflowUpdateFailedError);
      assert.match(String((err.cause as Error)?.message), /unknown decision maybe/);
      return true;
    });
    assert.deepEqual(await eventTypes(handle), before);
    await handle.terminate('test cleanup');
  });

  it('consecutive rejections leave no trace and no core error; an update accepted after them gets the next ids', async () => {
    const handle = await startDecision();
    await eventually(async () => (await eventTypes(handle)).includes(EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED));
    const before = await eventTypes(handle);
    const coreErrorsBefore = coreErrors.length;
    // The workflow is idle and cached on the worker's sticky queue: each rejection is a task the
    // server drops, and the worker must roll back from it before the next one (same event ids).
    for (const choice of ['maybe', 'perhaps', 'later']) {
      await assert.rejects(handle.executeUpdate('decide', { args: [choice] }), (err: unknown) => {
        assert.ok(err instanceof WorkflowUpdateFailedError);
        assert.match(String((err.cause as Error)?.message), new RegExp(`unknown decision ${choice}`));
        return true;
      });
      assert.deepEqual(await eventTypes(handle), before, `history unchanged after rejecting ${choice}`);
    }
    const update = await handle.startUpdate('decide', {
      args: ['release'],
      updateId: 'after-rejections',
      waitForStage: 'ACCEPTED',
    });
    await handle.signal('releaseHandlers');
    assert.equal(await update.result(), 'release');
    const events = (await handle.fetchHistory()).events ?? [];
    assert.deepEqual(
      events.map((e) => `${String(e.eventId)} ${EventType[e.eventType!]}`),
      [
        '1 EVENT_TYPE_WORKFLOW_EXECUTION_STARTED',
        '2 EVENT_TYPE_WORKFLOW_TASK_SCHEDULED',
        '3 EVENT_TYPE_WORKFLOW_TASK_STARTED',
        '4 EVENT_TYPE_WORKFLOW_TASK_COMPLETED',
        '5 EVENT_TYPE_WORKFLOW_TASK_SCHEDULED',
        '6 EVENT_TYPE_WORKFLOW_TASK_STARTED',
        '7 EVENT_TYPE_WORKFLOW_TASK_COMPLETED',
        '8 EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED',
        '9 EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED',
        '10 EVENT_TYPE_WORKFLOW_TASK_SCHEDULED',
        '11 EVENT_TYPE_WORKFLOW_TASK_STARTED',
        '12 EVENT_TYPE_WORKFLOW_TASK_COMPLETED',
        '13 EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_COMPLETED',
      ],
    );
    const accepted = events[7].workflowExecutionUpdateAcceptedEventAttributes!;
    assert.equal(accepted.protocolInstanceId, 'after-rejections');
    assert.equal(String(accepted.acceptedRequestSequencingEventId), '5');
    assert.equal(accepted.acceptedRequest!.input!.name, 'decide');
    const completed = events[12].workflowExecutionUpdateCompletedEventAttributes!;
    assert.equal(String(completed.acceptedEventId), '8');
    assert.equal(completed.meta!.updateId, 'after-rejections');
    await flushCoreLogs();
    assert.deepEqual(coreErrors.slice(coreErrorsBefore), [], 'core logged no error');
    await handle.terminate('test cleanup');
  });

  it('the same update id is one decision: the second call gets the first outcome, also after close', async () => {
    const handle = await startDecision();
    const first = await handle.startUpdate('decide', {
      args: ['release'],
      updateId: 'click',
      waitForStage: 'ACCEPTED',
    });
    const second = await handle.startUpdate('decide', {
      args: ['recount'],
      updateId: 'click',
      waitForStage: 'ACCEPTED',
    });
    await handle.signal('releaseHandlers');
    assert.equal(await first.result(), 'release');
    assert.equal(await second.result(), 'release');
    assert.equal(await handle.query('decisionCount'), 1, 'the handler ran once');
    await handle.signal('finish');
    await handle.result();
    assert.equal(await handle.executeUpdate('decide', { args: ['recount'], updateId: 'click' }), 'release');
    const history = await eventTypes(handle);
    assert.equal(history.filter((t) => t === EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED).length, 1);
  });

  it('safe-message-handlers: concurrent updates each run once and get their own outcome', async () => {
    const handle = await startDecision();
    const choices = ['release', 'recount', 'release', 'recount', 'release'];
    const updates = await Promise.all(
      choices.map((choice, i) =>
        handle.startUpdate('decide', { args: [choice], updateId: `concurrent-${i}`, waitForStage: 'ACCEPTED' }),
      ),
    );
    assert.equal(await handle.query('decisionCount'), choices.length);
    await handle.signal('releaseHandlers');
    const outcomes = await Promise.all(updates.map((u) => u.result()));
    assert.equal(new Set(outcomes).size, 1, 'every handler answers with the one decision taken');
    await handle.signal('finish');
    assert.equal(await handle.result(), outcomes[0]);
    const history = await eventTypes(handle);
    for (const type of UPDATE_EVENTS) assert.equal(history.filter((t) => t === type).length, choices.length);
  });

  it('a new update to a closed workflow fails as on the server (WorkflowNotFoundError)', async () => {
    const handle = await startDecision();
    await handle.signal('finish');
    await handle.result();
    await assert.rejects(handle.executeUpdate('decide', { args: ['release'] }), WorkflowNotFoundError);
  });

  it('an accepted update in flight survives a worker restart (replayed from its Accepted event)', async () => {
    const handle = await startDecision();
    const update = await handle.startUpdate('decide', { args: ['recount'], waitForStage: 'ACCEPTED' });
    await worker.stop();
    worker = await runWorker(env, { workflowBundle, activities, taskQueue: worker.taskQueue });
    await handle.signal('releaseHandlers');
    assert.equal(await update.result(), 'recount');
    await handle.signal('finish');
    assert.equal(await handle.result(), 'recount');
    const history = await eventTypes(handle);
    assert.deepEqual(
      history.filter((t) => UPDATE_EVENTS.includes(t)),
      UPDATE_EVENTS,
      'one Accepted, one Completed',
    );
  });

  it('an update admitted while no worker runs is delivered to the next one', async () => {
    const handle = await startDecision();
    await eventually(async () => (await eventTypes(handle)).includes(EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED));
    await worker.stop();
    const pending = handle.executeUpdate('decide', { args: ['release'] });
    await new Promise((r) => setTimeout(r, 200));
    worker = await runWorker(env, { workflowBundle, activities, taskQueue: worker.taskQueue });
    await handle.signal('releaseHandlers');
    assert.equal(await pending, 'release');
    await handle.terminate('test cleanup');
  });

  it('a workflow that closes with an accepted update unfinished: the worker warns, the update fails as on the server', async () => {
    // The worker's warning about the unfinished handler (TMPRL1102) goes to the Runtime logger.
    const logger = Runtime.instance().logger as any;
    const original = { log: logger.log, warn: logger.warn };
    const warnings: string[] = [];
    logger.log = (level: string, message: string) => {
      if (level === 'WARN') warnings.push(message);
    };
    logger.warn = (message: string) => warnings.push(message);
    const handle = await startDecision(false);
    const update = await handle.startUpdate('decide', { args: ['release'], waitForStage: 'ACCEPTED' });
    await handle.signal('finish');
    try {
      assert.equal(await handle.result(), 'none');
      await eventually(async () => warnings.some((w) => w.includes('[TMPRL1102]')));
    } finally {
      Object.assign(logger, original);
    }
    await assert.rejects(update.result(), (err: unknown) => {
      assert.ok(err instanceof WorkflowUpdateFailedError);
      assert.equal(
        (err.cause as Error).message,
        'Workflow Update failed because the Workflow completed before the Update completed.',
      );
      return true;
    });
  });

  it('allHandlersFinished: the workflow waits for its update handlers before it completes', async () => {
    const handle = await startDecision(true);
    const update = await handle.startUpdate('decide', { args: ['recount'], waitForStage: 'ACCEPTED' });
    await handle.signal('finish');
    await new Promise((r) => setTimeout(r, 200));
    assert.equal((await handle.describe()).status.name, 'RUNNING', 'still running while the handler waits');
    await handle.signal('releaseHandlers');
    assert.equal(await update.result(), 'recount');
    assert.equal(await handle.result(), 'recount');
  });

  it('an update without a run id follows continue-as-new; one that names the old run fails', async () => {
    const handle = env.client.workflow.getHandle(
      (
        await env.client.workflow.start('continuesOnSignal', {
          taskQueue: worker.taskQueue,
          workflowId: uniqueId('continues'),
        })
      ).workflowId,
    );
    const firstRun = (await handle.describe()).runId;
    assert.equal(await handle.executeUpdate('decide', { args: ['a'] }), 'a 1');
    await handle.signal('approve', { name: 'next' });
    await eventually(async () => (await handle.describe()).runId !== firstRun);
    assert.equal(await handle.executeUpdate('decide', { args: ['b'] }), 'b 1');
    const oldRun = env.client.workflow.getHandle(handle.workflowId, firstRun);
    await assert.rejects(oldRun.executeUpdate('decide', { args: ['c'] }), WorkflowNotFoundError);
    await handle.signal('finish');
    assert.equal(await handle.result(), 1);
  });

  it('early-return: update-with-start returns the confirmation before the workflow completes', async () => {
    const workflowId = uniqueId('transaction');
    const startWorkflowOperation = new WithStartWorkflowOperation<typeof transactionWorkflow>('transactionWorkflow', {
      workflowId,
      taskQueue: worker.taskQueue,
      args: [workflowId],
      workflowIdConflictPolicy: 'FAIL',
    });
    const confirmation = await env.client.workflow.executeUpdateWithStart('getTransactionConfirmation', {
      startWorkflowOperation,
    });
    assert.equal(confirmation, `confirmation of ${workflowId}`);
    const handle = await startWorkflowOperation.workflowHandle();
    assert.equal(await handle.result(), `completed confirmation of ${workflowId}`);
    assert.deepEqual(
      transactions.filter((t) => t.endsWith(workflowId)),
      [`init ${workflowId}`, `complete ${workflowId}`],
    );
  });

  it('update-with-start: USE_EXISTING updates the running workflow, FAIL refuses it', async () => {
    const workflowId = uniqueId('decision');
    const handle = await env.client.workflow.start<typeof decisionWorkflow>('decisionWorkflow', {
      taskQueue: worker.taskQueue,
      workflowId,
      args: [true],
    });
    const withStart = (conflict: 'USE_EXISTING' | 'FAIL') =>
      new WithStartWorkflowOperation<typeof decisionWorkflow>('decisionWorkflow', {
        workflowId,
        taskQueue: worker.taskQueue,
        args: [true],
        workflowIdConflictPolicy: conflict,
      });
    const existing = withStart('USE_EXISTING');
    const update = await env.client.workflow.startUpdateWithStart('decide', {
      args: ['release'],
      waitForStage: 'ACCEPTED',
      startWorkflowOperation: existing,
    });
    assert.equal((await (await existing.workflowHandle()).describe()).runId, handle.firstExecutionRunId);
    await handle.signal('releaseHandlers');
    assert.equal(await update.result(), 'release');
    await assert.rejects(
      env.client.workflow.executeUpdateWithStart('decide', {
        args: ['recount'],
        startWorkflowOperation: withStart('FAIL'),
      }),
      WorkflowExecutionAlreadyStartedError,
    );
    await handle.signal('finish');
    assert.equal(await handle.result(), 'release');
  });
});
