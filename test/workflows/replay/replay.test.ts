// Held gates live for days: every deploy replays their histories on the new workflow code. Each file in
// histories/ is a gate recorded in one phase (record-histories.ts); all of them must replay unchanged.
// A change that fails here is not replay-compatible: guard it with patched() (and say so in the commit).
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { DefaultLogger, Runtime, Worker, type ReplayResult, type WorkflowBundle } from '@temporalio/worker';
import { DeterminismViolationError } from '@temporalio/workflow';
import { workflowBundle } from '../../support/workflow-bundle';
import { readHistoryDir } from './history-files';

const recorded = readHistoryDir(join(__dirname, 'histories'));
// v1-*: the first gate (decide once, end), which gates started before the follow-the-invoice patch run on.
// follows-*: the gate that follows its invoice to the end.
// local-audit-*: the same, recorded with patched('audit-writes-as-local-activities') (audit writes and
// settings as local activities, markers in the history).
// explains-*: the same gate explaining a hold (explains-divergences) and checking history (checks-usage-history).
const PHASES = [
  'v1-passed',
  'v1-skipped',
  'v1-held-waiting',
  'v1-held-with-reminders',
  'v1-released',
  'v1-recount-auto-released',
  'v1-recount-still-held',
  'v1-resolved-in-stripe',
  'v1-too-late',
  'follows-passed-watching',
  'follows-skipped',
  'follows-held-waiting',
  'follows-held-with-reminders',
  'follows-released-following',
  'follows-recount-still-held',
  'follows-late-usage-held',
  'follows-paid-ended',
  'follows-too-late-following',
  'local-audit-passed-watching',
  'local-audit-skipped',
  'local-audit-held-waiting',
  'local-audit-held-with-reminders',
  'local-audit-released-following',
  'local-audit-recount-still-held',
  'local-audit-late-usage-held',
  'local-audit-paid-ended',
  'local-audit-too-late-following',
  'explains-passed-watching',
  'explains-held-waiting',
];

describe('recorded gate histories replay on the current workflow code', () => {
  let bundle: WorkflowBundle;
  const results = new Map<string, ReplayResult>();
  before(async () => {
    // The probe below fails a workflow task on purpose: keep the SDK's warnings about it out of the output.
    Runtime.install({
      logger: new DefaultLogger('ERROR'),
      telemetryOptions: { logging: { filter: { core: 'ERROR', other: 'ERROR' }, forward: {} } },
    });
    bundle = await workflowBundle();
    const histories = recorded.map(({ name, history }) => ({ workflowId: `replay-${name}`, history }));
    for await (const result of Worker.runReplayHistories(
      { workflowBundle: bundle, replayName: 'gate-histories' },
      histories,
    )) {
      results.set(result.workflowId, result);
    }
  });

  test('a history is recorded for every phase a gate can be in', () => {
    const names = recorded.map((r) => r.name);
    for (const phase of PHASES) assert.ok(names.includes(phase), `histories/${phase}.json is missing`);
  });

  for (const { name } of recorded) {
    test(`${name} replays without a nondeterminism error`, () => {
      const result = results.get(`replay-${name}`);
      assert.ok(result, `no replay result for ${name}`);
      assert.equal(result.error, undefined, String(result.error));
    });
  }

  test('a history that does not match the code is caught (the check is live)', async () => {
    const held = recorded.find((r) => r.name === 'follows-held-waiting');
    assert.ok(held);
    const altered = structuredClone(held.history);
    const scheduled = altered.events.find(
      (e) => e.activityTaskScheduledEventAttributes,
    )?.activityTaskScheduledEventAttributes;
    assert.ok(scheduled);
    scheduled.activityType = { name: 'anActivityTheGateNeverRuns' };
    await assert.rejects(
      Worker.runReplayHistory({ workflowBundle: bundle, replayName: 'probe' }, altered, 'replay-probe'),
      DeterminismViolationError,
    );
  });
});
