import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gateWorkflowId } from '../../src/workflows/definitions';

test('workflow id follows the contract', () => {
  assert.equal(gateWorkflowId('in_123'), 'invoice-gate-in_123');
});
