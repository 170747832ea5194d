// The daily observe-mode digest workflow on the embedded engine with fake activities: one post a day at
// GATE_DIGEST_AT on the workflow clock, summing the 24 hours before; no post on a day without observe-mode
// gates; a changed time taken over, `off` ends it, a fresh history every N days, a refused post does not
// end it. The clock moves only by skipTime.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { Client } from '@temporalio/client';
import { activityInfo } from '@temporalio/activity';
import type { TemporalEmulator } from '../../emulators/temporal';
import { withActivityFailures } from '../../src/activities/activity-failure';
import type { ObserveDigestActivities } from '../../src/activities';
import { GateError } from '../../src/gate/failures';
import { DAY_MS, nextDigestAt, type DigestPeriod, type ObserveDigestSummary } from '../../src/gate/observe-digest';
import { OBSERVE_DIGEST_WORKFLOW_TYPE } from '../../src/workflows/digest-definitions';
import type { observeDigest, ObserveDigestInput, ObserveDigestResult } from '../../src/workflows/observe-digest';
import { startWorkflowTestEnv, type WorkflowTestEnv } from '../support/workflow-test-env';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

/** Per digest (workflow id): GATE_DIGEST_AT as the worker says, what each day sums, what was posted. */
interface FakeDigest {
  atMinuteUtc: number | null;
  /** The day's sums, by the period's end; a day not listed had no gates. */
  days: Map<number, Pick<ObserveDigestSummary, 'checked' | 'wouldHold' | 'money'>>;
  summarized: DigestPeriod[];
  posted: ObserveDigestSummary[];
  refusePosts: boolean;
}

