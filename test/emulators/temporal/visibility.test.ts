// Visibility and search attributes: registration through OperatorService, typed attributes at
// start, upserts, memo, user metadata, Describe, List and Count with queries.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { defineSearchAttributeKey } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import { createTestActivities } from './activities';
import {
  ensureSearchAttributes,
  eventually,
  runWorker,
  startTestEnv,
  uniqueId,
  type RunningWorker,
  type TestEnv,
} from './helpers';

const InvoiceGateStatus = defineSearchAttributeKey('InvoiceGateStatus', 'KEYWORD');
const StripeCustomerId = defineSearchAttributeKey('StripeCustomerId', 'KEYWORD');
const GateVariancePct = defineSearchAttributeKey('GateVariancePct', 'DOUBLE');

describe('temporal conformance: visibility and search attributes', () => {
  let env: TestEnv;
  let worker: RunningWorker;
  before(async () => {
    env = await startTestEnv();
    await ensureSearchAttributes(env, {
      InvoiceGateStatus: 'INDEXED_VALUE_TYPE_KEYWORD',
      StripeCustomerId: 'INDEXED_VALUE_TYPE_KEYWORD',
      StripeInvoiceId: 'INDEXED_VALUE_TYPE_KEYWORD',
      GateVariancePct: 'INDEXED_VALUE_TYPE_DOUBLE',
    });
    worker = await runWorker(env, { activities: createTestActivities() });
  });
  after(async () => {
    await worker?.stop();
    await env?.stop();
  });

  it('lists, adds (idempotently) and removes custom search attributes', async () => {
    const name = `Tmp${Date.now()}`;
    await env.connection.operatorService.addSearchAttributes({
      namespace: env.namespace,
      searchAttributes: { [name]: temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_INT },
    });
    let listed = await env.connection.operatorService.listSearchAttributes({ namespace: env.namespace });
    assert.equal(listed.customAttributes?.[name], temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_INT);
    assert.equal(
      listed.customAttributes?.InvoiceGateStatus,
      temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD,
    );
    assert.ok(listed.systemAttributes?.WorkflowId);
    await env.connection.operatorService.removeSearchAttributes({ namespace: env.namespace, searchAttributes: [name] });
    listed = await env.connection.operatorService.listSearchAttributes({ namespace: env.namespace });
    assert.equal(listed.customAttributes?.[name], undefined);
  });

  it('rejects an unregistered search attribute at start with INVALID_ARGUMENT', async () => {
    await assert.rejects(
      env.client.workflow.start('noop', {
        taskQueue: worker.taskQueue,
        workflowId: uniqueId('bad-sa'),
        typedSearchAttributes: [{ key: defineSearchAttributeKey('NotRegisteredAnywhere', 'KEYWORD'), value: 'x' }],
      }),
      (err: any) => {
        assert.equal(err.cause?.code, 3);
        assert.match(err.cause?.details, /NotRegisteredAnywhere/);
        return true;
      },
    );
  });

  it('describes typed search attributes, memo, status and static summary/details', async () => {
    const handle = await env.client.workflow.start('waitForApproval', {
      taskQueue: worker.taskQueue,
      workflowId: uniqueId('describe'),
      typedSearchAttributes: [
        { key: StripeCustomerId, value: 'cus_123' },
        { key: GateVariancePct, value: 3.5 },
      ],
      memo: { invoice: 'in_42' },
      staticSummary: 'gate for in_42',
      staticDetails: 'details here',
    });
    const d = await handle.describe();
    assert.equal(d.status.name, 'RUNNING');
    assert.equal(d.type, 'waitForApproval');
    assert.equal(d.taskQueue, worker.taskQueue);
    assert.equal(d.typedSearchAttributes.get(StripeCustomerId), 'cus_123');
    assert.equal(d.typedSearchAttributes.get(GateVariancePct), 3.5);
    assert.deepEqual(d.memo, { invoice: 'in_42' });
    assert.equal(await d.staticSummary(), 'gate for in_42');
    assert.equal(await d.staticDetails(), 'details here');
    await handle.terminate();
    assert.equal((await handle.describe()).status.name, 'TERMINATED');
  });

  it('keeps upserted search attributes and finds runs with List and Count queries', async () => {
    const customer = uniqueId('cus');
    const handle = await env.client.workflow.start('reminderGate', {
      taskQueue: worker.taskQueue,
      workflowId: uniqueId('gate'),
      typedSearchAttributes: [{ key: StripeCustomerId, value: customer }],
    });
    await eventually(async () => (await handle.describe()).typedSearchAttributes.get(InvoiceGateStatus) === 'held');
    const d = await handle.describe();
    assert.equal(d.typedSearchAttributes.get(GateVariancePct), 12.5);
    const other = await env.client.workflow.start('noop', {
      taskQueue: worker.taskQueue,
      workflowId: uniqueId('other'),
      typedSearchAttributes: [{ key: StripeCustomerId, value: customer }],
    });
    await other.result();

    // (eventually: a real server's visibility store lags a little behind.)
    const held = await eventually(async () => {
      const found = [];
      for await (const wf of env.client.workflow.list({
        query: `StripeCustomerId = '${customer}' AND InvoiceGateStatus = 'held'`,
      }))
        found.push(wf);
      return found.length === 1 && found;
    });
    assert.deepEqual(
      held.map((w) => w.workflowId),
      [handle.workflowId],
    );
    assert.equal(held[0].typedSearchAttributes.get(GateVariancePct), 12.5);

    const count = (query: string) =>
      env.client.workflow.count(`StripeCustomerId = '${customer}'${query}`).then((c) => c.count);
    await eventually(async () => (await count('')) === 2);
    assert.equal(await count(` AND ExecutionStatus = 'Running'`), 1);
    assert.equal(await count(` AND (WorkflowType = 'noop' OR GateVariancePct > 10)`), 2);

    await handle.signal('approve', 'ok');
    await handle.result();
    assert.equal((await handle.describe()).typedSearchAttributes.get(InvoiceGateStatus), 'released');
  });

  it('pages through List results', async () => {
    const customer = uniqueId('cus-page');
    for (let i = 0; i < 5; i++) {
      await env.client.workflow.execute('noop', {
        taskQueue: worker.taskQueue,
        workflowId: uniqueId('page'),
        typedSearchAttributes: [{ key: StripeCustomerId, value: customer }],
      });
    }
    await eventually(async () => (await env.client.workflow.count(`StripeCustomerId = '${customer}'`)).count === 5);
    const first = await env.connection.workflowService.listWorkflowExecutions({
      namespace: env.namespace,
      pageSize: 2,
      query: `StripeCustomerId = '${customer}'`,
    });
    assert.equal(first.executions.length, 2);
    assert.ok(first.nextPageToken && first.nextPageToken.length > 0);
    const ids: string[] = [];
    for await (const wf of env.client.workflow.list({ query: `StripeCustomerId = '${customer}'`, pageSize: 2 }))
      ids.push(wf.workflowId);
    assert.equal(new Set(ids).size, 5);
  });

  it('rejects a malformed visibility query with INVALID_ARGUMENT', async () => {
    await assert.rejects(
      env.connection.workflowService.countWorkflowExecutions({
        namespace: env.namespace,
        query: 'WorkflowId = = oops',
      }),
      { code: 3 },
    );
    await assert.rejects(
      env.connection.workflowService.countWorkflowExecutions({
        namespace: env.namespace,
        query: "NoSuchAttribute = 'x'",
      }),
      { code: 3 },
    );
  });

  it('fails the workflow task when a workflow upserts an unregistered attribute', async () => {
    const handle = await env.client.workflow.start('upsertUnregistered', {
      taskQueue: worker.taskQueue,
      workflowId: uniqueId('upsert-bad'),
    });
    const failed = await eventually(async () => {
      const history = await handle.fetchHistory();
      return history.events!.find(
        (e) => e.eventType === temporal.api.enums.v1.EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED,
      );
    });
    assert.match(failed.workflowTaskFailedEventAttributes?.failure?.message ?? '', /NeverRegisteredAttr/);
    await handle.terminate();
  });

  it('counts by execution status with GROUP BY ExecutionStatus', async () => {
    const prefix = uniqueId('grouped');
    const start = (type: string, n: number) =>
      env.client.workflow.start(type, { taskQueue: worker.taskQueue, workflowId: `${prefix}-${n}` });
    const running = [await start('waitForApproval', 1), await start('waitForApproval', 2)];
    for (const n of [3, 4, 5]) await (await start('noop', n)).result();
    const query = `WorkflowId STARTS_WITH '${prefix}'`;
    await eventually(async () => (await env.client.workflow.count(query)).count === 5);
    assert.deepEqual(await env.client.workflow.count(`${query} GROUP BY ExecutionStatus`), {
      count: 5,
      groups: [
        { count: 2, groupValues: [['Running']] },
        { count: 3, groupValues: [['Completed']] },
      ],
    });
    for (const handle of running) await handle.terminate();
  });
});
