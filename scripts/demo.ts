// `npm run demo`: the whole story on the embedded defaults, narrated. Two customers are billed for
// API calls; one invoice matches the ledger and passes, the other diverges and is held until a
// reviewer releases it from Slack, giving a reason in the release modal. Runs on random ports and a fresh PGlite directory, so it never
// collides with a running `npm start`. Exits 0 when every step happened as told, 1 otherwise.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';
import { sql } from 'kysely';
import type Stripe from 'stripe';
import { StripeEmulatorAdmin, type StripeJson } from '../emulators/stripe/admin-client';
import { SlackEmulatorAdmin, type AdminMessage } from '../emulators/slack/admin-client';
import { loadConfig, type Env } from '../src/config/env';
import type { GateRunRecord } from '../src/audit/audit-store';
import { runBackfill } from '../src/backfill-runner/run-backfill';
import { formatBackfillSummary } from '../src/backfill/summary';
import { createGateContext, type GateContext } from '../src/context';
import type { GateState } from '../src/gate/types';
import { createLogger } from '../src/observability/logger';
import { startServer } from '../src/server';
import { resolveServices, type ResolvedServices } from '../src/services/resolve-services';
import { createStripeClient } from '../src/stripe/client';
import { startWorker } from '../src/worker';
import { RELEASE_REASON_LABELS } from '../src/gate/decision-rules';
import { RELEASE_REASON_CALLBACK_ID } from '../src/slack/release-reason-modal';
import { gateWorkflowId } from '../src/workflows/definitions';

const REVIEWER = 'U0ALICE';
/** Why alice releases the held invoice (a `reason` option of the release modal), and her note. */
const RELEASE_REASON = 'ledger_late';
const RELEASE_NOTE = 'the nightly ledger import missed the last 30 calls';
const EVENT_NAME = 'api_call';
/** Price per API call in cents (Stripe's minor units). */
const CENTS_PER_CALL = '2';
const MATCHING = { name: 'Matching Co', stripe: 1_200, ledger: 1_200 };
const DIVERGING = { name: 'Diverging Ltd', stripe: 1_530, ledger: 1_500 };
const STEP_TIMEOUT_MS = 20_000;

/** Everything that would point the service elsewhere: the demo always runs on the embedded defaults. */
const SERVICE_VARIABLES = [
  'DATABASE_URL',
  'LEDGER_DATABASE_URL',
  'TEMPORAL_ADDRESS',
  'TEMPORAL_API_KEY',
  'TEMPORAL_TLS_CERT',
  'TEMPORAL_TLS_KEY',
  'STRIPE_SECRET_KEY',
  'STRIPE_WEBHOOK_SECRET',
  'STRIPE_API_URL',
  'SLACK_BOT_TOKEN',
  'SLACK_SIGNING_SECRET',
  'SLACK_CHANNEL_ID',
  'SLACK_API_URL',
  'SLACK_APP_TOKEN',
  'INVOICE_GATE_CONFIG',
];

class DemoFailure extends Error {}

const n = (value: number | string) => new Intl.NumberFormat('en-US').format(Number(value));
const usd = (cents: number | string | null | undefined) =>
  cents === null || cents === undefined ? '-' : `$${(Number(cents) / 100).toFixed(2)}`;
const day = (unixSeconds: number) => new Date(unixSeconds * 1000).toISOString().slice(0, 10);

let stepNumber = 0;
function step(title: string): void {
  stepNumber += 1;
  process.stdout.write(`\n${stepNumber}. ${title}\n`);
}
function say(line = ''): void {
  process.stdout.write(`   ${line}\n`);
}

function check(condition: unknown, message: string): asserts condition {
  if (!condition) throw new DemoFailure(message);
}

async function eventually<T>(
  what: string,
  probe: () => Promise<T | undefined | null | false>,
  timeoutMs = STEP_TIMEOUT_MS,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await probe();
      if (value) return value;
    } catch (error) {
      lastError = error;
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const why = lastError instanceof Error ? `: ${lastError.message}` : '';
  throw new DemoFailure(`timed out after ${timeoutMs / 1000} s waiting for ${what}${why}`);
}

