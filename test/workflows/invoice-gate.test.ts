// The gate workflow's every branch, on the embedded engine with fake activities: no PostgreSQL, no
// Stripe or Slack emulator. The fakes fail the way the real activities do (GateErrors translated by
// withActivityFailures), so the workflow sees the same failures it sees in production.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import { startTemporalEmulator, type TemporalEmulator } from '../../emulators/temporal';
import type { GateActivities } from '../../src/activities';
import { withActivityFailures } from '../../src/activities/activity-failure';
import { FailureType, GateError } from '../../src/gate/failures';
import type { GateState, InvoiceSnapshot, LedgerCounts, MeteredLine } from '../../src/gate/types';
import { ensureSearchAttributes } from '../../src/temporal/search-attributes';
import { decisionSignal, gateWorkflowId, stateQuery, stripeInvoiceEventSignal } from '../../src/workflows/definitions';
import { workflowBundle } from '../support/workflow-bundle';

const HOUR = 3_600_000;

/** What one fake invoice does; each test owns one invoice id. */
interface Script {
  /** Successive reads; the last one repeats. `'deleted'` reads as Stripe's 404. */
  reads: Array<InvoiceSnapshot | 'deleted'>;
  /** Successive ledger answers; the last repeats. `'mapping'` fails as a wrong ledger mapping does. */
  ledger: Array<LedgerCounts | 'mapping'>;
  pause?: { applied: boolean; status: string } | 'refused';
  finalize?: { applied: boolean; status: string };
  /** The first N reads fail with a retryable Stripe 500. */
  failingReads?: number;
}

interface Call {
  activity: string;
  args: unknown[];
}

class FakeWorld {
  readonly scripts = new Map<string, Script>();
  readonly calls = new Map<string, Call[]>();

  callsOf(invoiceId: string, activity?: string): Call[] {
    return (this.calls.get(invoiceId) ?? []).filter((c) => !activity || c.activity === activity);
  }

  private record(invoiceId: string, activity: string, args: unknown[]): Script {
    const list = this.calls.get(invoiceId) ?? [];
    list.push({ activity, args });
    this.calls.set(invoiceId, list);
    const script = this.scripts.get(invoiceId);
    if (!script) throw new Error(`no script for ${invoiceId}`);
    return script;
  }

