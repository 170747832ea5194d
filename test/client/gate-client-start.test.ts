// The gate client's start and existence check over a Temporal Client: the webhook and the sweep start a
// gate the same way (workflow id, policies, search attributes), with what each knows as GateStart.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  WorkflowExecutionAlreadyStartedError,
  WorkflowNotFoundError,
  type Client,
  type WorkflowStartOptions,
} from '@temporalio/client';
import { createGateClient } from '../../src/client/gate-client';

function fakeClient(behaviour: { start?: () => unknown; describe?: (workflowId: string) => unknown } = {}) {
  const starts: Array<{ type: string; options: WorkflowStartOptions }> = [];
  const described: string[] = [];
  const client = {
    connection: { withDeadline: <T>(_deadline: number, call: () => Promise<T>) => call() },
    workflow: {
      async start(type: string, options: WorkflowStartOptions) {
        starts.push({ type, options });
        return behaviour.start?.();
      },
      getHandle(workflowId: string) {
        return {
          async describe() {
            described.push(workflowId);
            return behaviour.describe?.(workflowId);
          },
        };
      },
    },
  } as unknown as Client;
  return { client, starts, described };
}

const searchAttributes = (options: WorkflowStartOptions) =>
  (options.typedSearchAttributes as Array<{ key: { name: string }; value: unknown }>).map((a) => [a.key.name, a.value]);

test('the webhook start: GateStart from the event, startedBy webhook, the event id in the memo', async () => {
  const { client, starts } = fakeClient();
  const gates = createGateClient(client, 'invoice-gate');
  assert.equal(
    await gates.startGate(
      {
        id: 'in_1Web',
        customerId: 'cus_1',
        createdAt: 1_700_000_000,
        automaticallyFinalizesAt: 1_700_003_600,
        currency: 'usd',
        livemode: null,
      },
      'evt_1',
    ),
    'started',
  );
  const [{ type, options }] = starts;
  assert.equal(type, 'invoiceGate');
  assert.equal(options.workflowId, 'invoice-gate-in_1Web');
  assert.equal(options.taskQueue, 'invoice-gate');
  assert.deepEqual(options.args, [
    'in_1Web',
    {
      customerId: 'cus_1',
      createdAt: 1_700_000_000,
      automaticallyFinalizesAt: 1_700_003_600,
      currency: 'usd',
      startedBy: 'webhook',
    },
  ]);
  assert.equal(options.workflowIdConflictPolicy, 'USE_EXISTING');
  assert.equal(options.workflowIdReusePolicy, 'REJECT_DUPLICATE');
  assert.deepEqual(options.memo, { stripeEventId: 'evt_1', customerId: 'cus_1', startedBy: 'webhook' });
  assert.deepEqual(searchAttributes(options), [
    ['StripeInvoiceId', 'in_1Web'],
    ['InvoiceGateStatus', 'reading'],
    ['StripeCustomerId', 'cus_1'],
  ]);
});

test('a caller that knows only id and customer still starts the gate (times unknown: null)', async () => {
  const { client, starts } = fakeClient();
  await createGateClient(client, 'q').startGate({ id: 'in_1Old', customerId: null }, 'evt_2');
  assert.deepEqual(starts[0].options.args, [
    'in_1Old',
    { customerId: null, createdAt: null, automaticallyFinalizesAt: null, currency: null, startedBy: 'webhook' },
  ]);
  assert.deepEqual(searchAttributes(starts[0].options), [
    ['StripeInvoiceId', 'in_1Old'],
    ['InvoiceGateStatus', 'reading'],
  ]);
});

test('the sweep start: the same workflow id and policies, startedBy sweep, no event id', async () => {
  const { client, starts } = fakeClient();
  const gates = createGateClient(client, 'invoice-gate');
  await gates.startGate({
    id: 'in_1Swept',
    customerId: 'cus_2',
    createdAt: 1_700_000_000,
    automaticallyFinalizesAt: null,
    currency: 'eur',
    livemode: false,
    startedBy: 'sweep',
  });
  const { options } = starts[0];
  assert.equal(options.workflowId, 'invoice-gate-in_1Swept');
  assert.deepEqual(options.args, [
    'in_1Swept',
    {
      customerId: 'cus_2',
      createdAt: 1_700_000_000,
      automaticallyFinalizesAt: null,
      currency: 'eur',
      livemode: false,
      startedBy: 'sweep',
    },
  ]);
  assert.equal(options.workflowIdConflictPolicy, 'USE_EXISTING');
  assert.equal(options.workflowIdReusePolicy, 'REJECT_DUPLICATE');
  assert.deepEqual(options.memo, { customerId: 'cus_2', startedBy: 'sweep' });
});

test('a finished gate is not started again: already_gated', async () => {
  const { client } = fakeClient({
    start: () => {
      throw new WorkflowExecutionAlreadyStartedError('already started', 'invoice-gate-in_1Done', 'invoiceGate');
    },
  });
  assert.equal(
    await createGateClient(client, 'q').startGate({ id: 'in_1Done', customerId: null, startedBy: 'sweep' }),
    'already_gated',
  );
});

test('hasGate describes invoice-gate-<id>: found (running or closed) -> true, not found -> false, other errors pass through', async () => {
  const found = fakeClient({ describe: () => ({ status: { name: 'COMPLETED' } }) });
  assert.equal(await createGateClient(found.client, 'q').hasGate('in_1A'), true);
  assert.deepEqual(found.described, ['invoice-gate-in_1A']);

  const missing = fakeClient({
    describe: (id) => {
      throw new WorkflowNotFoundError('workflow not found', id, undefined);
    },
  });
  assert.equal(await createGateClient(missing.client, 'q').hasGate('in_1B'), false);

  const down = fakeClient({
    describe: () => {
      throw new Error('14 UNAVAILABLE');
    },
  });
  await assert.rejects(createGateClient(down.client, 'q').hasGate('in_1C'), /UNAVAILABLE/);
});