/** Renders Block Kit as plain text, roughly as Slack shows it. */
function renderBlocks(message: Pick<AdminMessage, 'text' | 'blocks'>): string[] {
  const blocks = (message.blocks ?? []) as Array<Record<string, any>>;
  if (blocks.length === 0) return [mrkdwn(message.text ?? '')];
  const lines: string[] = [];
  for (const block of blocks) {
    switch (block.type) {
      case 'header':
        lines.push(mrkdwn(block.text?.text ?? '').toUpperCase());
        break;
      case 'section':
        if (block.text?.text) lines.push(...mrkdwn(block.text.text).split('\n'));
        for (const field of block.fields ?? []) lines.push(...mrkdwn(field.text ?? '').split('\n'));
        if (block.accessory?.type === 'button') lines.push(`[ ${block.accessory.text?.text ?? 'button'} ]`);
        break;
      case 'context':
        lines.push(
          (block.elements ?? [])
            .map((e: Record<string, any>) => (e.type === 'image' ? (e.alt_text ?? '') : mrkdwn(e.text ?? '')))
            .filter(Boolean)
            .join('  ·  '),
        );
        break;
      case 'actions':
        lines.push(
          (block.elements ?? [])
            .map((e: Record<string, any>) =>
              e.type === 'button' ? `[ ${e.text?.text ?? e.action_id} ]` : `[${e.type}]`,
            )
            .join('  '),
        );
        break;
      case 'divider':
        lines.push('─'.repeat(40));
        break;
      default:
        if (block.text?.text) lines.push(mrkdwn(block.text.text));
    }
  }
  return lines;
}

/** Slack mrkdwn to plain text: links, dates, mentions and escapes. Bold/italic markers stay. */
function mrkdwn(text: string): string {
  return text
    .replace(/<!date\^\d+\^[^|>]*\|([^>]*)>/g, '$1')
    .replace(/<@([A-Z0-9]+)>/g, '@$1')
    .replace(/<#([A-Z0-9]+)(\|[^>]*)?>/g, '#$1')
    .replace(/<(https?:[^|>]+)\|([^>]+)>/g, '$2 ($1)')
    .replace(/<(https?:[^>]+)>/g, '$1')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');
}

function box(lines: string[]): void {
  const width = Math.min(100, Math.max(...lines.map((l) => l.length)));
  say(`┌${'─'.repeat(width + 2)}┐`);
  for (const line of lines) {
    for (let i = 0; i === 0 || i < line.length; i += width) {
      say(`│ ${line.slice(i, i + width).padEnd(width)} │`);
    }
  }
  say(`└${'─'.repeat(width + 2)}┘`);
}

function table(headers: string[], rows: string[][]): void {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const format = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i]))
      .join('  ')
      .trimEnd();
  say(format(headers));
  say(widths.map((w) => '─'.repeat(w)).join('  '));
  for (const row of rows) say(format(row));
}

function demoConfig() {
  const env: Env = { ...process.env };
  for (const name of SERVICE_VARIABLES) delete env[name];
  Object.assign(env, { PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'warn', SLACK_REVIEWER_IDS: REVIEWER });
  // A developer's .env points `npm start` at their services; the demo runs on the embedded ones.
  return loadConfig(env, { dotenvPath: false });
}

interface Customer {
  name: string;
  customerId: string;
  subscriptionId: string;
  periodStart: number;
  periodEnd: number;
}

