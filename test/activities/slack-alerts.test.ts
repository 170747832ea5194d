// notifyReviewers posts the held alert once, however the audit behaves around it.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { WebClient } from '@slack/web-api';
import { MockActivityEnvironment } from '@temporalio/testing';
import type { AuditStore } from '../../src/audit/audit-store';
import { createSlackAlertActivities } from '../../src/activities/slack-alerts';
import type { GateRunKey, GateState, InvoiceSnapshot, SlackMessageRef } from '../../src/gate/types';
import { alertInput, gateState } from '../slack/fixtures';

const run: GateRunKey = { workflowId: 'invoice-gate-in_1Test', runId: 'run-1', invoiceId: 'in_1Test' };

function invoiceFixture(): InvoiceSnapshot {
  return {
    ...alertInput().invoice,
    customerMetadata: {},
    status: 'draft',
    autoAdvance: false,
    automaticallyFinalizesAt: null,
    meteredLines: [],
    otherLineCount: 0,
  };
}

function fakes(recordSlackMessage: (ref: SlackMessageRef) => Promise<void>) {
  const posts: unknown[] = [];
  const slack = {
    chat: {
      postMessage: async (args: unknown) => {
        posts.push(args);
        return { ok: true, channel: 'C0BILLING', ts: `1700000000.00010${posts.length}` };
      },
    },
  } as unknown as WebClient;
  const audit = {
    getRun: async () => null,
    recordSlackMessage: async (_run: GateRunKey, ref: SlackMessageRef) => recordSlackMessage(ref),
  } as unknown as AuditStore;
  const activities = createSlackAlertActivities({
    slack,
    channelId: 'C0BILLING',
    links: { temporalUiUrl: 'http://localhost:8233', temporalNamespace: 'default' },
    audit,
  });
  // MockActivityEnvironment.run takes a function: the activity, not a method pulled off its object.
  const notifyReviewers = (...args: Parameters<typeof activities.notifyReviewers>) =>
    activities.notifyReviewers(...args);
  return { posts, notifyReviewers };
}

describe('notifyReviewers', () => {
  test('Slack accepted the alert but the audit write failed: the ref is returned, not an error (a retry would post twice)', async () => {
    const { posts, notifyReviewers } = fakes(async () => {
      throw new Error('Connection terminated unexpectedly');
    });
    const invoice: InvoiceSnapshot = invoiceFixture();
    const state: GateState = gateState();
    const ref = await new MockActivityEnvironment().run(notifyReviewers, run, invoice, state);
    assert.deepEqual(ref, { channel: 'C0BILLING', ts: '1700000000.000101' });
    assert.equal(posts.length, 1);
  });

  test('the audit write succeeds: the ref is recorded', async () => {
    const recorded: SlackMessageRef[] = [];
    const { posts, notifyReviewers } = fakes(async (ref) => {
      recorded.push(ref);
    });
    const ref = await new MockActivityEnvironment().run(notifyReviewers, run, invoiceFixture(), gateState());
    assert.deepEqual(recorded, [ref]);
    assert.equal(posts.length, 1);
  });
});
