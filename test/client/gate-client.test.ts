// The gate client's review calls over a Temporal Client: the right workflow id, query and `decide` Update
// (its id naming the decision round, answered once the gate took it), refusals read from the Update's
// failure (@temporalio/client reports a validator's rejection there, not from startUpdate), not-found mapping.
// (The run against a real Temporal engine is in the end-to-end tests.)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ApplicationFailure, WorkflowNotFoundError, WorkflowUpdateFailedError, type Client } from '@temporalio/client';
import { createGateClient, GateGoneError } from '../../src/client/gate-client';
import { DECISION_REFUSED } from '../../src/workflows/definitions';
import { gateState } from '../slack/fixtures';

interface Call {
  kind: 'query' | 'update';
  workflowId: string;
  name: string;
  args: unknown[];
  updateId?: string;
}

/** `behaviour` answers a query, or an Update (its result, or it throws the Update's failure). */
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
          async executeUpdate(def: { name: string }, options: { args: unknown[]; updateId: string }) {
            const call: Call = {
              kind: 'update',
              workflowId,
              name: def.name,
              args: options.args,
              updateId: options.updateId,
            };
            calls.push(call);
            return behaviour(call);
          },
        };
      },
    },
  } as unknown as Client;
  return { client, calls };
}

const refused = (code: string, stage: 'validator' | 'gate', message: string) =>
  new WorkflowUpdateFailedError(
    'Workflow Update failed',
    ApplicationFailure.create({ type: DECISION_REFUSED, message, details: [code, stage], nonRetryable: true }),
  );

test('state queries `state` on invoice-gate-<id>; decide starts the `decide` Update named by the round', async () => {
  const { client, calls } = fakeClient((c) =>
    c.kind === 'query' ? { ...gateState(), decisionRound: 2 } : { status: 'releasing', decisionRound: 3 },
  );
  const port = createGateClient(client, 'invoice-gate');
  assert.equal((await port.state('in_1Test'))?.status, 'held');
  const decision = { action: 'release' as const, reviewer: 'U0ALICE', reason: 'ledger_late' };
  const outcome = await port.decide('in_1Test', decision);
  assert.equal(outcome.accepted, true);
  assert.equal(outcome.updateId, 'decide-in_1Test-2-release-U0ALICE');
  assert.deepEqual(await (outcome.accepted && outcome.answer), { status: 'releasing', decisionRound: 3 });
  assert.deepEqual(calls, [
    { kind: 'query', workflowId: 'invoice-gate-in_1Test', name: 'state', args: [] },
    { kind: 'query', workflowId: 'invoice-gate-in_1Test', name: 'state', args: [] },
    {
      kind: 'update',
      workflowId: 'invoice-gate-in_1Test',
      name: 'decide',
      args: [decision],
      updateId: 'decide-in_1Test-2-release-U0ALICE',
    },
  ]);
});

test("the validator's refusal is an outcome, not an error: its code, words and stage", async () => {
  const { client } = fakeClient((c) => {
    if (c.kind === 'query') return gateState();
    throw refused('reason_required', 'validator', 'a release needs a reason');
  });
  const outcome = await createGateClient(client, 'invoice-gate').decide('in_1Test', {
    action: 'release',
    reviewer: 'U0ALICE',
  });
  assert.deepEqual(outcome, {
    accepted: false,
    updateId: 'decide-in_1Test-0-release-U0ALICE',
    refusal: { code: 'reason_required', message: 'a release needs a reason', stage: 'validator' },
  });
});

test('refused when the gate took it: a refusal of stage `gate` (the gate logged it itself)', async () => {
  const { client } = fakeClient((c) => {
    if (c.kind === 'query') return gateState();
    throw refused('not_waiting', 'gate', 'the gate no longer holds the invoice');
  });
  const outcome = await createGateClient(client, 'invoice-gate').decide('in_1Test', {
    action: 'recount',
    reviewer: 'U0ALICE',
  });
  assert.deepEqual(outcome, {
    accepted: false,
    updateId: 'decide-in_1Test-0-recount-U0ALICE',
    refusal: { code: 'not_waiting', message: 'the gate no longer holds the invoice', stage: 'gate' },
  });
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