  activities(): GateActivities {
    const next = <T>(list: T[], index: number): T => list[Math.min(index, list.length - 1)];
    const fakes = {
      readInvoice: async (invoiceId: string) => {
        const script = this.record(invoiceId, 'readInvoice', [invoiceId]);
        const attempt = this.callsOf(invoiceId, 'readInvoice').length - 1;
        if (attempt < (script.failingReads ?? 0)) {
          throw new GateError('Stripe invoice retrieve failed: boom (api_error, HTTP 500)', { type: `${FailureType.stripeRetryable}:api_error`, retryable: true, retryAfterMs: 10 });
        }
        const read = next(script.reads, attempt - (script.failingReads ?? 0));
        if (read === 'deleted') throw new GateError(`Stripe has no invoice ${invoiceId}`, { type: FailureType.invoiceNotFound, retryable: false });
        return structuredClone(read);
      },
      pauseInvoice: async (invoiceId: string, workflowId: string) => {
        const script = this.record(invoiceId, 'pauseInvoice', [invoiceId, workflowId]);
        if (script.pause === 'refused') {
          throw new GateError('Stripe invoice pause failed: Keys for idempotent requests (idempotency_error, HTTP 400)', { type: `${FailureType.stripeRejected}:idempotency_error`, retryable: false });
        }
        return script.pause ?? { applied: true, status: 'draft' };
      },
      finalizeInvoice: async (invoiceId: string) => this.record(invoiceId, 'finalizeInvoice', [invoiceId]).finalize ?? { applied: true, status: 'open' },
      loadGateSettings: async (customerId: string) => {
        this.record(invoiceOfCustomer(customerId), 'loadGateSettings', [customerId]);
        return { tolerance: { pct: '1', abs: '0' }, reminderAfterMs: 4 * HOUR, reminderEveryMs: 24 * HOUR };
      },
      countLedgerEvents: async (request: { customerId: string; lines: Array<{ lineId: string }> }) => {
        const invoiceId = invoiceOfCustomer(request.customerId);
        const script = this.record(invoiceId, 'countLedgerEvents', [request]);
        const answer = next(script.ledger, this.callsOf(invoiceId, 'countLedgerEvents').length - 1);
        if (answer === 'mapping') throw new GateError('customer cus_x has no metadata "account_id"', { type: FailureType.ledgerMapping, retryable: false });
        return answer;
      },
      notifyReviewers: async (run: { invoiceId: string }, _invoice: unknown, state: GateState) => {
        this.record(run.invoiceId, 'notifyReviewers', [structuredClone(state)]);
        return { channel: 'C0BILLING', ts: `${this.callsOf(run.invoiceId, 'notifyReviewers').length}.000100` };
      },
      updateAlert: async (run: { invoiceId: string }, _invoice: unknown, state: GateState) => void this.record(run.invoiceId, 'updateAlert', [structuredClone(state)]),
      remindReviewers: async (run: { invoiceId: string }, _invoice: unknown, _state: GateState, reminder: number, now: number) =>
        void this.record(run.invoiceId, 'remindReviewers', [reminder, now]),
      recordGateStarted: async (run: { invoiceId: string }) => void this.record(run.invoiceId, 'recordGateStarted', []),
      recordInvoiceRead: async (run: { invoiceId: string }) => void this.record(run.invoiceId, 'recordInvoiceRead', []),
      recordComparison: async (run: { invoiceId: string }, comparison: unknown, round: number) => void this.record(run.invoiceId, 'recordComparison', [comparison, round]),
      recordGateState: async (run: { invoiceId: string }, state: GateState) => void this.record(run.invoiceId, 'recordGateState', [structuredClone(state)]),
    };
    return withActivityFailures(fakes) as unknown as GateActivities;
  }
}

/** Each fake invoice has its own customer `cus_<invoice id>`, so the ledger fake finds the script. */
const invoiceOfCustomer = (customerId: string) => customerId.slice('cus_'.length);

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

function snapshot(invoiceId: string, over: Partial<InvoiceSnapshot> = {}): InvoiceSnapshot {
  return {
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
    automaticallyFinalizesAt: null,
    meteredLines: [meteredLine('120')],
    otherLineCount: 0,
    ...over,
  };
}

