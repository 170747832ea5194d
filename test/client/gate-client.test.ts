// The gate client's review calls over a Temporal Client: the right workflow id, query and signal;
// not-found mapping.
// (The run against a real Temporal engine is in the end-to-end tests.)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { createGateClient, GateGoneError } from '../../src/client/gate-client';
import { gateState } from '../slack/fixtures';

interface Call {
  kind: 'query' | 'signal';
  workflowId: string;
  name: string;
  args: unknown[];
}

function fakeClient(behaviour: (call: Call) => unknown): { client: Client; calls: Call[] } {
  const calls: Call[] = [];
  const client = {
    workflow: {
      getHandle(workflowId: string) {
        return {
          async query(def: { name: string }, ...args: unknown[]) {
            const call: Call = { kind: 'query', workflowId, name: def.name, args };
            calls.push(call);
            return behaviour(call);
          },
          async signal(def: { name: string }, ...args: unknown[]) {
            const call: Call = { kind: 'signal', workflowId, name: def.name, args };
            calls.push(call);
            await behaviour(call);
          },
        };
      },
    },
  } as unknown as Client;
  return { client, calls };
}

test('state queries `state` on invoice-gate-<id>; decide signals `decision`', async () => {
  const { client, calls } = fakeClient((c) => (c.kind === 'query' ? gateState() : undefined));
  const port = createGateClient(client, 'invoice-gate');
  assert.equal((await port.state('in_1Test'))?.status, 'held');
  await port.decide('in_1Test', { action: 'release', reviewer: 'U0ALICE' });
  assert.deepEqual(calls, [
    { kind: 'query', workflowId: 'invoice-gate-in_1Test', name: 'state', args: [] },
    {
      kind: 'signal',
      workflowId: 'invoice-gate-in_1Test',
      name: 'decision',
      args: [{ action: 'release', reviewer: 'U0ALICE' }],
    },
  ]);
});

test('an unknown workflow: state -> null, decide -> GateGoneError; other errors pass through', async () => {
  const notFound = fakeClient(() => {
    throw new WorkflowNotFoundError('workflow not found', 'invoice-gate-in_x', undefined);
  });
  const port = createGateClient(notFound.client, 'invoice-gate');
  assert.equal(await port.state('in_x'), null);
  await assert.rejects(port.decide('in_x', { action: 'recount', reviewer: 'U0ALICE' }), GateGoneError);

  const down = createGateClient(
    fakeClient(() => {
      throw new Error('14 UNAVAILABLE');
    }).client,
    'invoice-gate',
  );
  await assert.rejects(down.state('in_x'), /UNAVAILABLE/);
  await assert.rejects(down.decide('in_x', { action: 'release', reviewer: 'U0ALICE' }), /UNAVAILABLE/);
});
