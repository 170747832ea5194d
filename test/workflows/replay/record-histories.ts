// Records the gate workflow's histories in every phase it can be in, against the emulators, and writes
// them to test/workflows/replay/histories/. Run it to add histories of a new version of the gate (the
// old ones stay: gates started on them must still replay), or to record a scenario that is missing:
//   npx tsx test/workflows/replay/record-histories.ts [name ...]
// RECORD_AS=<prefix> writes `<prefix>-<phase>.json` instead of `follows-<phase>.json`: a new version
// of the gate gets files of its own beside the ones it must still replay.
// The recorded files are what replay.test.ts replays on every `npm test`.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { historyFileText } from './history-files';
import type { GateState } from '../../../src/gate/types';
import { decideUpdate, decisionSignal, gateWorkflowId } from '../../../src/workflows/definitions';
import {
  closePeriod,
  draftWithoutMeteredLines,
  seedCustomer,
  seedDivergingCustomer,
  startGateHarness,
  timestamps,
  type GateHarness,
} from '../../support/gate-harness';

const HOUR = 3_600_000;
const OUT = join(__dirname, 'histories');

type Scenario = (h: GateHarness) => Promise<string>;

const handle = (h: GateHarness, invoiceId: string) => h.gate.client.workflow.getHandle(gateWorkflowId(invoiceId));

async function heldInvoice(h: GateHarness, name: string) {
  const c = await seedDivergingCustomer(h, name);
  const invoiceId = await closePeriod(h, c.periodEnd, c.customerId);
  await h.waitFor(invoiceId, (s) => s.status === 'held' && s.slackMessage !== null);
  return { ...c, invoiceId };
}

/**
 * Every phase of the gate that follows its invoice to the end, each ending where a deploy could find
 * it. Files are named `follows-<phase>.json`; the `v1-*` files were recorded from the first version of
 * the gate (src/workflows/gate/invoice-gate-v1.ts), which new gates no longer take, so they cannot be recorded again.
 */