async function main(): Promise<void> {
  const started = Date.now();
  const config = demoConfig();
  const logger = createLogger({ level: config.logLevel });
  const dataDir = mkdtempSync(join(tmpdir(), 'invoice-gate-demo-'));
  const cleanups: Array<() => Promise<unknown>> = [async () => rmSync(dataDir, { recursive: true, force: true })];
  const stopAll = async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
  };
  // Ctrl-C: stop the emulators and the gate and remove the temp database before leaving.
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      process.stderr.write(`\ndemo interrupted (${signal}); stopping\n`);
      void stopAll().finally(() => process.exit(130));
    });
  }

  try {
    step('Starting invoice-gate on its embedded defaults');
    // Bundling the workflow code takes a few seconds: do it while the emulators start.
    const bundling = bundleWorkflowCode({
      workflowsPath: require.resolve('../src/workflows'),
      logger: quietBundlerLogger,
    });
    bundling.catch(() => undefined);
    const services: ResolvedServices = await resolveServices(config, {
      emulators: 'in-process',
      ports: 'random',
      serves: true,
    });
    cleanups.push(() => services.stop());
    for (const note of services.notes)
      say(note.replace(/ \(set [^)]*\)$/, '').replace(/ under \.data\/$/, ` in ${dataDir}`));
    const workflowBundle = await bundling;
    // What `npm start` runs (src/bin/start.ts), on a fresh database directory and a pre-built bundle.
    const gate = await createGateContext({ config, services, logger, ensureLedgerTable: true, database: { dataDir } });
    cleanups.push(() => gate.stop());
    await startWorker(gate, { workflowBundle });
    const url = await startServer(gate);
    say(`The gate listens on ${url}: Stripe webhooks at /webhooks/stripe, Slack clicks at /slack/interactions.`);
    say(`Tolerance: a line passes when Stripe and the ledger differ by at most ${config.tolerance.pct} %.`);
    say(`Reviewer allowed to decide in Slack: ${REVIEWER} (alice).`);

    check(
      services.stripe.embedded && services.stripe.apiUrl && services.slack.embedded && services.slack.apiUrl,
      'the demo needs the Stripe and Slack emulators',
    );
    const stripeAdmin = new StripeEmulatorAdmin(services.stripe.apiUrl);
    const slackAdmin = new SlackEmulatorAdmin(new URL(services.slack.apiUrl).origin);
    const stripe = createStripeClient({ secretKey: services.stripe.secretKey, apiUrl: services.stripe.apiUrl });
    const gateState = (invoiceId: string) =>
      gate.client.workflow.getHandle(gateWorkflowId(invoiceId)).query<GateState>('state');
    const waitForGate = (invoiceId: string, what: string, predicate: (s: GateState) => boolean) =>
      eventually(`the gate of ${invoiceId} to be ${what}`, async () => {
        const state = await gateState(invoiceId);
        return predicate(state) ? state : undefined;
      });

    step('Seeding Stripe (emulator): two customers, a meter and a subscription each');
    const customers: Customer[] = [];
    for (const spec of [MATCHING, DIVERGING]) {
      const seeded = await stripeAdmin.seed({
        customer: { name: spec.name, email: `billing@${spec.name.split(' ')[0].toLowerCase()}.test` },
        meter: { event_name: EVENT_NAME, display_name: 'API calls', formula: 'count' },
        product_name: 'API access',
        metered_unit_amount_decimal: CENTS_PER_CALL,
        interval: 'month',
      });
      const item = seeded.subscription.items.data[0];
      const customer: Customer = {
        name: spec.name,
        customerId: seeded.customer.id,
        subscriptionId: seeded.subscription.id,
        periodStart: item.current_period_start,
        periodEnd: item.current_period_end,
      };
      customers.push(customer);
      say(
        `${spec.name}: customer ${customer.customerId}, subscription ${customer.subscriptionId}, meter "${EVENT_NAME}" (${seeded.meter.id}, counts events)`,
      );
    }
    const [matching, diverging] = customers;
    say(
      `Price: ${usd(CENTS_PER_CALL)} per API call, billed monthly; current period ${day(matching.periodStart)} to ${day(matching.periodEnd)}.`,
    );

    step("Recording usage: in Stripe's meter and in our own ledger (table billable_events)");
    for (const [customer, spec] of [
      [matching, MATCHING],
      [diverging, DIVERGING],
    ] as const) {
      await recordUsage(stripe, stripeAdmin, gate, customer, spec.stripe, spec.ledger);
      const diff = spec.stripe - spec.ledger;
      const pct = ((diff / spec.ledger) * 100).toFixed(1);
      say(
        `${customer.name}: ${n(spec.stripe)} API calls sent to Stripe, ${n(spec.ledger)} rows in the ledger` +
          (diff === 0
            ? ' (they match).'
            : ` (Stripe has ${n(diff)} more: ${pct} %, beyond the ${config.tolerance.pct} % tolerance).`),
      );
    }

    step('Closing the billing period: advancing the Stripe clock to the end of the period');
    await stripeAdmin.advanceClockTo(matching.periodEnd + 1);
    const invoices: Record<string, StripeJson> = {};
    for (const customer of customers) {
      const invoice = (await stripeAdmin.invoices(customer.customerId)).find(
        (i) => i.billing_reason === 'subscription_cycle',
      );
      check(invoice, `Stripe created no cycle invoice for ${customer.name}`);
      invoices[customer.customerId] = invoice;
      say(
        `Stripe created draft invoice ${invoice.id} for ${customer.name}: ${usd(invoice.total)} (status ${invoice.status}).`,
      );
    }
    const matchingInvoice = invoices[matching.customerId].id as string;
    const divergingInvoice = invoices[diverging.customerId].id as string;
    const ours = new Set([matchingInvoice, divergingInvoice]);
    await eventually('the invoice.created webhooks to be delivered', async () => {
      const events = (await stripeAdmin.events('invoice.created')).filter((e) => ours.has(e.data?.object?.id));
      const delivered = new Set(
        (await stripeAdmin.deliveries({ eventType: 'invoice.created' }))
          .filter((d) => d.status === 'succeeded')
          .map((d) => d.event_id),
      );
      return events.length === 2 && events.every((e) => delivered.has(e.id));
    });
    say(
      'Stripe sent invoice.created for both to the gate (signed webhooks); each started a gate workflow, invoice-gate-<invoice id>.',
    );

    step(`Gate on ${matching.name}'s invoice ${matchingInvoice}`);
    const passed = await waitForGate(matchingInvoice, 'passed', (s) => s.status === 'passed');
    const passedLine = passed.comparison?.lines[0];
    check(passedLine, 'the passed gate has no compared line');
    say(
      `PASSED: Stripe ${n(passedLine.stripeQuantity)} API calls, ledger ${n(passedLine.ledgerQuantity)} (difference ${n(passedLine.difference)}).`,
    );
    const passedInvoice = await stripe.invoices.retrieve(matchingInvoice);
    check(
      passedInvoice.status === 'draft' && passedInvoice.auto_advance === true,
      `expected the passed invoice to stay a draft with auto_advance on, got ${passedInvoice.status}/${passedInvoice.auto_advance}`,
    );
    say(
      'The invoice stays a draft with auto_advance on: Stripe will finalize it on its own schedule. No Slack message.',
    );

    step(`Gate on ${diverging.name}'s invoice ${divergingInvoice}`);
    const held = await waitForGate(
      divergingInvoice,
      'held with its Slack alert posted',
      (s) => s.status === 'held' && s.slackMessage !== null,
    );
    const heldLine = held.comparison?.lines[0];
    check(heldLine && held.slackMessage, 'the held gate has no compared line or Slack message');
    say(
      `HELD: Stripe ${n(heldLine.stripeQuantity)} API calls, ledger ${n(heldLine.ledgerQuantity)} ` +
        `(difference ${n(heldLine.difference)}, ${held.comparison?.maxVariancePct} %, about ${usd(heldLine.estimatedImpactMinor)} overbilled).`,
    );
    const paused = await stripe.invoices.retrieve(divergingInvoice);
    check(
      paused.status === 'draft' && paused.auto_advance === false,
      `expected the held invoice to be paused, got ${paused.status}/${paused.auto_advance}`,
    );
    say('The gate paused it in Stripe (auto_advance off) and posted this alert to #billing-review:');
    const alert = await slackAdmin.message(held.slackMessage.channel, held.slackMessage.ts);
    box(renderBlocks(alert));

    step(`alice (${REVIEWER}) clicks Release in Slack`);
    const click = await slackAdmin.click({
      channel: alert.channel,
      ts: alert.ts,
      actionId: 'gate_release',
      userId: REVIEWER,
    });
    check(click.status === 200, `Slack's signed click was answered with HTTP ${click.status}: ${click.body}`);
    say(`Slack posted the signed click to the gate; it answered ${click.status} in ${click.ms} ms.`);
    const modal = await eventually('the release modal to open', async () =>
      (await slackAdmin.openViews(REVIEWER)).find((v) => v.callback_id === RELEASE_REASON_CALLBACK_ID),
    );
    say(
      `A release needs a reason: the gate opened the "${String(modal.title?.text ?? 'Release')}" modal for alice ` +
        `(reasons: ${Object.values(RELEASE_REASON_LABELS).join(', ')}).`,
    );

    step(`alice picks "${RELEASE_REASON_LABELS[RELEASE_REASON]}", adds a note, and submits`);
    const submission = await slackAdmin.submitView({
      viewId: modal.id,
      values: { reason: RELEASE_REASON, note: RELEASE_NOTE },
    });
    check(
      submission.responseAction === 'close',
      `the release modal should close, got ${submission.responseAction} ${JSON.stringify(submission.errors ?? {})}`,
    );
    say(
      `The submission is the decision: the gate's \`decide\` Update checked it (a reviewer, a held invoice, a reason) ` +
        `and Slack closed the modal after ${submission.ms} ms.`,
    );
    const released = await waitForGate(divergingInvoice, 'released', (s) => s.status === 'released');
    const finalized = await eventually(`Stripe invoice ${divergingInvoice} to be finalized`, async () => {
      const invoice = await stripe.invoices.retrieve(divergingInvoice);
      return invoice.status === 'open' ? invoice : undefined;
    });
    say(
      `RELEASED by ${released.reviewer}: the gate finalized ${divergingInvoice} in Stripe, status now "${finalized.status}" (${usd(finalized.total)} due).`,
    );
    const expectedReason = `${RELEASE_REASON_LABELS[RELEASE_REASON]}: ${RELEASE_NOTE}`;
    check(
      finalized.metadata?.invoice_gate_released_by === REVIEWER &&
        finalized.metadata?.invoice_gate_reason === expectedReason,
      `Stripe metadata should name the release: ${JSON.stringify(finalized.metadata)}`,
    );
    say(
      `Stripe's invoice metadata keeps who and why: invoice_gate_released_by=${finalized.metadata?.invoice_gate_released_by}, ` +
        `invoice_gate_reason="${finalized.metadata?.invoice_gate_reason}".`,
    );
    const updated = await eventually('the Slack alert to show the decision', async () => {
      const message = await slackAdmin.message(alert.channel, alert.ts);
      return message.edits.length > 0 ? message : undefined;
    });
    say(
      `The alert was updated in place: "${renderBlocks(updated).find((l) => /released|alice|U0ALICE/i.test(l)) ?? renderBlocks(updated)[0]}"`,
    );

    step('An hour later: advancing the Stripe clock by one hour');
    await stripeAdmin.advanceClock(3600);
    const autoFinalized = await eventually(`Stripe to finalize ${matchingInvoice}`, async () => {
      const invoice = await stripe.invoices.retrieve(matchingInvoice);
      return invoice.status === 'open' ? invoice : undefined;
    });
    say(
      `FINALIZED by Stripe: ${matchingInvoice} (${matching.name}) is now "${autoFinalized.status}" (${usd(autoFinalized.total)} due).`,
    );

    step('The audit trail: gate runs recorded by the gate (audit.listRuns, oldest first)');
    const runs = await eventually('the audit rows of both invoices to be final', async () => {
      const rows = await gate.audit.listRuns();
      const decided = (id: string) => rows.some((r) => r.invoiceId === id && r.finishedAt !== null);
      return decided(matchingInvoice) && decided(divergingInvoice) ? rows.reverse() : undefined;
    });
    const byInvoice = new Map<string, GateRunRecord>(runs.map((r) => [r.invoiceId, r]));
    const nameOf = new Map(customers.map((c) => [c.customerId, c.name]));
    table(
      ['invoice', 'customer', 'stripe', 'ledger', 'variance', 'outcome', 'reviewer', 'finished (UTC)'],
      runs.map((run) => [
        run.invoiceId,
        nameOf.get(run.customerId ?? '') ?? run.customerId ?? '-',
        run.stripeTotal === null ? '-' : n(run.stripeTotal),
        run.ledgerTotal === null ? '-' : n(run.ledgerTotal),
        run.maxVariancePct === null ? '-' : `${run.maxVariancePct} %`,
        run.outcome ?? run.status,
        run.reviewer ?? '-',
        run.finishedAt?.toISOString().slice(0, 19).replace('T', ' ') ?? '-',
      ]),
    );
    const others = runs.filter((r) => !ours.has(r.invoiceId));
    if (others.length > 0) {
      say(
        `(${others.length} more: the $0.00 first invoices Stripe issued when the subscriptions started; nothing metered to compare.)`,
      );
    }
    const releasedRun = await gate.audit.getRun(divergingInvoice);
    say(
      `getRun(${divergingInvoice}): ${releasedRun?.lines.length} line compared, decided by ${releasedRun?.reviewer} ` +
        `${releasedRun?.decidedAt ? `at ${releasedRun.decidedAt.toISOString().slice(11, 19)} UTC` : ''}, Slack message ${releasedRun?.slack?.ts ?? '-'}.`,
    );
    check(byInvoice.get(matchingInvoice)?.outcome === 'passed', `audit: ${matchingInvoice} should be passed`);
    check(byInvoice.get(divergingInvoice)?.outcome === 'released', `audit: ${divergingInvoice} should be released`);
    check(byInvoice.get(divergingInvoice)?.reviewer === REVIEWER, `audit: ${divergingInvoice} should name ${REVIEWER}`);

    step('The decision log: every decision attempt, hash-chained (npm run audit -- verify)');
    const decisions = await gate.decisions.forInvoice(divergingInvoice);
    table(
      ['seq', 'reviewer', 'action', 'reason', 'note', 'accepted', 'channel', 'hash'],
      decisions.map((d) => [
        d.seq,
        d.reviewer,
        d.action,
        d.reason ?? '-',
        d.note ?? '-',
        d.accepted ? 'yes' : `no (${d.refusal ?? ''})`,
        d.channel,
        `${d.hash.slice(0, 12)}…`,
      ]),
    );
    check(
      decisions.some((d) => d.accepted && d.action === 'release' && d.reason === RELEASE_REASON),
      `the decision log should hold alice's release with its reason: ${JSON.stringify(decisions)}`,
    );
    const chain = await gate.decisions.verify();
    check(chain.intact, `the decision log's hash chain should verify: ${JSON.stringify(chain)}`);
    say(
      chain.intact
        ? `The chain verifies: ${chain.rows} row${chain.rows === 1 ? '' : 's'}, head hash ${chain.headHash.slice(0, 16)}….`
        : 'The chain does not verify.',
    );

    step('The backfill report: the same comparison over the finalized invoices (npm run backfill)');
    const clock = await stripeAdmin.clock();
    const backfillDay = day(clock.now);
    const report = await runBackfill(gate, {
      request: { since: day(matching.periodStart), until: backfillDay, customer: null, statuses: ['open', 'paid'] },
      out: join(dataDir, 'backfill.csv'),
      progress: { write: () => true },
      workflowBundle,
    });
    say(`Workflow ${report.runId}: read only, recorded in invoice_gate.backfill_lines, CSV in ${report.csvPath}.`);
    process.stdout.write(formatBackfillSummary(report.summary).replace(/^(?=.)/gm, '   '));
    check(report.summary.lines === 2, `backfill: 2 compared lines expected, got ${report.summary.lines}`);
    check(
      report.summary.divergingLines === 1,
      `backfill: 1 diverging line expected, got ${report.summary.divergingLines}`,
    );

    step('Stopping everything');
    await stopAll();
    say(
      `Done in ${((Date.now() - started) / 1000).toFixed(1)} s: one invoice passed, one was held, released by a reviewer with a reason and finalized.`,
    );
  } catch (error) {
    await stopAll();
    throw error;
  }
}

