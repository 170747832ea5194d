// Runs the whole gate against the emulators and a fresh PostgreSQL database, the way `npm start`
// does, but on random ports and with the workflow bundle built once per test run (support/workflow-bundle.ts).
import { randomBytes } from 'node:crypto';
import type { WorkflowHandle } from '@temporalio/client';
import { Client as PgClient } from 'pg';
import pino from 'pino';
import Stripe from 'stripe';
import { parseConfig } from '../../src/config/env';
import { createGateContext, type GateContext } from '../../src/context';
import { hasVerdict } from '../../src/gate/status';
import type { GateState } from '../../src/gate/types';
import { startServer } from '../../src/server';
import { registerGateWebhookEndpoint } from '../../src/services/gate-webhook-endpoint';
import { registerGateEventDestination } from '../../src/services/gate-event-destination';
import type { ResolvedServices } from '../../src/services/resolve-services';
import { createStripeClient } from '../../src/stripe/client';
import { startWorker, type WorkerTuning } from '../../src/worker';
import { gateWorkflowId } from '../../src/workflows/definitions';
import { SLACK_EMULATOR_DEFAULTS, startSlackEmulator, type SlackEmulator } from '../../emulators/slack';
import { startStripeEmulator, type StripeEmulator } from '../../emulators/stripe';
import { startTemporalEmulator, type TemporalEmulator } from '../../emulators/temporal';
import { workflowBundle } from './workflow-bundle';

// 'finalized' is left out: the gate compares what Stripe finalized before it moves on to 'following', so
// a test that reads the audit sees that round too.
const DECIDED_PHASES: readonly string[] = ['watching', 'following', 'ended'];

const ADMIN_URL = process.env.TEST_DATABASE_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

async function createDatabase(adminUrl: string): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `gate_e2e_${randomBytes(6).toString('hex')}`;
  const admin = new PgClient({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const again = new PgClient({ connectionString: adminUrl });
      await again.connect();
      await again.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await again.end();
    },
  };
}

/** The gate as `npm start` runs it: both halves on one context, and the server's base URL. */
export type RunningGate = GateContext & { url: string };

export interface HarnessOptions {
  timeSkipping?: boolean;
  reviewerIds?: string[];
  env?: Record<string, string>;
  /**
   * Runs once the emulators are up, before the gate reads its configuration: e.g. seeds Stripe
   * customers and writes an INVOICE_GATE_CONFIG naming them. Returns more environment.
   */
  beforeStart?: (emulators: { stripeEmulator: StripeEmulator }) => Promise<Record<string, string>>;
  /** The PostgreSQL server the test database is created on (default TEST_DATABASE_ADMIN_URL or local 5432). */
  databaseAdminUrl?: string;
  /**
   * false: no worker in this process; the test runs it elsewhere (e.g. a child process that it can
   * kill) with `workerEnv()`. Default true.
   */
  worker?: boolean;
  /** Worker slots, pollers and cache size other than the SDK's defaults (the month-end benchmark). */
  workerTuning?: WorkerTuning;
}

export interface GateHarness {
  temporal: TemporalEmulator;
  stripeEmulator: StripeEmulator;
  slackEmulator: SlackEmulator;
  stripe: Stripe;
  gate: RunningGate;
  databaseUrl: string;
  /** The environment that runs `src/bin/worker.ts` as this harness's worker, on the same services. */
  workerEnv(): Record<string, string>;
  ledger: PgClient;
  /** Adds ledger rows for a customer: one row per timestamp (unix seconds), value 1 unless given. */
  addLedgerEvents(customerId: string, eventName: string, timestamps: number[], value?: string): Promise<void>;
  /** Sends the same usage to Stripe's meter. */
  addMeterEvents(customerId: string, eventName: string, timestamps: number[], value?: string): Promise<void>;
  gateState(invoiceId: string): Promise<GateState>;
  waitForStatus(invoiceId: string, statuses: string[], timeoutMs?: number): Promise<GateState>;
  waitFor(invoiceId: string, predicate: (state: GateState) => boolean, timeoutMs?: number): Promise<GateState>;
  /**
   * The gate's decision once it is final and recorded (the workflow itself goes on following the
   * invoice to payment, so its result() would wait for that).
   */
  decision(invoiceId: string, timeoutMs?: number): Promise<GateState>;
  stop(): Promise<void>;
}