describe('observeDigest', () => {
  let env: WorkflowTestEnv;
  let temporal: TemporalEmulator;
  let client: Client;
  let taskQueue: string;
  const digests = new Map<string, FakeDigest>();
  const current = () => digests.get(activityInfo().workflowExecution?.workflowId ?? '')!;

  const activities: ObserveDigestActivities = withActivityFailures({
    async observeDigestSchedule() {
      return { atMinuteUtc: current().atMinuteUtc };
    },
    async summarizeObservedDay(period: DigestPeriod): Promise<ObserveDigestSummary> {
      const fake = current();
      fake.summarized.push(period);
      return { period, ...(fake.days.get(period.to) ?? { checked: 0, wouldHold: 0, money: [] }) };
    },
    async postObserveDigest(summary: ObserveDigestSummary) {
      const fake = current();
      if (fake.refusePosts)
        throw new GateError('Slack refused the message: channel_not_found', {
          type: 'SlackRequestRejected:channel_not_found',
          retryable: false,
        });
      fake.posted.push(summary);
      return { channel: 'C0BILLING', ts: `${fake.posted.length}.000100` };
    },
  });

  before(async () => {
    env = await startWorkflowTestEnv('digest-unit', activities);
    ({ temporal, client, taskQueue } = env);
  });

  after(async () => {
    await env?.stop();
  });

  async function startDigest(input: ObserveDigestInput, fake: Partial<FakeDigest> = {}) {
    const workflowId = `digest-${randomUUID().slice(0, 8)}`;
    const digest: FakeDigest = {
      atMinuteUtc: input.atMinuteUtc,
      days: new Map(),
      summarized: [],
      posted: [],
      refusePosts: false,
      ...fake,
    };
    digests.set(workflowId, digest);
    const handle = await client.workflow.start<typeof observeDigest>(OBSERVE_DIGEST_WORKFLOW_TYPE, {
      taskQueue,
      workflowId,
      args: [input],
    });
    return { handle, digest, firstPostAt: nextDigestAt(temporal.now().getTime(), input.atMinuteUtc) };
  }

  async function until(check: () => boolean, what: string): Promise<void> {
    for (let i = 0; i < 400 && !check(); i += 1) await new Promise((resolve) => setTimeout(resolve, 25));
    assert.ok(check(), what);
  }

  /** Moves the workflow clock to `at` plus a minute (the digest's timer fires at `at`). */
  async function skipPast(at: number): Promise<void> {
    await temporal.skipTime(Math.max(0, at - temporal.now().getTime()) + MINUTE);
  }

  const settle = () => new Promise((resolve) => setTimeout(resolve, 200));

  test('posts once a day at GATE_DIGEST_AT, summing the 24 hours before; a day without gates gets no post', async () => {
    // Three hours ahead of the clock, whatever time of day the test runs (a fixed 09:00 left no hour to
    // skip to between 08:00 and 09:00 UTC).
    const hour = (temporal.now().getUTCHours() + 3) % 24;
    const { handle, digest, firstPostAt } = await startDigest({ atMinuteUtc: hour * 60 });
    assert.equal(new Date(firstPostAt).toISOString().slice(11, 16), `${String(hour).padStart(2, '0')}:00`);
    const busyDay = {
      checked: 12,
      wouldHold: 3,
      money: [
        { currency: 'eur', overMinor: '990', underMinor: '0', linesWithoutPrice: 0 },
        { currency: 'usd', overMinor: '12345.5', underMinor: '200', linesWithoutPrice: 1 },
      ],
    };
    digest.days.set(firstPostAt, busyDay);
    digest.days.set(firstPostAt + 2 * DAY_MS, { checked: 4, wouldHold: 0, money: [] });

    await temporal.skipTime(firstPostAt - temporal.now().getTime() - HOUR);
    await settle();
    assert.equal(digest.summarized.length, 0, 'nothing before GATE_DIGEST_AT');

    await skipPast(firstPostAt);
    await until(() => digest.posted.length === 1, 'the first digest');
    assert.deepEqual(digest.posted[0], { period: { from: firstPostAt - DAY_MS, to: firstPostAt }, ...busyDay });

    await skipPast(firstPostAt + DAY_MS);
    await until(() => digest.summarized.length === 2, 'the second day summed');
    await settle();
    assert.equal(digest.posted.length, 1, 'a day without observe-mode gates: no post');

    await skipPast(firstPostAt + 2 * DAY_MS);
    await until(() => digest.posted.length === 2, 'the third day posted');
    assert.deepEqual(digest.posted[1].period, { from: firstPostAt + DAY_MS, to: firstPostAt + 2 * DAY_MS });
    assert.equal(digest.posted[1].checked, 4);
    assert.deepEqual(
      digest.summarized.map((p) => p.to - p.from),
      [DAY_MS, DAY_MS, DAY_MS],
    );
    await handle.terminate('test done');
  });

  test('a worker with another GATE_DIGEST_AT takes over from the next post; off ends the digest', async () => {
    const { handle, digest, firstPostAt } = await startDigest({ atMinuteUtc: 9 * 60 });
    digest.atMinuteUtc = 17 * 60;
    await skipPast(firstPostAt);
    await settle();
    assert.equal(digest.summarized.length, 0, 'rescheduled, not summed at the old time');
    const at17 = firstPostAt + 8 * HOUR;
    digest.days.set(at17, { checked: 1, wouldHold: 1, money: [] });
    await skipPast(at17);
    await until(() => digest.posted.length === 1, 'the digest at the new time');
    assert.deepEqual(digest.posted[0].period, { from: at17 - DAY_MS, to: at17 });

    digest.atMinuteUtc = null;
    await skipPast(at17 + DAY_MS);
    const result: ObserveDigestResult = await handle.result();
    assert.deepEqual(result, { days: 2, posted: 1 });
  });

  test('continues as new every N days and goes on posting', async () => {
    const { handle, digest, firstPostAt } = await startDigest({ atMinuteUtc: 0, continueAsNewAfterDays: 2 });
    const firstRunId = (await handle.describe()).runId;
    for (let day = 0; day < 3; day += 1)
      digest.days.set(firstPostAt + day * DAY_MS, { checked: 1, wouldHold: 0, money: [] });
    for (let day = 0; day < 3; day += 1) {
      await skipPast(firstPostAt + day * DAY_MS);
      await until(() => digest.posted.length === day + 1, `day ${day + 1}`);
    }
    const latest = client.workflow.getHandle(handle.workflowId);
    assert.notEqual((await latest.describe()).runId, firstRunId, 'a fresh history after 2 days');
    digest.atMinuteUtc = null;
    await skipPast(firstPostAt + 3 * DAY_MS);
    const result: ObserveDigestResult = await latest.result();
    assert.deepEqual(result, { days: 3, posted: 1 });
  });

  test('a post Slack refuses for good is logged; the digest goes on the next day', async () => {
    const { handle, digest, firstPostAt } = await startDigest({ atMinuteUtc: 6 * 60 }, { refusePosts: true });
    digest.days.set(firstPostAt, { checked: 2, wouldHold: 1, money: [] });
    digest.days.set(firstPostAt + DAY_MS, { checked: 3, wouldHold: 0, money: [] });
    await skipPast(firstPostAt);
    await until(() => digest.summarized.length === 1, 'the first day summed');
    await settle();
    digest.refusePosts = false;
    await skipPast(firstPostAt + DAY_MS);
    await until(() => digest.posted.length === 1, 'the next day posted');
    assert.equal(digest.posted[0].checked, 3);
    assert.equal((await handle.describe()).status.name, 'RUNNING');
    await handle.terminate('test done');
  });
});