const quietBundlerLogger = { trace() {}, debug() {}, info() {}, warn() {}, error: console.error, log() {} };

/** `stripeCount` meter events and `ledgerCount` ledger rows, one a minute from the period's start. */
async function recordUsage(
  stripe: Stripe,
  stripeAdmin: StripeEmulatorAdmin,
  gate: GateContext,
  customer: Customer,
  stripeCount: number,
  ledgerCount: number,
): Promise<void> {
  const first = customer.periodStart + 60;
  const at = (i: number) => first + i * 60;
  check(at(Math.max(stripeCount, ledgerCount)) < customer.periodEnd, 'the usage does not fit into the billing period');
  // Stripe refuses usage from the future: move the emulated clock past the last event first.
  const latest = at(stripeCount - 1);
  if ((await stripeAdmin.clock()).now <= latest) await stripeAdmin.advanceClockTo(latest + 1);
  const indexes = Array.from({ length: stripeCount }, (_, i) => i);
  for (let offset = 0; offset < indexes.length; offset += 50) {
    await Promise.all(
      indexes.slice(offset, offset + 50).map((i) =>
        stripe.billing.meterEvents.create({
          event_name: EVENT_NAME,
          timestamp: at(i),
          identifier: `${customer.customerId}-${EVENT_NAME}-${i}`,
          payload: { stripe_customer_id: customer.customerId, value: '1' },
        }),
      ),
    );
  }
  await sql`
    insert into billable_events (stripe_customer_id, event_name, value, occurred_at)
    select ${customer.customerId}, ${EVENT_NAME}, 1, to_timestamp(${first}::bigint + g * 60)
    from generate_series(0, ${ledgerCount - 1}::int) as g`.execute(gate.databases.ledgerDb);
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    const message =
      error instanceof DemoFailure
        ? error.message
        : error instanceof Error
          ? (error.stack ?? error.message)
          : String(error);
    process.stderr.write(`\ndemo FAILED: ${message}\n`);
    process.exit(1);
  },
);