export async function startGateHarness(options: HarnessOptions = {}): Promise<GateHarness> {
  // SLACK_APP_TOKEN in `env`: the Slack emulator takes that token and clicks go over Socket Mode.
  const appToken = options.env?.SLACK_APP_TOKEN;
  const [temporal, stripeEmulator, slackEmulator, database] = await Promise.all([
    startTemporalEmulator({ port: 0, timeSkipping: options.timeSkipping ?? false }),
    // Meter error reports go out when a test asks (admin.reportMeterErrors): one report holds what the test sent.
    startStripeEmulator({ port: 0, webhookRetryBaseMs: 100, meterErrorReportMs: 0 }),
    startSlackEmulator({ port: 0, ...(appToken ? { appToken, socketMode: true } : {}) }),
    createDatabase(options.databaseAdminUrl ?? ADMIN_URL),
  ]);
  const config = parseConfig({
    PORT: '0',
    HOST: '127.0.0.1',
    DATABASE_URL: database.url,
    TEMPORAL_ADDRESS: temporal.address,
    TEMPORAL_TASK_QUEUE: `invoice-gate-${randomBytes(4).toString('hex')}`,
    SLACK_REVIEWER_IDS: (options.reviewerIds ?? ['U0ALICE']).join(','),
    LOG_LEVEL: process.env.LOG_LEVEL ?? 'silent',
    // No surprise gates from the sweep for missed webhooks: a test that wants it sets GATE_SWEEP_EVERY.
    GATE_SWEEP_EVERY: 'off',
    // Nor a digest message at 09:00 UTC on a skipped clock: a test that wants it sets GATE_DIGEST_AT.
    GATE_DIGEST_AT: 'off',
    ...options.env,
    ...(await options.beforeStart?.({ stripeEmulator })),
  });
  const stripe = createStripeClient({ secretKey: stripeEmulator.apiKey, apiUrl: stripeEmulator.url });
  // As the embedded wiring does: the gate's endpoint exists (and its secret is known) before the server listens.
  const endpoint = await registerGateWebhookEndpoint(stripe, `http://${config.host}:${config.port}`);
  const destination = await registerGateEventDestination(stripe, `http://${config.host}:${config.port}`);
  const services: ResolvedServices = {
    temporal: { ...config.temporal, address: temporal.address, embedded: true },
    stripe: {
      secretKey: stripeEmulator.apiKey,
      webhookSecret: endpoint.secret,
      thinWebhookSecret: destination.secret,
      apiUrl: stripeEmulator.url,
      embedded: true,
    },
    slack: {
      botToken: slackEmulator.botToken,
      signingSecret: slackEmulator.signingSecret,
      channelId: SLACK_EMULATOR_DEFAULTS.channelId,
      apiUrl: slackEmulator.apiUrl,
      reviewerIds: config.slack.reviewerIds,
      appToken: config.slack.appToken,
      embedded: true,
    },
    databaseUrl: database.url,
    ledgerDatabaseUrl: undefined,
    notes: [],
    serverListening: async (url) => {
      await endpoint.moveTo(url);
      await destination.moveTo(url);
      if (!config.slack.appToken) await slackEmulator.admin.setInteractivityUrl(`${url}/slack/interactions`);
    },
    stop: async () => {
      await destination.remove();
      await endpoint.remove();
    },
  };
  const logger = pino({ level: config.logLevel });
  const context = await createGateContext({ config, services, logger, ensureLedgerTable: true });
  let gate: RunningGate;
  try {
    if (options.worker ?? true) {
      await startWorker(context, {
        workflowBundle: await workflowBundle(),
        // Drafts carry the emulator's (advanced) clock: the sweep's window is measured on it.
        stripeNow: async () => (await stripeEmulator.admin.clock()).now,
        tuning: options.workerTuning,
      });
    }
    gate = { ...context, url: await startServer(context) };
  } catch (error) {
    await context.stop();
    throw error;
  }
  const ledger = new PgClient({ connectionString: database.url });
  await ledger.connect();

  const harness: GateHarness = {
    temporal,
    stripeEmulator,
    slackEmulator,
    stripe,
    gate,
    databaseUrl: database.url,
    ledger,
    workerEnv() {
      return {
        DATABASE_URL: database.url,
        TEMPORAL_ADDRESS: temporal.address,
        TEMPORAL_TASK_QUEUE: config.temporal.taskQueue,
        STRIPE_SECRET_KEY: stripeEmulator.apiKey,
        STRIPE_API_URL: stripeEmulator.url,
        SLACK_BOT_TOKEN: slackEmulator.botToken,
        SLACK_SIGNING_SECRET: slackEmulator.signingSecret,
        SLACK_CHANNEL_ID: SLACK_EMULATOR_DEFAULTS.channelId,
        SLACK_API_URL: services.slack.apiUrl!,
        SLACK_REVIEWER_IDS: config.slack.reviewerIds.join(','),
        GATE_SWEEP_EVERY: 'off',
        ...options.env,
      };
    },
    async addLedgerEvents(customerId, eventName, timestamps, value = '1') {
      if (timestamps.length === 0) return;
      await ledger.query(
        `INSERT INTO billable_events (stripe_customer_id, event_name, value, occurred_at)
         SELECT $1, $2, $3::numeric, to_timestamp(t) FROM unnest($4::bigint[]) AS t`,
        [customerId, eventName, value, timestamps],
      );
    },
    async addMeterEvents(customerId, eventName, timestamps, value = '1') {
      // Stripe refuses usage from the future: move the emulated clock past the last event first.
      const latest = Math.max(...timestamps);
      if ((await stripeEmulator.admin.clock()).now <= latest) await stripeEmulator.admin.advanceClockTo(latest + 1);
      for (const [i, timestamp] of timestamps.entries()) {
        await stripe.billing.meterEvents.create({
          event_name: eventName,
          timestamp,
          identifier: `${customerId}-${eventName}-${timestamp}-${i}`,
          payload: { stripe_customer_id: customerId, value },
        });
      }
    },
    async gateState(invoiceId) {
      return gate.client.workflow.getHandle(gateWorkflowId(invoiceId)).query<GateState>('state');
    },
    async waitForStatus(invoiceId, statuses, timeoutMs = 15_000) {
      return harness.waitFor(invoiceId, (state) => statuses.includes(state.status), timeoutMs);
    },
    async waitFor(invoiceId, predicate, timeoutMs = 15_000) {
      const deadline = Date.now() + timeoutMs;
      let last: GateState | undefined;
      let lastError: unknown;
      while (Date.now() < deadline) {
        try {
          last = await harness.gateState(invoiceId);
          if (predicate(last)) return last;
        } catch (error) {
          lastError = error; // not started yet
        }
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      throw new Error(
        `gate for ${invoiceId} did not reach ${predicate.toString()}; last state ${JSON.stringify(last)} ${lastError ?? ''}\n` +
          (await historyTail(gate.client.workflow.getHandle(gateWorkflowId(invoiceId)))),
      );
    },
    async decision(invoiceId, timeoutMs) {
      // The phase moves on only after the outcome's audit write: reading the audit then is safe.
      return harness.waitFor(
        invoiceId,
        (s) => hasVerdict(s.status) && DECIDED_PHASES.includes(s.phase ?? 'deciding'),
        timeoutMs,
      );
    },
    async stop() {
      await ledger.end().catch(() => undefined);
      await gate.stop();
      await services.stop();
      await Promise.all([temporal.stop(), stripeEmulator.stop(), slackEmulator.stop()]);
      await database.drop();
    },
  };
  return harness;
}

/** The last events of a gate's history, for a failure message: what it was waiting on, and why. */
async function historyTail(handle: WorkflowHandle): Promise<string> {
  try {
    const events = ((await handle.fetchHistory()).events ?? []) as unknown as Array<Record<string, unknown>>;
    return events
      .slice(-12)
      .map((event) => {
        const attributes = Object.entries(event).find(([key, value]) => key.endsWith('Attributes') && value)?.[1];
        return `  ${String(event.eventType)} ${JSON.stringify(attributes ?? {}).slice(0, 200)}`;
      })
      .join('\n');
  } catch (error) {
    return `  (no history: ${String(error)})`;
  }
}

/** A customer with a monthly subscription on a metered price whose meter aggregates by `formula`. */
export async function seedCustomer(
  harness: GateHarness,
  options: { eventName?: string; formula?: 'count' | 'sum' | 'last'; unitAmountDecimal?: string; name?: string } = {},
) {
  const eventName = options.eventName ?? 'api_call';
  const seeded = await harness.stripeEmulator.admin.seed({
    customer: { name: options.name ?? 'Acme Corp', email: 'billing@acme.test' },
    meter: { event_name: eventName, formula: options.formula ?? 'count' },
    metered_unit_amount_decimal: options.unitAmountDecimal ?? '2',
    interval: 'month',
  });
  const item = seeded.subscription.items.data[0];
  return {
    customerId: seeded.customer.id as string,
    eventName,
    periodStart: item.current_period_start as number,
    periodEnd: item.current_period_end as number,
    seeded,
  };
}

/** Closes the billing period: Stripe creates the draft invoice and sends invoice.created. */
/** A one-off draft with only a non-metered item (nothing for the gate to compare); returns its id. */
export async function draftWithoutMeteredLines(harness: GateHarness, name: string): Promise<string> {
  const customer = await harness.stripe.customers.create({ name });
  await harness.stripe.invoiceItems.create({
    customer: customer.id,
    amount: 5000,
    currency: 'usd',
    description: 'Onboarding',
  });
  const invoice = await harness.stripe.invoices.create({
    customer: customer.id,
    pending_invoice_items_behavior: 'include',
  });
  return invoice.id!;
}

export async function closePeriod(harness: GateHarness, periodEnd: number, customerId: string): Promise<string> {
  await harness.stripeEmulator.admin.advanceClockTo(periodEnd + 1);
  const invoices = await harness.stripeEmulator.admin.invoices(customerId);
  const draft = invoices.find((invoice) => invoice.billing_reason === 'subscription_cycle');
  if (!draft) throw new Error(`no cycle invoice for ${customerId}: ${JSON.stringify(invoices.map((i) => i.id))}`);
  return draft.id as string;
}

/** `count` timestamps spread over [start, start + count * step). */
export function timestamps(start: number, count: number, step = 60): number[] {
  return Array.from({ length: count }, (_, i) => start + i * step);
}

/** A customer whose Stripe meter saw `stripeCount` events while the ledger has the first `ledgerCount`. */
export async function seedDivergingCustomer(harness: GateHarness, name: string, stripeCount = 120, ledgerCount = 100) {
  const c = await seedCustomer(harness, { name });
  const usage = timestamps(c.periodStart + 10, stripeCount);
  await harness.addMeterEvents(c.customerId, c.eventName, usage);
  await harness.addLedgerEvents(c.customerId, c.eventName, usage.slice(0, ledgerCount));
  return { ...c, usage };
}

/** A Slack message's text and blocks as one searchable string. */
export function messageText(message: { text?: string; blocks?: unknown[] }): string {
  return `${message.text ?? ''} ${JSON.stringify(message.blocks ?? [])}`;
}
