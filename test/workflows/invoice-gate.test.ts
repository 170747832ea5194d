// The gate workflow's every branch, on the embedded engine with fake activities: no PostgreSQL, no
// Stripe or Slack emulator. The fakes fail the way the real activities do (GateErrors translated by
// withActivityFailures), so the workflow sees the same failures it sees in production. Each test owns
// one invoice whose Stripe and ledger answers it changes as the story goes on.
import { after, afterEach, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { Client, WorkflowHandle } from '@temporalio/client';
import type { TemporalEmulator } from '../../emulators/temporal';
import type { GateActivities } from '../../src/activities';
import { withActivityFailures } from '../../src/activities/activity-failure';
import { FailureType, GateError } from '../../src/gate/failures';
import type { HistoryCheck } from '../../src/gate/history-jump';
import type {
  Comparison,
  GateSettings,
  GateStart,
  GateState,
  InvoiceSnapshot,
  MeteredLine,
  StripeInvoiceEvent,
} from '../../src/gate/types';
import {
  decideUpdate,
  decideUpdateId,
  decisionSignal,
  gateWorkflowId,
  stateQuery,
  stripeInvoiceEventSignal,
} from '../../src/workflows/definitions';
import { startWorkflowTestEnv, type WorkflowTestEnv } from '../support/workflow-test-env';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

/** One fake invoice: what Stripe and the ledger answer now. Tests change it as the story goes on. */
interface FakeInvoice {
  invoice: InvoiceSnapshot;
  ledgerQuantity: string;
  /** Stripe reads fail (HTTP 500, retried) while true. */
  stripeDown: boolean;
  /** The invoice is gone (404). */
  deleted: boolean;
  /** The ledger mapping cannot answer (final). */
  ledgerMappingError: boolean;
  pause: { applied: boolean; status: string } | 'refused';
  finalize: { applied: boolean; status: string };
  /** Stripe's meter event summaries fail (HTTP 500) on every attempt. */
  summariesDown?: boolean;
  /** What the history check finds per line (none: no history). */
  history?: HistoryCheck['lines'];
  calls: Array<{ activity: string; args: unknown[] }>;
}

class FakeWorld {
  readonly invoices = new Map<string, FakeInvoice>();
  settings: Partial<GateSettings> = {};

  get(invoiceId: string): FakeInvoice {
    const fake = this.invoices.get(invoiceId);
    if (!fake) throw new Error(`no fake invoice ${invoiceId}`);
    return fake;
  }

  calls(invoiceId: string, activity?: string) {
    return this.get(invoiceId).calls.filter((c) => !activity || c.activity === activity);
  }

  private record(invoiceId: string, activity: string, args: unknown[]): FakeInvoice {
    const fake = this.get(invoiceId);
    fake.calls.push({ activity, args: structuredClone(args) });
    return fake;
  }

  activities(): GateActivities {
    const fakes = {
      readInvoice: async (invoiceId: string) => {
        const fake = this.record(invoiceId, 'readInvoice', [invoiceId]);
        if (fake.stripeDown)
          throw new GateError('Stripe invoice retrieve failed: boom (api_error, HTTP 500)', {
            type: `${FailureType.stripeRetryable}:api_error`,
            retryable: true,
            retryAfterMs: 20_000,
          });
        if (fake.deleted)
          throw new GateError(`Stripe has no invoice ${invoiceId}`, {
            type: FailureType.invoiceNotFound,
            retryable: false,
          });
        return structuredClone(fake.invoice);
      },
      pauseInvoice: async (invoiceId: string, workflowId: string, pauseNumber?: number) => {
        const fake = this.record(invoiceId, 'pauseInvoice', [invoiceId, workflowId, pauseNumber]);
        if (fake.pause === 'refused') {
          throw new GateError(
            'Stripe invoice pause failed: Keys for idempotent requests (idempotency_error, HTTP 400)',
            { type: `${FailureType.stripeRejected}:idempotency_error`, retryable: false },
          );
        }
        if (fake.pause.applied) fake.invoice.autoAdvance = false;
        return fake.pause;
      },
      resumeInvoice: async (invoiceId: string, pauseNumber: number) => {
        const fake = this.record(invoiceId, 'resumeInvoice', [invoiceId, pauseNumber]);
        fake.invoice.autoAdvance = true;
        return { applied: true, status: fake.invoice.status };
      },
      finalizeInvoice: async (invoiceId: string) => {
        const fake = this.record(invoiceId, 'finalizeInvoice', [invoiceId]);
        if (fake.finalize.applied) fake.invoice.status = 'open';
        return { ...fake.finalize, requestId: `req_finalize_${invoiceId}` };
      },
      releaseInvoice: async (invoiceId: string, release: unknown, pauseNumber: number) => {
        const fake = this.record(invoiceId, 'releaseInvoice', [release, pauseNumber]);
        fake.invoice.autoAdvance = true;
        return {
          applied: fake.invoice.status === 'draft',
          status: fake.invoice.status,
          requestId: `req_release_${invoiceId}`,
        };
      },
      recordDecision: async (attempt: { invoiceId: string }) =>
        void this.record(attempt.invoiceId, 'recordDecision', [attempt]),
      loadGateSettings: async (customerId: string) => ({
        tolerance: { pct: '1', abs: '0' },
        reminderAfterMs: 4 * HOUR,
        reminderEveryMs: 24 * HOUR,
        decideMarginMs: 15 * MINUTE,
        review: { reviewers: ['U0ALICE', 'U0BOB', 'U0CAROL'], approvers: null, secondApprovalAbove: null },
        ...this.settings,
        ...(customerId ? {} : {}),
      }),
      countLedgerEvents: async (request: { customerId: string; lines: Array<{ lineId: string }> }) => {
        const invoiceId = request.customerId.slice('cus_'.length);
        const fake = this.record(invoiceId, 'countLedgerEvents', [request.lines.length]);
        if (fake.ledgerMappingError)
          throw new GateError('customer cus_x has no metadata "account_id"', {
            type: FailureType.ledgerMapping,
            retryable: false,
          });
        return Object.fromEntries(request.lines.map((l) => [l.lineId, fake.ledgerQuantity]));
      },
      notifyReviewers: async (run: { invoiceId: string }, _invoice: unknown, state: GateState) => {
        this.record(run.invoiceId, 'notifyReviewers', [state]);
        return { channel: 'C0BILLING', ts: `${this.calls(run.invoiceId, 'notifyReviewers').length}.000100` };
      },
      updateAlert: async (run: { invoiceId: string }, _invoice: unknown, state: GateState) =>
        void this.record(run.invoiceId, 'updateAlert', [state]),
      remindReviewers: async (
        run: { invoiceId: string },
        _invoice: unknown,
        _state: GateState,
        reminder: number,
        now: number,
      ) => void this.record(run.invoiceId, 'remindReviewers', [reminder, now]),
      alertFinalizedDivergence: async (run: { invoiceId: string }, _invoice: unknown, state: GateState) => {
        this.record(run.invoiceId, 'alertFinalizedDivergence', [state]);
        return { channel: 'C0BILLING', ts: '9.000100' };
      },
      recordGateStarted: async (run: { invoiceId: string }, startedBy?: string) =>
        void this.record(run.invoiceId, 'recordGateStarted', [startedBy]),
      recordInvoiceRead: async (run: { invoiceId: string }) => void this.record(run.invoiceId, 'recordInvoiceRead', []),
      recordComparison: async (run: { invoiceId: string }, comparison: Comparison, round: number, kind?: string) =>
        void this.record(run.invoiceId, 'recordComparison', [comparison, round, kind]),
      recordGateState: async (run: { invoiceId: string }, state: GateState) =>
        void this.record(run.invoiceId, 'recordGateState', [state]),
      explainDivergence: async (
        run: { invoiceId: string },
        _invoice: unknown,
        comparison: Comparison,
        round: number,
      ) => {
        const fake = this.record(run.invoiceId, 'explainDivergence', [round]);
        if (fake.summariesDown)
          throw new GateError('Stripe meter event summaries list failed: boom (api_error, HTTP 500)', {
            type: `${FailureType.stripeRetryable}:api_error`,
            retryable: true,
          });
        return {
          status: 'explained' as const,
          lines: comparison.lines.map((l) => ({
            lineId: l.lineId,
            eventName: l.eventName,
            formula: l.formula,
            windows: [],
            bucketCount: 0,
          })),
        };
      },
      checkUsageHistory: async (
        run: { invoiceId: string },
        _invoice: unknown,
        settings: { jump: string; action: 'alert' | 'hold' },
      ): Promise<HistoryCheck> => {
        const fake = this.record(run.invoiceId, 'checkUsageHistory', [settings]);
        return { ...settings, lines: fake.history ?? [] };
      },
      notifyHistoryJump: async (run: { invoiceId: string }, _invoice: unknown, state: GateState) => {
        this.record(run.invoiceId, 'notifyHistoryJump', [state]);
        return { channel: 'C0BILLING', ts: '8.000100' };
      },
      recordInvoiceStatus: async (
        run: { invoiceId: string; runId: string },
        update: { status: string; paymentFailures: number },
      ) => void this.record(run.invoiceId, 'recordInvoiceStatus', [update, run.runId]),
    };
    return withActivityFailures(fakes) as unknown as GateActivities;
  }
}

function meteredLine(stripeQuantity: string): MeteredLine {
  return {
    lineId: 'il_api',
    description: 'API calls',
    priceId: 'price_api',
    meterId: 'mtr_api',
    eventName: 'api_call',
    formula: 'count',
    periodStart: 1_761_955_200,
    periodEnd: 1_764_547_200,
    stripeQuantity,
    unitAmountDecimal: '2',
  };
}

describe('invoiceGate workflow (fake activities)', () => {
  const world = new FakeWorld();
  let env: WorkflowTestEnv;
  let temporal: TemporalEmulator;
  let client: Client;
  let taskQueue: string;

  before(async () => {
    env = await startWorkflowTestEnv('gate-unit', world.activities());
    ({ temporal, client, taskQueue } = env);
  });

  after(async () => {
    await env?.stop();
  });

  let n = 0;
  type Gate = { invoiceId: string; fake: FakeInvoice; handle: WorkflowHandle };
  const started: Gate[] = [];

  // A gate a test left running (its story told, or a failed assertion) must not keep timers firing
  // under the next test's skipped time.
  afterEach(async () => {
    for (const g of started.splice(0)) {
      if ((await g.handle.describe()).status.name === 'RUNNING') await g.handle.terminate('test done');
    }
  });

  /** Starts a gate for a fresh draft: Stripe bills `stripe`, the ledger counts `ledger`. */
  async function gate(
    options: {
      stripe?: string;
      ledger?: string;
      start?: Partial<GateStart>;
      fake?: Partial<FakeInvoice>;
      invoice?: Partial<InvoiceSnapshot>;
    } = {},
  ): Promise<Gate> {
    const invoiceId = `in_unit${++n}${randomUUID().slice(0, 6)}`;
    const nowSeconds = Math.floor(temporal.now().getTime() / 1000);
    const fake: FakeInvoice = {
      invoice: {
        invoiceId,
        customerId: `cus_${invoiceId}`,
        customerName: 'Acme',
        customerEmail: null,
        customerMetadata: {},
        status: 'draft',
        autoAdvance: true,
        currency: 'usd',
        livemode: false,
        periodStart: 1_761_955_200,
        periodEnd: 1_764_547_200,
        automaticallyFinalizesAt: nowSeconds + 3600,
        meteredLines: [meteredLine(options.stripe ?? '120')],
        otherLineCount: 0,
        ...options.invoice,
      },
      ledgerQuantity: options.ledger ?? '120',
      stripeDown: false,
      deleted: false,
      ledgerMappingError: false,
      pause: { applied: true, status: 'draft' },
      finalize: { applied: true, status: 'open' },
      calls: [],
      ...options.fake,
    };
    world.invoices.set(invoiceId, fake);
    const gateHandle = client.workflow.getHandle(gateWorkflowId(invoiceId));
    started.push({ invoiceId, fake, handle: gateHandle });
    const start: GateStart = {
      customerId: fake.invoice.customerId,
      createdAt: nowSeconds,
      automaticallyFinalizesAt: fake.invoice.automaticallyFinalizesAt,
      ...options.start,
    };
    const handle = await client.workflow.start('invoiceGate', {
      args: [invoiceId, start],
      taskQueue,
      workflowId: gateWorkflowId(invoiceId),
    });
    return { invoiceId, fake, handle };
  }

  let eventNumber = 0;
  async function stripeEvent(
    g: Gate,
    type: string,
    invoiceStatus: string | null,
    extra: Partial<StripeInvoiceEvent> = {},
  ) {
    const event: StripeInvoiceEvent = { eventId: `evt_${++eventNumber}`, type, invoiceStatus, ...extra };
    await g.handle.signal(stripeInvoiceEventSignal, event);
    return event;
  }

  async function until(g: Gate, predicate: (s: GateState) => boolean, what = predicate.toString()): Promise<GateState> {
    const deadline = Date.now() + 15_000;
    for (;;) {
      const state = await g.handle.query(stateQuery);
      if (predicate(state)) return state;
      if (Date.now() > deadline) throw new Error(`state never matched ${what}: ${JSON.stringify(state)}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  async function untilCalled(g: Gate, activity: string, times = 1) {
    await waitFor(() => world.calls(g.invoiceId, activity).length >= times, `${activity} x${times}`);
    return world.calls(g.invoiceId, activity);
  }

  const kinds = (g: Gate) => world.calls(g.invoiceId, 'recordComparison').map((c) => c.args[2]);
  const statuses = (g: Gate) =>
    world.calls(g.invoiceId, 'recordInvoiceStatus').map((c) => (c.args[0] as { status: string }).status);

  describe('deciding', () => {
    test('within tolerance: passed, nothing paused, nobody told; the gate goes on watching the draft', async () => {
      const g = await gate();
      const state = await until(g, (s) => s.phase === 'watching');
      assert.equal(state.status, 'passed');
      assert.equal(state.comparison?.passed, true);
      assert.deepEqual(world.calls(g.invoiceId, 'recordGateStarted')[0].args, ['webhook']);
      assert.equal(world.calls(g.invoiceId, 'pauseInvoice').length, 0);
      assert.equal(world.calls(g.invoiceId, 'notifyReviewers').length, 0);
      assert.deepEqual(kinds(g), ['check']);
    });

    test('held: the alert goes out first, then the explanation updates it; only diverging invoices are explained', async () => {
      const g = await gate({ stripe: '120', ledger: '100' });
      const held = await until(g, (s) => s.phase === 'held');
      assert.equal(held.explanation?.status, 'explained');
      const order = world.calls(g.invoiceId).map((c) => c.activity);
      const posted = order.indexOf('notifyReviewers');
      assert.ok(order.indexOf('pauseInvoice') < posted);
      assert.ok(posted < order.indexOf('explainDivergence'), order.join(' '));
      assert.deepEqual(world.calls(g.invoiceId, 'explainDivergence')[0].args, [0], 'linked to the first round');
      const updated = world.calls(g.invoiceId, 'updateAlert').at(-1)?.args[0] as GateState;
      assert.equal(updated.explanation?.status, 'explained');
      const passing = await gate();
      await until(passing, (s) => s.phase === 'watching');
      assert.equal(world.calls(passing.invoiceId, 'explainDivergence').length, 0);
    });

    test('summaries failing: the invoice stays held with both counts; the alert says the breakdown is unavailable', async () => {
      const g = await gate({ stripe: '120', ledger: '100', fake: { summariesDown: true } });
      const held = await until(g, (s) => s.phase === 'held');
      assert.equal(held.status, 'held');
      assert.equal(held.comparison?.lines[0].stripeQuantity, '120');
      assert.equal(held.explanation?.status, 'unavailable');
      assert.match(held.explanation?.status === 'unavailable' ? held.explanation.reason : '', /summaries/);
      assert.equal(world.calls(g.invoiceId, 'explainDivergence').length, 3, 'three quick tries');
      const updated = world.calls(g.invoiceId, 'updateAlert').at(-1)?.args[0] as GateState;
      assert.equal(updated.explanation?.status, 'unavailable');
    });

    test('a line far from its history with agreeing counts: a heads-up (alert), or held like a divergence (hold)', async () => {
      const jump: HistoryCheck['lines'][number] = {
        lineId: 'il_1',
        eventName: 'api_call',
        quantity: '120',
        previous: ['12'],
        source: 'audit',
        baseline: '12',
        ratio: '10',
        flag: 'jump',
      };
      const alerted = await gate({ fake: { history: [jump] } });
      const passed = await until(alerted, (s) => s.phase === 'watching');
      assert.equal(passed.status, 'passed');
      assert.equal(world.calls(alerted.invoiceId, 'notifyHistoryJump').length, 1);
      assert.equal(world.calls(alerted.invoiceId, 'pauseInvoice').length, 0);

      world.settings = { history: { jump: '5', action: 'hold' } };
      try {
        const g = await gate({ fake: { history: [jump] } });
        const held = await until(g, (s) => s.phase === 'held');
        assert.equal(held.heldBecause, 'history');
        assert.equal(held.comparison?.passed, true);
        assert.equal(world.calls(g.invoiceId, 'pauseInvoice').length, 1);
        assert.equal(world.calls(g.invoiceId, 'notifyReviewers').length, 1);
        assert.equal(world.calls(g.invoiceId, 'explainDivergence').length, 0, 'nothing diverges to explain');

        world.settings = { history: { jump: null, action: 'hold' } };
        const off = await gate({ fake: { history: [jump] } });
        assert.equal((await until(off, (s) => s.phase === 'watching')).status, 'passed');
        assert.equal(world.calls(off.invoiceId, 'checkUsageHistory').length, 0, 'GATE_HISTORY_JUMP=off');
      } finally {
        world.settings = {};
      }
    });

    test('no metered lines: skipped and ended without counting', async () => {
      const g = await gate({ invoice: { meteredLines: [], otherLineCount: 1 } });
      const result: GateState = await g.handle.result();
      assert.equal(result.status, 'skipped');
      assert.equal(result.phase, 'ended');
      assert.equal(world.calls(g.invoiceId, 'countLedgerEvents').length, 0);
    });

    test('deleted before the first read: resolved in Stripe as deleted, ended', async () => {
      const g = await gate({ fake: { deleted: true } });
      const result: GateState = await g.handle.result();
      assert.deepEqual([result.status, result.invoiceStatus, result.phase], ['resolved_in_stripe', 'deleted', 'ended']);
    });

    test('already finalized when read: too late, the divergence reported, then followed to payment', async () => {
      const g = await gate({ stripe: '120', ledger: '100', invoice: { status: 'open' } });
      const state = await until(g, (s) => s.phase === 'following');
      assert.equal(state.status, 'too_late');
      assert.equal(world.calls(g.invoiceId, 'notifyReviewers').length, 1);
      assert.equal(world.calls(g.invoiceId, 'pauseInvoice').length, 0);
      await stripeEvent(g, 'invoice.paid', 'paid');
      const result: GateState = await g.handle.result();
      assert.deepEqual([result.invoiceStatus, result.phase], ['paid', 'ended']);
    });

    test('beyond tolerance: paused, alerted, held; a release finalizes it, what was finalized is compared once more', async () => {
      const g = await gate({ stripe: '120', ledger: '100' });
      const held = await until(g, (s) => s.phase === 'held');
      assert.equal(held.status, 'held');
      assert.ok(held.slackMessage);
      assert.equal(held.heldBecause, 'divergence');
      assert.deepEqual(world.calls(g.invoiceId, 'pauseInvoice')[0].args.slice(2), [1]);
      const answer = await g.handle.executeUpdate(decideUpdate, {
        args: [{ action: 'release', reviewer: 'U0ALICE', reason: 'ledger_late', note: 'ok' }],
      });
      assert.deepEqual(answer, { status: 'releasing', decisionRound: 1 });
      const following = await until(g, (s) => s.phase === 'following');
      assert.equal(following.status, 'released');
      assert.equal(following.reviewer, 'U0ALICE');
      assert.deepEqual(kinds(g), ['check', 'finalized']);
      assert.equal(
        world.calls(g.invoiceId, 'alertFinalizedDivergence').length,
        0,
        'the reviewer released exactly this divergence',
      );
      assert.deepEqual(statuses(g), ['open']);
      await stripeEvent(g, 'invoice.paid', 'paid');
      assert.equal((await g.handle.result()).invoiceStatus, 'paid');
    });

    test('a ledger that cannot be counted fails closed: held without a comparison, with the reason', async () => {
      const g = await gate({ fake: { ledgerMappingError: true } });
      const held = await until(g, (s) => s.status === 'held' && s.slackMessage !== null);
      assert.equal(held.comparison, null);
      assert.equal(held.heldBecause, 'unverifiable');
      assert.match(held.reason ?? '', /ledger could not be counted: customer cus_x has no metadata/);
      assert.equal(world.calls(g.invoiceId, 'countLedgerEvents').length, 1, 'a mapping error is not retried');
    });

    test('Stripe refuses the pause: too late, reported, followed', async () => {
      const g = await gate({ stripe: '120', ledger: '100', fake: { pause: 'refused' } });
      const state = await until(g, (s) => s.phase === 'following');
      assert.equal(state.status, 'too_late');
      assert.match(state.reason ?? '', /Stripe refused to pause the invoice .*idempotency_error/);
      assert.equal(world.calls(g.invoiceId, 'pauseInvoice').length, 1, 'a refusal is not retried');
    });
  });

  describe('the deadline (fail closed)', () => {
    test('Stripe reads keep failing: paused a margin before Stripe finalizes; when the check passes, auto-advance is on again', async () => {
      const nowSeconds = Math.floor(temporal.now().getTime() / 1000);
      const g = await gate({ fake: { stripeDown: true }, invoice: { automaticallyFinalizesAt: nowSeconds + 20 * 60 } });
      await untilCalled(g, 'readInvoice', 1);
      assert.equal(world.calls(g.invoiceId, 'pauseInvoice').length, 0, 'not before the deadline');
      await temporal.skipTime(5 * MINUTE);
      const held = await until(g, (s) => s.status === 'held' && s.slackMessage !== null);
      assert.equal(held.heldBecause, 'deadline');
      assert.match(
        held.reason ?? '',
        /could not complete before Stripe's deadline: Stripe has not answered the invoice read yet/,
      );
      assert.equal(world.calls(g.invoiceId, 'pauseInvoice').length, 1);

      g.fake.stripeDown = false;
      await temporal.skipTime(30_000); // the read's next retry
      const passed = await until(g, (s) => s.phase === 'watching');
      assert.equal(passed.status, 'passed');
      assert.equal(passed.heldBecause, null);
      assert.deepEqual(
        world.calls(g.invoiceId, 'resumeInvoice').map((c) => c.args[1]),
        [1],
      );
      const updates = world.calls(g.invoiceId, 'updateAlert').map((c) => (c.args[0] as GateState).status);
      assert.deepEqual(updates, ['passed'], 'the same Slack message says it passed');
      assert.equal(g.fake.invoice.autoAdvance, true);
    });

    test('the check completes after a deadline hold and diverges: the normal held flow, in the same message', async () => {
      const nowSeconds = Math.floor(temporal.now().getTime() / 1000);
      const g = await gate({
        stripe: '130',
        ledger: '100',
        fake: { stripeDown: true },
        invoice: { automaticallyFinalizesAt: nowSeconds + 16 * 60 },
      });
      await untilCalled(g, 'readInvoice', 1);
      await temporal.skipTime(2 * MINUTE);
      await until(g, (s) => s.heldBecause === 'deadline' && s.slackMessage !== null);
      g.fake.stripeDown = false;
      await temporal.skipTime(30_000);
      const held = await until(g, (s) => s.heldBecause === 'divergence');
      assert.equal(held.comparison?.lines[0].stripeQuantity, '130');
      assert.equal(world.calls(g.invoiceId, 'pauseInvoice').length, 1, 'paused once');
      assert.equal(world.calls(g.invoiceId, 'notifyReviewers').length, 1, 'one message');
      assert.ok(
        world.calls(g.invoiceId, 'updateAlert').some((c) => (c.args[0] as GateState).heldBecause === 'divergence'),
      );
    });

    test('a gate that starts after the deadline: the pause is its first Stripe write', async () => {
      const nowSeconds = Math.floor(temporal.now().getTime() / 1000);
      const g = await gate({
        stripe: '120',
        ledger: '120',
        fake: { stripeDown: true },
        invoice: { automaticallyFinalizesAt: nowSeconds + 5 * 60 },
      });
      await until(g, (s) => s.heldBecause === 'deadline');
      const activities = world
        .calls(g.invoiceId)
        .map((c) => c.activity)
        .filter((a) => ['pauseInvoice', 'resumeInvoice', 'finalizeInvoice'].includes(a));
      assert.deepEqual(activities, ['pauseInvoice']);
      g.fake.stripeDown = false;
      await temporal.skipTime(30_000);
      await until(g, (s) => s.phase === 'watching');
    });

    test("without Stripe's time (or only its 72 h fallback): an hour after the webhook, less the margin", async () => {
      const nowSeconds = Math.floor(temporal.now().getTime() / 1000);
      const g = await gate({
        fake: { stripeDown: true },
        start: { automaticallyFinalizesAt: nowSeconds + 72 * 3600, createdAt: nowSeconds - 10 * 60 },
      });
      await untilCalled(g, 'readInvoice', 1);
      await temporal.skipTime(44 * MINUTE);
      await untilCalled(g, 'readInvoice', 2);
      assert.equal(
        world.calls(g.invoiceId, 'pauseInvoice').length,
        0,
        'not before an hour after the webhook, less the margin',
      );
      await temporal.skipTime(2 * MINUTE);
      await until(g, (s) => s.heldBecause === 'deadline');
      g.fake.stripeDown = false;
      await temporal.skipTime(30_000);
      await until(g, (s) => s.phase === 'watching');
    });
  });

  describe('late usage before finalization', () => {
    test('a passed draft that late usage makes diverge is paused and alerted with the change', async () => {
      const g = await gate({ stripe: '1000', ledger: '1000' });
      await until(g, (s) => s.phase === 'watching');
      g.fake.invoice.meteredLines = [meteredLine('1300')];
      await stripeEvent(g, 'invoice.updated', 'draft', { changedFields: ['lines', 'amount_due', 'total'] });
      const held = await until(g, (s) => s.status === 'held' && s.slackMessage !== null);
      assert.equal(held.comparison?.lines[0].stripeQuantity, '1300');
      assert.equal(held.previousComparison?.lines[0].stripeQuantity, '1000');
      assert.deepEqual(kinds(g), ['check', 'late_usage']);
      assert.equal(world.calls(g.invoiceId, 'pauseInvoice').length, 1);
    });

    test("the gate's own writes echo as invoice.updated and change nothing", async () => {
      const g = await gate();
      await until(g, (s) => s.phase === 'watching');
      await stripeEvent(g, 'invoice.updated', 'draft', { changedFields: ['auto_advance', 'metadata'] });
      await stripeEvent(g, 'invoice.updated', 'draft', { changedFields: ['metadata'] });
      await new Promise((resolve) => setTimeout(resolve, 300));
      assert.deepEqual(kinds(g), ['check']);
      assert.equal(world.calls(g.invoiceId, 'readInvoice').length, 1);
    });

    test('a burst of updates: one recheck per minute at most', async () => {
      const g = await gate();
      await until(g, (s) => s.phase === 'watching');
      for (let i = 0; i < 5; i++) await stripeEvent(g, 'invoice.updated', 'draft', { changedFields: ['lines'] });
      await waitFor(() => kinds(g).length === 2, 'first recheck');
      for (let i = 0; i < 5; i++) await stripeEvent(g, 'invoice.updated', 'draft', { changedFields: ['lines'] });
      await new Promise((resolve) => setTimeout(resolve, 300));
      assert.deepEqual(kinds(g), ['check', 'late_usage'], 'the second burst waits for the minute');
      await temporal.skipTime(MINUTE);
      await waitFor(() => kinds(g).length === 3, 'second recheck');
      await new Promise((resolve) => setTimeout(resolve, 200));
      assert.equal(kinds(g).length, 3);
    });

    test('a held draft that now matches (the ledger caught up, an update came) is released as a recount would', async () => {
      const g = await gate({ stripe: '120', ledger: '100' });
      await until(g, (s) => s.status === 'held' && s.slackMessage !== null);
      g.fake.ledgerQuantity = '120';
      await stripeEvent(g, 'invoice.updated', 'draft', { changedFields: ['lines'] });
      const state = await until(g, (s) => s.phase === 'following');
      assert.equal(state.status, 'auto_released');
      assert.equal(world.calls(g.invoiceId, 'finalizeInvoice').length, 1);
      assert.deepEqual(kinds(g), ['check', 'late_usage', 'finalized']);
    });

    test('just before Stripe finalizes, a passed draft is read and compared once more', async () => {
      const nowSeconds = Math.floor(temporal.now().getTime() / 1000);
      const g = await gate({ invoice: { automaticallyFinalizesAt: nowSeconds + 3600 } });
      await until(g, (s) => s.phase === 'watching');
      g.fake.invoice.meteredLines = [meteredLine('150')];
      await temporal.skipTime(46 * MINUTE);
      const held = await until(g, (s) => s.status === 'held');
      assert.equal(held.comparison?.lines[0].stripeQuantity, '150');
    });
  });

  describe('after finalization', () => {
    test('Stripe finalizes a passed invoice with other quantities: one alert, no pause, an audit round', async () => {
      const g = await gate({ stripe: '100', ledger: '100' });
      await until(g, (s) => s.phase === 'watching');
      g.fake.invoice = { ...g.fake.invoice, status: 'open', meteredLines: [meteredLine('130')] };
      await stripeEvent(g, 'invoice.finalized', 'open');
      const state = await until(g, (s) => s.phase === 'following');
      assert.equal(state.finalizedComparison?.passed, false);
      assert.equal(state.finalizedComparison?.lines[0].stripeQuantity, '130');
      assert.equal(world.calls(g.invoiceId, 'alertFinalizedDivergence').length, 1);
      assert.equal(world.calls(g.invoiceId, 'pauseInvoice').length, 0);
      assert.deepEqual(kinds(g), ['check', 'finalized']);
      assert.equal(state.status, 'passed', "the gate's decision stays what it was");
    });

    test("no invoice.finalized came: the gate looks again after Stripe's finalization time", async () => {
      const nowSeconds = Math.floor(temporal.now().getTime() / 1000);
      const g = await gate({ invoice: { automaticallyFinalizesAt: nowSeconds + 3600 } });
      await until(g, (s) => s.phase === 'watching');
      await temporal.skipTime(46 * MINUTE);
      await waitFor(() => kinds(g).length === 2, 'the pre-finalization look');
      g.fake.invoice.status = 'open';
      await temporal.skipTime(30 * MINUTE);
      const state = await until(g, (s) => s.phase === 'following');
      assert.equal(state.invoiceStatus, 'open');
      assert.deepEqual(kinds(g), ['check', 'late_usage', 'finalized']);
    });
  });

  describe('lifecycle', () => {
    test('finalized then paid, delivered twice and out of order: paid, never back to open', async () => {
      const g = await gate();
      await until(g, (s) => s.phase === 'watching');
      g.fake.invoice.status = 'paid';
      const paid = await stripeEvent(g, 'invoice.paid', 'paid', { created: 200 });
      await stripeEvent(g, 'invoice.finalized', 'open', { created: 100 });
      await g.handle.signal(stripeInvoiceEventSignal, paid);
      const result: GateState = await g.handle.result();
      assert.equal(result.invoiceStatus, 'paid');
      assert.equal(result.phase, 'ended');
      assert.deepEqual(statuses(g), ['paid']);
    });

    test('payment failures are recorded; then paid', async () => {
      const g = await gate({ invoice: { status: 'open' } });
      await until(g, (s) => s.phase === 'following');
      const failed = await stripeEvent(g, 'invoice.payment_failed', 'open', { attemptCount: 1 });
      await g.handle.signal(stripeInvoiceEventSignal, failed);
      await stripeEvent(g, 'invoice.payment_failed', 'open', { attemptCount: 2 });
      await until(g, (s) => s.paymentFailures === 2);
      await stripeEvent(g, 'invoice.payment_succeeded', 'paid');
      const result: GateState = await g.handle.result();
      assert.equal(result.invoiceStatus, 'paid');
      assert.equal(result.paymentFailures, 2);
      const recorded = world.calls(g.invoiceId, 'recordInvoiceStatus').map((c) => c.args[0]);
      assert.deepEqual(recorded.at(-1), { status: 'paid', paymentFailures: 2 });
    });

    test('voided while held: resolved in Stripe, ended', async () => {
      const g = await gate({ stripe: '120', ledger: '100' });
      await until(g, (s) => s.status === 'held' && s.slackMessage !== null);
      await stripeEvent(g, 'invoice.finalized', 'open');
      await stripeEvent(g, 'invoice.voided', 'void');
      const result: GateState = await g.handle.result();
      assert.deepEqual([result.status, result.invoiceStatus, result.phase], ['resolved_in_stripe', 'void', 'ended']);
      assert.equal(world.calls(g.invoiceId, 'finalizeInvoice').length, 0);
    });

    test('followed long enough after finalization without a final status: the gate ends', async () => {
      const g = await gate({ invoice: { status: 'open' } });
      await until(g, (s) => s.phase === 'following');
      await temporal.skipTime(46 * 24 * HOUR);
      const result: GateState = await g.handle.result();
      assert.deepEqual([result.invoiceStatus, result.phase], ['open', 'ended']);
    });

    test('a long life continues as new and keeps its state, dedupe memory and audit key', async () => {
      world.settings = { continueAsNewAfterEvents: 60 };
      try {
        const g = await gate({ invoice: { status: 'open' } });
        await until(g, (s) => s.phase === 'following');
        const firstRunId = (await g.handle.describe()).runId;
        const duplicate = await stripeEvent(g, 'invoice.payment_failed', 'open', { attemptCount: 1 });
        for (let i = 0; i < 40; i++) await stripeEvent(g, 'invoice.updated', 'open', { changedFields: ['metadata'] });
        await waitFor(
          async () => (await client.workflow.getHandle(gateWorkflowId(g.invoiceId)).describe()).runId !== firstRunId,
          'continue-as-new',
        );
        const latest = client.workflow.getHandle(gateWorkflowId(g.invoiceId));
        await latest.signal(stripeInvoiceEventSignal, duplicate);
        await latest.signal(stripeInvoiceEventSignal, {
          eventId: 'evt_paid_after_can',
          type: 'invoice.paid',
          invoiceStatus: 'paid',
        });
        const result: GateState = await latest.result();
        assert.deepEqual([result.invoiceStatus, result.paymentFailures], ['paid', 1]);
        const auditKeys = world.calls(g.invoiceId, 'recordInvoiceStatus').map((c) => c.args[1]);
        assert.ok(auditKeys.length >= 2);
        assert.deepEqual(new Set(auditKeys), new Set([firstRunId]), 'one audit row for the whole gate');
      } finally {
        world.settings = {};
      }
    });
  });

  describe('review', () => {
    test('a malformed decision changes nothing', async () => {
      const g = await gate({ stripe: '120', ledger: '100' });
      await until(g, (s) => s.status === 'held' && s.slackMessage !== null);
      await g.handle.signal(decisionSignal, { action: 'approve', reviewer: '' } as never);
      await g.handle.signal(decisionSignal, { action: 'release', reviewer: 'U0BOB', reason: 'stripe_correct' });
      const state = await until(g, (s) => s.phase === 'following');
      assert.equal(state.reviewer, 'U0BOB');
      assert.equal(world.calls(g.invoiceId, 'finalizeInvoice').length, 1);
    });

    test('a recount that still diverges keeps it held; one that matches releases it', async () => {
      const g = await gate({ stripe: '120', ledger: '100' });
      await until(g, (s) => s.status === 'held' && s.slackMessage !== null);
      g.fake.ledgerQuantity = '105';
      await g.handle.signal(decisionSignal, { action: 'recount', reviewer: 'U0ALICE' });
      const still = await until(g, (s) => s.status === 'held' && s.recounts === 1);
      assert.equal(still.comparison?.lines[0].ledgerQuantity, '105');
      g.fake.ledgerQuantity = '120';
      await g.handle.signal(decisionSignal, { action: 'recount', reviewer: 'U0ALICE' });
      const released = await until(g, (s) => s.phase === 'following');
      assert.equal(released.status, 'auto_released');
      assert.deepEqual(kinds(g), ['check', 'recount', 'recount', 'finalized']);
    });

    test('held: reminders after 4 h and then every 24 h, on the workflow clock, never a release', async () => {
      const g = await gate({ stripe: '120', ledger: '100' });
      const held = await until(g, (s) => s.status === 'held' && s.slackMessage !== null);
      const reminders = () => world.calls(g.invoiceId, 'remindReviewers').map((c) => c.args as [number, number]);
      await temporal.skipTime(4 * HOUR + MINUTE);
      await waitFor(() => reminders().length === 1, 'first reminder');
      await temporal.skipTime(24 * HOUR);
      await waitFor(() => reminders().length === 2, 'second reminder');
      const [[first, firstAt], [second, secondAt]] = reminders();
      assert.deepEqual([first, second], [1, 2]);
      assert.ok(firstAt - held.heldSince! >= 4 * HOUR);
      assert.ok(secondAt - held.heldSince! >= 28 * HOUR);
      assert.equal((await g.handle.query(stateQuery)).status, 'held');
      assert.equal(world.calls(g.invoiceId, 'finalizeInvoice').length, 0);
    });
  });

  describe('controlled release (the decide Update)', () => {
    const decisions = (g: Gate) =>
      world.calls(g.invoiceId, 'recordDecision').map(
        (c) =>
          c.args[0] as {
            attemptId: string;
            accepted: boolean;
            refusal: string | null;
            action: string;
            reviewer: string;
          },
      );
    const refusalOf = async (promise: Promise<unknown>): Promise<{ code: unknown; message: string }> => {
      try {
        await promise;
      } catch (error) {
        const cause = (error as { cause?: { details?: unknown[]; message: string } }).cause;
        assert.ok(cause, `expected a refused update, got ${String(error)}`);
        return { code: cause.details?.[0], message: cause.message };
      }
      throw new Error('the update was accepted');
    };
    const historyEventTypes = async (g: Gate) =>
      ((await g.handle.fetchHistory()).events ?? []).map((e) => String(e.eventType));
    /** The history once the gate has nothing left to do (the hold's explanation and alert update done). */
    const settledHistory = async (g: Gate) => {
      let previous = await historyEventTypes(g);
      for (;;) {
        await new Promise((resolve) => setTimeout(resolve, 300));
        const now = await historyEventTypes(g);
        if (now.length === previous.length) return now;
        previous = now;
      }
    };

    test('the validator refuses a release without a reason and an unknown reviewer, writing nothing to history', async () => {
      const g = await gate({ stripe: '120', ledger: '100' });
      await until(g, (s) => s.status === 'held' && s.explanation !== undefined);
      const before = await settledHistory(g);
      const noReason = await refusalOf(
        g.handle.executeUpdate(decideUpdate, { args: [{ action: 'release', reviewer: 'U0ALICE' }] }),
      );
      assert.deepEqual(noReason, { code: 'reason_required', message: 'a release needs a reason' });
      assert.deepEqual((await historyEventTypes(g)).slice(before.length), [], 'a refused Update leaves no event');
      const stranger = await refusalOf(
        g.handle.executeUpdate(decideUpdate, {
          args: [{ action: 'release', reviewer: 'U0MALLORY', reason: 'ledger_late' }],
        }),
      );
      assert.equal(stranger.code, 'not_allowed');
      const nothingToApprove = await refusalOf(
        g.handle.executeUpdate(decideUpdate, { args: [{ action: 'approve', reviewer: 'U0BOB' }] }),
      );
      assert.equal(nothingToApprove.code, 'not_waiting');
      const after = await historyEventTypes(g);
      assert.deepEqual(after.slice(before.length), [], 'refused Updates leave no event');
      assert.equal((await g.handle.query(stateQuery)).status, 'held');
      assert.equal(world.calls(g.invoiceId, 'releaseInvoice').length, 0);
    });

    test('a release with its reason: who and why go to Stripe with auto-advance, logged once, and a double click is one decision', async () => {
      const g = await gate({ stripe: '120', ledger: '100' });
      await until(g, (s) => s.status === 'held' && s.slackMessage !== null);
      const decision = {
        action: 'release' as const,
        reviewer: 'U0ALICE',
        reason: 'contract_exception',
        note: 'capped',
      };
      const updateId = decideUpdateId(g.invoiceId, decision, 0);
      const [first, second] = await Promise.all([
        g.handle.executeUpdate(decideUpdate, { args: [decision], updateId }),
        g.handle.executeUpdate(decideUpdate, { args: [decision], updateId }),
      ]);
      assert.deepEqual(first, { status: 'releasing', decisionRound: 1 });
      assert.deepEqual(second, first);
      const done = await until(g, (s) => s.phase === 'following');
      assert.equal(done.status, 'released');
      assert.equal(done.decisionRound, 1);
      const recorded = world
        .calls(g.invoiceId, 'recordGateState')
        .map((c) => c.args[0] as GateState)
        .find((st) => st.status === 'released');
      assert.match(recorded?.reason ?? '', /released by U0ALICE: Contract exception: capped/);
      assert.deepEqual(world.calls(g.invoiceId, 'releaseInvoice')[0].args, [
        { releasedBy: 'U0ALICE', reason: 'Contract exception: capped' },
        1,
      ]);
      assert.equal(world.calls(g.invoiceId, 'finalizeInvoice').length, 1);
      const logged = decisions(g);
      assert.equal(logged.length, 1);
      assert.deepEqual([logged[0].attemptId, logged[0].accepted], [updateId, true]);
      assert.ok(done.ownRequestIds?.includes(`req_release_${g.invoiceId}`));
      // Another click on the next round finds nothing to decide.
      const late = await refusalOf(
        g.handle.executeUpdate(decideUpdate, { args: [{ action: 'recount', reviewer: 'U0BOB' }] }),
      );
      assert.equal(late.code, 'not_waiting');
    });

    test('above the limit: the first release waits for a different reviewer; the same one is refused; a recount clears it', async () => {
      // (120 - 100) x 2 = 40 minor units at stake, above a limit of 10.
      world.settings = {
        review: {
          reviewers: ['U0ALICE', 'U0BOB', 'U0CAROL'],
          approvers: null,
          secondApprovalAbove: { anyCurrency: '10', perCurrency: {} },
        },
      };
      try {
        const g = await gate({ stripe: '120', ledger: '100' });
        await until(g, (s) => s.status === 'held' && s.slackMessage !== null);
        const firstRelease = await g.handle.executeUpdate(decideUpdate, {
          args: [{ action: 'release', reviewer: 'U0ALICE', reason: 'ledger_late' }],
        });
        assert.deepEqual(firstRelease, { status: 'awaiting_second_approval', decisionRound: 1 });
        const waiting = await until(g, (s) => s.status === 'awaiting_second_approval');
        assert.deepEqual(
          waiting.approvals?.map((a) => [a.reviewer, a.action, a.reason]),
          [['U0ALICE', 'release', 'ledger_late']],
        );
        assert.equal(world.calls(g.invoiceId, 'releaseInvoice').length, 0, 'still paused');
        const alert = world.calls(g.invoiceId, 'updateAlert').at(-1)!.args[0] as GateState;
        assert.equal(alert.status, 'awaiting_second_approval');

        const same = await refusalOf(
          g.handle.executeUpdate(decideUpdate, { args: [{ action: 'approve', reviewer: 'U0ALICE' }] }),
        );
        assert.equal(same.code, 'same_approver');
        const releaseAgain = await refusalOf(
          g.handle.executeUpdate(decideUpdate, {
            args: [{ action: 'release', reviewer: 'U0BOB', reason: 'ledger_late' }],
          }),
        );
        assert.equal(releaseAgain.code, 'not_waiting');

        // A recount by anyone clears the pending approval: the numbers may change.
        await g.handle.executeUpdate(decideUpdate, { args: [{ action: 'recount', reviewer: 'U0ALICE' }] });
        const recounted = await until(g, (s) => s.status === 'held' && s.recounts === 1);
        assert.deepEqual(recounted.approvals, []);

        await g.handle.executeUpdate(decideUpdate, {
          args: [{ action: 'release', reviewer: 'U0ALICE', reason: 'other', note: 'agreed with the customer' }],
        });
        await until(g, (s) => s.status === 'awaiting_second_approval');
        const approved = await g.handle.executeUpdate(decideUpdate, {
          args: [{ action: 'approve', reviewer: 'U0BOB' }],
        });
        assert.equal(approved.status, 'releasing');
        const done = await until(g, (s) => s.phase === 'following');
        assert.equal(done.status, 'released');
        assert.deepEqual(world.calls(g.invoiceId, 'releaseInvoice')[0].args[0], {
          releasedBy: 'U0ALICE',
          reason: 'Other: agreed with the customer',
          approvedBy: 'U0BOB',
        });
        assert.deepEqual(
          decisions(g).map((d) => [d.action, d.reviewer, d.accepted]),
          [
            ['release', 'U0ALICE', true],
            ['recount', 'U0ALICE', true],
            ['release', 'U0ALICE', true],
            ['approve', 'U0BOB', true],
          ],
        );
      } finally {
        world.settings = {};
      }
    });

    test('the legacy decision signal meets the same rules: refused without a reason (logged), taken with one', async () => {
      const g = await gate({ stripe: '120', ledger: '100' });
      await until(g, (s) => s.status === 'held' && s.slackMessage !== null);
      await g.handle.signal(decisionSignal, { action: 'release', reviewer: 'U0ALICE' });
      await g.handle.signal(decisionSignal, { action: 'release', reviewer: 'U0MALLORY', reason: 'ledger_late' });
      await waitFor(() => decisions(g).length === 2, 'two refusals logged');
      assert.deepEqual(
        decisions(g).map((d) => [d.accepted, d.refusal?.split(':')[0]]),
        [
          [false, 'reason_required'],
          [false, 'not_allowed'],
        ],
      );
      assert.equal((await g.handle.query(stateQuery)).status, 'held');
      await g.handle.signal(decisionSignal, { action: 'release', reviewer: 'U0ALICE', reason: 'stripe_correct' });
      const done = await until(g, (s) => s.phase === 'following');
      assert.equal(done.status, 'released');
    });

    test('finalized in Stripe by someone else while held: bypassed, the alert says so, the gate follows on', async () => {
      const g = await gate({ stripe: '120', ledger: '100' });
      await until(g, (s) => s.status === 'held' && s.slackMessage !== null);
      g.fake.invoice.status = 'open';
      await stripeEvent(g, 'invoice.finalized', 'open', {
        created: 1_764_550_000,
        request: { id: 'req_dashboard1', idempotencyKey: null },
      });
      const bypassed = await until(g, (s) => s.phase === 'following');
      assert.equal(bypassed.status, 'bypassed');
      assert.match(bypassed.reason ?? '', /finalized outside the gate by request req_dashboard1/);
      const alert = world.calls(g.invoiceId, 'updateAlert').at(-1)!.args[0] as GateState;
      assert.equal(alert.status, 'bypassed');
      assert.equal(world.calls(g.invoiceId, 'finalizeInvoice').length, 0);
    });

    test("the gate's own release is not a bypass", async () => {
      const g = await gate({ stripe: '120', ledger: '100' });
      await until(g, (s) => s.status === 'held' && s.slackMessage !== null);
      await g.handle.executeUpdate(decideUpdate, {
        args: [{ action: 'release', reviewer: 'U0ALICE', reason: 'ledger_late' }],
      });
      await until(g, (s) => s.phase === 'following');
      await stripeEvent(g, 'invoice.finalized', 'open', {
        request: { id: `req_finalize_${g.invoiceId}`, idempotencyKey: `invoice-gate-finalize-${g.invoiceId}` },
      });
      await stripeEvent(g, 'invoice.paid', 'paid', { request: { id: null, idempotencyKey: null } });
      const result: GateState = await g.handle.result();
      assert.equal(result.status, 'released');
    });
  });

  describe('observe mode', () => {
    const STRIPE_WRITES = ['pauseInvoice', 'resumeInvoice', 'finalizeInvoice'];
    const stripeWrites = (g: Gate) =>
      world
        .calls(g.invoiceId)
        .map((c) => c.activity)
        .filter((a) => STRIPE_WRITES.includes(a));
    const recordedStatuses = (g: Gate) =>
      world.calls(g.invoiceId, 'recordGateState').map((c) => (c.args[0] as GateState).status);

    before(() => {
      world.settings = { mode: 'observe' };
    });
    after(() => {
      world.settings = {};
    });

    test('a divergence: would_hold, one button-less message, never a Stripe write; followed to payment', async () => {
      const g = await gate({ stripe: '120', ledger: '100' });
      const observed = await until(g, (s) => s.status === 'would_hold' && s.phase === 'watching');
      assert.equal(observed.mode, 'observe');
      assert.equal(observed.heldBecause, 'divergence');
      assert.equal(observed.heldSince, null, 'nothing is held');
      assert.deepEqual(observed.slackMessage, { channel: 'C0BILLING', ts: '1.000100' });
      assert.deepEqual(recordedStatuses(g), ['would_hold']);
      const [notified] = world.calls(g.invoiceId, 'notifyReviewers');
      assert.equal((notified.args[0] as GateState).status, 'would_hold');

      // A stray click (a decision signal) changes nothing: there is nothing to release.
      await g.handle.signal(decisionSignal, { action: 'release', reviewer: 'U0ALICE' });
      // Stripe finalizes it on its own schedule, with the quantities the channel was told about.
      g.fake.invoice.status = 'open';
      await stripeEvent(g, 'invoice.finalized', 'open');
      const following = await until(g, (s) => s.phase === 'following');
      assert.equal(following.status, 'would_hold');
      assert.deepEqual(kinds(g), ['check', 'finalized']);
      assert.equal(world.calls(g.invoiceId, 'alertFinalizedDivergence').length, 0, 'the channel was told already');
      await stripeEvent(g, 'invoice.paid', 'paid');
      const result: GateState = await g.handle.result();
      assert.deepEqual([result.invoiceStatus, result.phase, result.status], ['paid', 'ended', 'would_hold']);
      assert.deepEqual(stripeWrites(g), []);
      assert.equal(world.calls(g.invoiceId, 'notifyReviewers').length, 1);
    });

    test('within tolerance: passed, as in enforce mode, and nobody told', async () => {
      const g = await gate();
      const state = await until(g, (s) => s.phase === 'watching');
      assert.equal(state.status, 'passed');
      assert.equal(world.calls(g.invoiceId, 'notifyReviewers').length, 0);
      assert.deepEqual(stripeWrites(g), []);
    });

    test('a ledger that cannot be counted: would_hold (unverifiable), nothing paused', async () => {
      const g = await gate({ fake: { ledgerMappingError: true } });
      const state = await until(g, (s) => s.status === 'would_hold' && s.slackMessage !== null);
      assert.equal(state.heldBecause, 'unverifiable');
      assert.equal(state.comparison, null);
      assert.match(state.reason ?? '', /ledger could not be counted/);
      assert.deepEqual(stripeWrites(g), []);
    });

    test('the deadline: would_hold instead of a pause; the check passes later, the message says so, no resume', async () => {
      const nowSeconds = Math.floor(temporal.now().getTime() / 1000);
      const g = await gate({ fake: { stripeDown: true }, invoice: { automaticallyFinalizesAt: nowSeconds + 20 * 60 } });
      await untilCalled(g, 'readInvoice', 1);
      await temporal.skipTime(5 * MINUTE);
      const observed = await until(g, (s) => s.status === 'would_hold' && s.slackMessage !== null);
      assert.equal(observed.heldBecause, 'deadline');
      assert.match(observed.reason ?? '', /could not complete before Stripe's deadline/);

      g.fake.stripeDown = false;
      await temporal.skipTime(30_000); // the read's next retry
      const passed = await until(g, (s) => s.phase === 'watching');
      assert.equal(passed.status, 'passed');
      assert.equal(passed.heldBecause, null);
      assert.match(passed.reason ?? '', /enforce would have resumed it/);
      const updates = world.calls(g.invoiceId, 'updateAlert').map((c) => (c.args[0] as GateState).status);
      assert.deepEqual(updates, ['passed'], 'the same Slack message says it passed');
      assert.deepEqual(recordedStatuses(g), ['would_hold', 'passed']);
      assert.deepEqual(stripeWrites(g), []);
      assert.equal(world.calls(g.invoiceId, 'notifyReviewers').length, 1);
    });

    test('late usage that makes a passed draft diverge: would_hold, then the same message updated, never paused', async () => {
      const g = await gate({ stripe: '1000', ledger: '1000' });
      await until(g, (s) => s.phase === 'watching');
      g.fake.invoice.meteredLines = [meteredLine('1300')];
      await stripeEvent(g, 'invoice.updated', 'draft', { changedFields: ['lines'] });
      const observed = await until(g, (s) => s.status === 'would_hold' && s.slackMessage !== null);
      assert.equal(observed.phase, 'watching');
      assert.equal(observed.previousComparison?.lines[0].stripeQuantity, '1000');

      g.fake.invoice.meteredLines = [meteredLine('1400')];
      await temporal.skipTime(MINUTE);
      await stripeEvent(g, 'invoice.updated', 'draft', { changedFields: ['lines'] });
      await waitFor(() => kinds(g).length === 3, 'second recheck');
      await until(g, (s) => s.comparison?.lines[0].stripeQuantity === '1400');
      assert.equal(world.calls(g.invoiceId, 'notifyReviewers').length, 1, 'one message, brought up to date');
      assert.equal(world.calls(g.invoiceId, 'updateAlert').length, 1);

      // The ledger catches up: enforce would release it; observe mode passes it again and says so.
      g.fake.ledgerQuantity = '1400';
      await temporal.skipTime(MINUTE);
      await stripeEvent(g, 'invoice.updated', 'draft', { changedFields: ['lines'] });
      const passed = await until(g, (s) => s.status === 'passed');
      assert.match(passed.reason ?? '', /enforce would have released it/);
      await waitFor(() => recordedStatuses(g).length === 4, 'the audit of the pass');
      assert.deepEqual(recordedStatuses(g), ['passed', 'would_hold', 'would_hold', 'passed']);
      assert.deepEqual(stripeWrites(g), []);
    });

    test('a gate keeps the mode it decided in when its customer is switched to enforce', async () => {
      const g = await gate({ stripe: '120', ledger: '100' });
      await until(g, (s) => s.status === 'would_hold' && s.phase === 'watching');
      world.settings = { mode: 'enforce' };
      try {
        g.fake.invoice.meteredLines = [meteredLine('130')];
        await stripeEvent(g, 'invoice.updated', 'draft', { changedFields: ['lines'] });
        await until(g, (s) => s.comparison?.lines[0].stripeQuantity === '130');
        assert.equal((await g.handle.query(stateQuery)).mode, 'observe');
        assert.deepEqual(stripeWrites(g), []);
      } finally {
        world.settings = { mode: 'observe' };
      }
    });
  });
});

async function waitFor(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