const scenarios: Record<string, Scenario> = {
  async 'follows-passed-watching'(h) {
    const c = await seedCustomer(h, { name: 'Replay Passed' });
    const usage = timestamps(c.periodStart + 10, 20);
    await h.addMeterEvents(c.customerId, c.eventName, usage);
    await h.addLedgerEvents(c.customerId, c.eventName, usage);
    const invoiceId = await closePeriod(h, c.periodEnd, c.customerId);
    await h.waitFor(invoiceId, (s) => s.phase === 'watching');
    return invoiceId;
  },
  async 'follows-skipped'(h) {
    const invoiceId = await draftWithoutMeteredLines(h, 'Replay Seats Only');
    await h.waitForStatus(invoiceId, ['skipped']);
    await handle(h, invoiceId).result();
    return invoiceId;
  },
  async 'follows-held-waiting'(h) {
    return (await heldInvoice(h, 'Replay Held')).invoiceId;
  },
  async 'follows-held-with-reminders'(h) {
    const { invoiceId } = await heldInvoice(h, 'Replay Reminded');
    const replies = async () => {
      const state = await h.gateState(invoiceId);
      return (await h.slackEmulator.admin.replies(state.slackMessage!.channel, state.slackMessage!.ts)).length;
    };
    await h.temporal.skipTime(4 * HOUR + 60_000);
    await eventually(async () => (await replies()) === 1);
    await h.temporal.skipTime(24 * HOUR);
    await eventually(async () => (await replies()) === 2);
    return invoiceId;
  },
  // Decisions through the decide Update (patch DECIDES_BY_UPDATE). follows-released-following.json and
  // follows-recount-still-held.json were recorded with the decision signal before it and stay as they are.
  async 'decides-released-following'(h) {
    const { invoiceId } = await heldInvoice(h, 'Replay Released');
    await handle(h, invoiceId).executeUpdate(decideUpdate, {
      args: [{ action: 'release', reviewer: 'U0ALICE', reason: 'ledger_late', note: 'ok' }],
    });
    await h.waitFor(invoiceId, (s) => s.phase === 'following');
    return invoiceId;
  },
  async 'decides-recount-still-held'(h) {
    const { invoiceId } = await heldInvoice(h, 'Replay Recount Holds');
    await handle(h, invoiceId).executeUpdate(decideUpdate, { args: [{ action: 'recount', reviewer: 'U0ALICE' }] });
    await h.waitFor(invoiceId, (s: GateState) => s.status === 'held' && s.recounts === 1);
    return invoiceId;
  },
  async 'decides-signal-refused-then-released'(h) {
    const { invoiceId } = await heldInvoice(h, 'Replay Signal Rules');
    await handle(h, invoiceId).signal(decisionSignal, { action: 'release', reviewer: 'U0ALICE' });
    await handle(h, invoiceId).signal(decisionSignal, {
      action: 'release',
      reviewer: 'U0ALICE',
      reason: 'stripe_correct',
    });
    await h.waitFor(invoiceId, (s) => s.phase === 'following');
    return invoiceId;
  },
  async 'follows-late-usage-held'(h) {
    const c = await seedCustomer(h, { name: 'Replay Late Usage', formula: 'sum' });
    await h.addMeterEvents(c.customerId, c.eventName, [c.periodStart + 10], '1000');
    await h.addLedgerEvents(c.customerId, c.eventName, [c.periodStart + 10], '1000');
    const invoiceId = await closePeriod(h, c.periodEnd, c.customerId);
    await h.waitFor(invoiceId, (s) => s.phase === 'watching');
    await h.addMeterEvents(c.customerId, c.eventName, [c.periodStart + 20], '300');
    await h.waitFor(invoiceId, (s) => s.phase === 'held' && s.slackMessage !== null);
    return invoiceId;
  },
  async 'follows-paid-ended'(h) {
    const c = await seedCustomer(h, { name: 'Replay Paid' });
    const usage = timestamps(c.periodStart + 10, 5);
    await h.addMeterEvents(c.customerId, c.eventName, usage);
    await h.addLedgerEvents(c.customerId, c.eventName, usage);
    const invoiceId = await closePeriod(h, c.periodEnd, c.customerId);
    await h.waitFor(invoiceId, (s) => s.phase === 'watching');
    await h.stripe.invoices.finalizeInvoice(invoiceId);
    await h.waitFor(invoiceId, (s) => s.phase === 'following');
    await h.stripe.invoices.pay(invoiceId, { paid_out_of_band: true });
    await handle(h, invoiceId).result();
    return invoiceId;
  },
  async 'follows-too-late-following'(h) {
    const c = await seedDivergingCustomer(h, 'Replay Too Late');
    const [endpoint] = await h.stripeEmulator.admin.webhookEndpoints();
    await h.stripe.webhookEndpoints.update(endpoint.id, { disabled: true });
    const invoiceId = await closePeriod(h, c.periodEnd, c.customerId);
    await h.stripe.invoices.finalizeInvoice(invoiceId);
    await h.stripe.webhookEndpoints.update(endpoint.id, { disabled: false });
    const created = (await h.stripeEmulator.admin.events('invoice.created')).find(
      (e) => e.data.object.id === invoiceId,
    );
    await h.stripeEmulator.admin.redeliver(created!.id, endpoint.id);
    await h.waitFor(invoiceId, (s) => s.status === 'too_late' && s.phase === 'following');
    return invoiceId;
  },
  // The gate that explains itself (patches explains-divergences and checks-usage-history).
  async 'explains-passed-watching'(h) {
    const c = await seedCustomer(h, { name: 'Replay Explains Passed' });
    const usage = timestamps(c.periodStart + 10, 20);
    await h.addMeterEvents(c.customerId, c.eventName, usage);
    await h.addLedgerEvents(c.customerId, c.eventName, usage);
    const invoiceId = await closePeriod(h, c.periodEnd, c.customerId);
    await h.waitFor(invoiceId, (s) => s.phase === 'watching' && s.history !== undefined);
    return invoiceId;
  },
  async 'explains-held-waiting'(h) {
    const { invoiceId } = await heldInvoice(h, 'Replay Explains Held');
    await h.waitFor(invoiceId, (s) => s.phase === 'held' && s.explanation?.status === 'explained');
    return invoiceId;
  },
};

async function eventually(check: () => Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function record(names: string[]): Promise<void> {
  mkdirSync(OUT, { recursive: true });
  const h = await startGateHarness();
  try {
    for (const name of names) {
      const invoiceId = await scenarios[name](h);
      const history = await handle(h, invoiceId).fetchHistory();
      const file = process.env.RECORD_AS ? name.replace(/^follows-/, `${process.env.RECORD_AS}-`) : name;
      writeFileSync(join(OUT, `${file}.json`), historyFileText(history));
      process.stdout.write(`recorded ${file}: ${history.events?.length} events\n`);
    }
  } finally {
    await h.stop();
  }
}

const wanted = process.argv.slice(2);
const unknown = wanted.filter((name) => !(name in scenarios));
if (unknown.length > 0) {
  process.stderr.write(`unknown scenarios: ${unknown.join(', ')}; known: ${Object.keys(scenarios).join(', ')}\n`);
  process.exit(2);
}
record(wanted.length > 0 ? wanted : Object.keys(scenarios)).then(
  () => process.exit(0),
  (error) => {
    process.stderr.write(`${error?.stack ?? error}\n`);
    process.exit(1);
  },
);
