import { test } from 'node:test';
import assert from 'node:assert/strict';
import { temporalUiUrl, temporalWorkflowUrl } from '../../src/temporal/ui-url';

test('the Web UI: as configured; the dev default next to a real Temporal; none on the embedded engine', () => {
  assert.equal(temporalUiUrl({ uiUrl: 'https://cloud.temporal.io', embedded: false }), 'https://cloud.temporal.io');
  assert.equal(temporalUiUrl({ uiUrl: 'http://ui.test', embedded: true }), 'http://ui.test');
  assert.equal(temporalUiUrl({ uiUrl: undefined, embedded: false }), 'http://localhost:8233');
  assert.equal(temporalUiUrl({ uiUrl: undefined, embedded: true }), undefined);
});

test('a workflow run in the Web UI', () => {
  assert.equal(
    temporalWorkflowUrl('http://localhost:8233/', 'default', 'invoice-gate-in_1', 'run/1'),
    'http://localhost:8233/namespaces/default/workflows/invoice-gate-in_1/run%2F1/history',
  );
  assert.equal(
    temporalWorkflowUrl('http://localhost:8233', 'ns.acct', 'invoice-gate-in_1'),
    'http://localhost:8233/namespaces/ns.acct/workflows/invoice-gate-in_1',
  );
});