describe('invoiceGate workflow (fake activities)', () => {
  let temporal: TemporalEmulator;
  let connection: Connection;
  let nativeConnection: NativeConnection;
  let client: Client;
  let worker: Worker;
  let running: Promise<void>;
  const world = new FakeWorld();
  const taskQueue = `gate-unit-${randomUUID().slice(0, 8)}`;

  before(async () => {
    Runtime.install({ logger: new DefaultLogger('ERROR'), telemetryOptions: { logging: { filter: { core: 'ERROR', other: 'ERROR' }, forward: {} } } });
    temporal = await startTemporalEmulator({ port: 0 });
    connection = await Connection.connect({ address: temporal.address });
    await ensureSearchAttributes(connection, 'default');
    client = new Client({ connection });
    nativeConnection = await NativeConnection.connect({ address: temporal.address });
    worker = await Worker.create({ connection: nativeConnection, taskQueue, workflowBundle: await workflowBundle(), activities: world.activities() });
    running = worker.run();
  });

  after(async () => {
    worker?.shutdown();
    await running;
    await nativeConnection?.close();
    await connection?.close();
    await temporal?.stop();
  });

  let n = 0;
  /** Starts a gate for a fresh invoice that follows `script`. */
  async function gate(script: (invoiceId: string) => Script) {
    const invoiceId = `in_unit${++n}${randomUUID().slice(0, 6)}`;
    world.scripts.set(invoiceId, script(invoiceId));
    const handle = await client.workflow.start('invoiceGate', { args: [invoiceId], taskQueue, workflowId: gateWorkflowId(invoiceId) });
    return { invoiceId, handle };
  }

  async function until(handle: { query: (q: typeof stateQuery) => Promise<GateState> }, predicate: (s: GateState) => boolean): Promise<GateState> {
    const deadline = Date.now() + 15_000;
    for (;;) {
      const state = await handle.query(stateQuery);
      if (predicate(state)) return state;
      if (Date.now() > deadline) throw new Error(`state never matched: ${JSON.stringify(state)}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  const activitiesOf = (invoiceId: string) => world.callsOf(invoiceId).map((c) => c.activity);
  const lastRecordedState = (invoiceId: string) => world.callsOf(invoiceId, 'recordGateState').at(-1)?.args[0] as GateState;

  test('within tolerance: passed, nothing paused, nobody told, the audit has the outcome', async () => {
    const { invoiceId, handle } = await gate((id) => ({ reads: [snapshot(id)], ledger: [{ il_api: '120' }] }));
    const result: GateState = await handle.result();
    assert.equal(result.status, 'passed');
    assert.equal(result.comparison?.passed, true);
    assert.deepEqual(activitiesOf(invoiceId), [
      'recordGateStarted', 'readInvoice', 'recordInvoiceRead', 'loadGateSettings', 'countLedgerEvents', 'recordComparison', 'recordGateState',
    ]);
    assert.equal(lastRecordedState(invoiceId).status, 'passed');
  });

  test('no metered lines: skipped without counting', async () => {
    const { invoiceId, handle } = await gate((id) => ({ reads: [snapshot(id, { meteredLines: [], otherLineCount: 1 })], ledger: [{}] }));
    const result: GateState = await handle.result();
    assert.equal(result.status, 'skipped');
    assert.equal(world.callsOf(invoiceId, 'countLedgerEvents').length, 0);
  });

  test('deleted before the first read: resolved in Stripe as deleted', async () => {
    const { handle } = await gate(() => ({ reads: ['deleted'], ledger: [{}] }));
    const result: GateState = await handle.result();
    assert.equal(result.status, 'resolved_in_stripe');
    assert.equal(result.invoiceStatus, 'deleted');
  });

  test('Stripe failing for a while: the read is retried until it succeeds', async () => {
    const { invoiceId, handle } = await gate((id) => ({ reads: [snapshot(id)], ledger: [{ il_api: '120' }], failingReads: 2 }));
    const result: GateState = await handle.result();
    assert.equal(result.status, 'passed');
    assert.equal(world.callsOf(invoiceId, 'readInvoice').length, 3);
  });

  test('already finalized when read: too late; a divergence is still reported, a match is not', async () => {
    const diverging = await gate((id) => ({ reads: [snapshot(id, { status: 'open' })], ledger: [{ il_api: '100' }] }));
    const matching = await gate((id) => ({ reads: [snapshot(id, { status: 'open' })], ledger: [{ il_api: '120' }] }));
    const [a, b]: GateState[] = await Promise.all([diverging.handle.result(), matching.handle.result()]);
    assert.equal(a.status, 'too_late');
    assert.match(a.reason ?? '', /already open when the gate read it/);
    assert.equal(world.callsOf(diverging.invoiceId, 'notifyReviewers').length, 1);
    assert.equal(world.callsOf(diverging.invoiceId, 'pauseInvoice').length, 0);
    assert.equal(b.status, 'too_late');
    assert.equal(world.callsOf(matching.invoiceId, 'notifyReviewers').length, 0);
  });

  test('beyond tolerance: paused, alerted, held; a release finalizes it and updates the alert', async () => {
    const { invoiceId, handle } = await gate((id) => ({ reads: [snapshot(id)], ledger: [{ il_api: '100' }] }));
    // The status reads held as soon as the pause is done; the alert's reference follows from Slack.
    const held = await until(handle, (s) => s.status === 'held' && s.slackMessage !== null);
    assert.equal(held.comparison?.maxVariancePct, '20');
    assert.deepEqual(held.slackMessage, { channel: 'C0BILLING', ts: '1.000100' });
    assert.ok(held.heldSince);
    assert.equal(world.callsOf(invoiceId, 'pauseInvoice').length, 1);

    await handle.signal(decisionSignal, { action: 'release', reviewer: 'U0ALICE', note: 'ok' });
    const result: GateState = await handle.result();
    assert.equal(result.status, 'released');
    assert.equal(result.reviewer, 'U0ALICE');
    assert.equal(result.invoiceStatus, 'open');
    assert.equal(world.callsOf(invoiceId, 'finalizeInvoice').length, 1);
    const updates = world.callsOf(invoiceId, 'updateAlert').map((c) => (c.args[0] as GateState).status);
    assert.deepEqual(updates, ['released']);
    assert.equal(lastRecordedState(invoiceId).status, 'released');
  });

  test('a malformed decision changes nothing', async () => {
    const { invoiceId, handle } = await gate((id) => ({ reads: [snapshot(id)], ledger: [{ il_api: '100' }] }));
    await until(handle, (s) => s.status === 'held');
    await handle.signal(decisionSignal, { action: 'approve', reviewer: '' } as never);
    await handle.signal(decisionSignal, { action: 'release', reviewer: 'U0BOB' });
    const result: GateState = await handle.result();
    assert.equal(result.status, 'released');
    assert.equal(result.reviewer, 'U0BOB');
    assert.equal(world.callsOf(invoiceId, 'finalizeInvoice').length, 1);
  });

  test('a recount that now matches releases without a person', async () => {
    const { invoiceId, handle } = await gate((id) => ({ reads: [snapshot(id)], ledger: [{ il_api: '100' }, { il_api: '120' }] }));
    await until(handle, (s) => s.status === 'held');
    await handle.signal(decisionSignal, { action: 'recount', reviewer: 'U0ALICE' });
    const result: GateState = await handle.result();
    assert.equal(result.status, 'auto_released');
    assert.equal(result.recounts, 1);
    assert.deepEqual(world.callsOf(invoiceId, 'recordComparison').map((c) => c.args[1]), [0, 1]);
    assert.deepEqual(world.callsOf(invoiceId, 'updateAlert').map((c) => (c.args[0] as GateState).status), ['recounting', 'auto_released']);
  });

  test('a recount that still diverges keeps it held until a release', async () => {
    const { invoiceId, handle } = await gate((id) => ({ reads: [snapshot(id)], ledger: [{ il_api: '100' }, { il_api: '105' }] }));
    await until(handle, (s) => s.status === 'held');
    await handle.signal(decisionSignal, { action: 'recount', reviewer: 'U0ALICE' });
    const still = await until(handle, (s) => s.status === 'held' && s.recounts === 1);
    assert.equal(still.comparison?.lines[0].ledgerQuantity, '105');
    assert.deepEqual(world.callsOf(invoiceId, 'updateAlert').map((c) => (c.args[0] as GateState).status), ['recounting', 'held']);
    await handle.signal(decisionSignal, { action: 'release', reviewer: 'U0ALICE' });
    assert.equal((await handle.result()).status, 'released');
  });

  test('a recount finds the invoice deleted or finalized in Stripe: resolved there', async () => {
    const deleted = await gate((id) => ({ reads: [snapshot(id), 'deleted'], ledger: [{ il_api: '100' }] }));
    const finalized = await gate((id) => ({ reads: [snapshot(id), snapshot(id, { status: 'open' })], ledger: [{ il_api: '100' }] }));
    for (const { handle } of [deleted, finalized]) {
      await until(handle, (s) => s.status === 'held');
      await handle.signal(decisionSignal, { action: 'recount', reviewer: 'U0ALICE' });
    }
    const a: GateState = await deleted.handle.result();
    const b: GateState = await finalized.handle.result();
    assert.deepEqual([a.status, a.invoiceStatus], ['resolved_in_stripe', 'deleted']);
    assert.deepEqual([b.status, b.invoiceStatus], ['resolved_in_stripe', 'open']);
  });

  test('voided in Stripe while held: the wait ends, resolved in Stripe as void', async () => {
    const { invoiceId, handle } = await gate((id) => ({ reads: [snapshot(id)], ledger: [{ il_api: '100' }] }));
    await until(handle, (s) => s.status === 'held');
    await handle.signal(stripeInvoiceEventSignal, { eventId: 'evt_1', type: 'invoice.voided', invoiceStatus: 'void' });
    const result: GateState = await handle.result();
    assert.equal(result.status, 'resolved_in_stripe');
    assert.equal(result.invoiceStatus, 'void');
    assert.equal(world.callsOf(invoiceId, 'finalizeInvoice').length, 0);
  });

  test('a release that finds the invoice already finalized reports that', async () => {
    const { handle } = await gate((id) => ({ reads: [snapshot(id)], ledger: [{ il_api: '100' }], finalize: { applied: false, status: 'open' } }));
    await until(handle, (s) => s.status === 'held');
    await handle.signal(decisionSignal, { action: 'release', reviewer: 'U0ALICE' });
    const result: GateState = await handle.result();
    assert.equal(result.status, 'resolved_in_stripe');
    assert.match(result.reason ?? '', /already open in Stripe/);
  });

  test('Stripe refuses the pause, or the invoice moved on first: too late, reported', async () => {
    const refused = await gate((id) => ({ reads: [snapshot(id)], ledger: [{ il_api: '100' }], pause: 'refused' }));
    const movedOn = await gate((id) => ({ reads: [snapshot(id)], ledger: [{ il_api: '100' }], pause: { applied: false, status: 'open' } }));
    const a: GateState = await refused.handle.result();
    const b: GateState = await movedOn.handle.result();
    assert.equal(a.status, 'too_late');
    assert.match(a.reason ?? '', /Stripe refused to pause the invoice .*idempotency_error/);
    assert.equal(world.callsOf(refused.invoiceId, 'pauseInvoice').length, 1, 'a refusal is not retried');
    assert.equal(world.callsOf(refused.invoiceId, 'notifyReviewers').length, 1);
    assert.equal(b.status, 'too_late');
    assert.equal(b.invoiceStatus, 'open');
    assert.match(b.reason ?? '', /became open before the gate could pause it/);
  });

  test('a ledger that cannot be counted fails closed: held without a comparison, with the reason', async () => {
    const { invoiceId, handle } = await gate((id) => ({ reads: [snapshot(id)], ledger: ['mapping'] }));
    const held = await until(handle, (s) => s.status === 'held');
    assert.equal(held.comparison, null);
    assert.match(held.reason ?? '', /ledger could not be counted: customer cus_x has no metadata/);
    assert.equal(world.callsOf(invoiceId, 'countLedgerEvents').length, 1, 'a mapping error is not retried');
    assert.equal(world.callsOf(invoiceId, 'pauseInvoice').length, 1);
    await handle.terminate('test done');
  });

  test('held: reminders after 4 h and then every 24 h, on the workflow clock, never a release', async () => {
    const { invoiceId, handle } = await gate((id) => ({ reads: [snapshot(id)], ledger: [{ il_api: '100' }] }));
    const held = await until(handle, (s) => s.status === 'held');
    const reminders = () => world.callsOf(invoiceId, 'remindReviewers').map((c) => c.args as [number, number]);
    await temporal.skipTime(4 * HOUR + 60_000);
    await waitFor(() => reminders().length === 1);
    await temporal.skipTime(24 * HOUR);
    await waitFor(() => reminders().length === 2);
    const [[first, firstAt], [second, secondAt]] = reminders();
    assert.deepEqual([first, second], [1, 2]);
    assert.ok(firstAt - held.heldSince! >= 4 * HOUR, 'the first reminder is due 4 h after the hold');
    assert.ok(secondAt - held.heldSince! >= 28 * HOUR, 'the second 24 h later');
    assert.equal((await handle.query(stateQuery)).status, 'held');
    assert.equal(world.callsOf(invoiceId, 'finalizeInvoice').length, 0);
    await handle.terminate('test done');
  });
});

async function waitFor(check: () => boolean, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
