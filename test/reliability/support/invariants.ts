// What every fault test checks at its end, whatever the fault was: nothing lost, nothing doubled, and
// no invoice beyond tolerance went through without a reviewer.
import assert from 'node:assert/strict';
import { Client as PgClient } from 'pg';
import type { CohortMember } from '../../support/cohort';
import type { GateHarness } from '../../support/gate-harness';
import { gateWorkflowId } from '../../../src/workflows/definitions';
import { SLACK_EMULATOR_DEFAULTS } from '../../../emulators/slack';

/** The statuses in which Stripe has finalized the invoice (or is about to, for a draft left to auto-advance). */
const FINALIZED = new Set(['open', 'paid', 'uncollectible', 'void']);

export interface GatedInvoice {
  invoiceId: string;
  member: CohortMember;
}

/** The cohort's cycle invoices, paired with the member each belongs to. */
export function gatedInvoices(members: readonly CohortMember[], byCustomer: Map<string, string>): GatedInvoice[] {
  return members.map((member) => {
    const invoiceId = byCustomer.get(member.customerId);
    assert.ok(invoiceId, `Stripe created no cycle invoice for ${member.customerId}`);
    return { invoiceId, member };
  });
}

/**
 * - every created invoice has exactly one gate run (one workflow execution) and one `gate_runs` row, with
 *   the outcome its counts call for and one compared line per round;
 * - `invoice.created` is recorded once per invoice in `stripe_events`;
 * - no invoice beyond tolerance is finalized, or left to auto-advance, without a reviewer: in Stripe it
 *   is a paused draft, its audit says held, and it has exactly one alert in Slack;
 * - an invoice within tolerance was not touched in Stripe (auto-advance on, a draft) and has no alert.
 */
export async function assertGateInvariants(h: GateHarness, invoices: readonly GatedInvoice[]): Promise<void> {
  // A fresh connection: a test may have restarted the database under the harness's own.
  const db = new PgClient({ connectionString: h.databaseUrl });
  await db.connect();
  try {
    const executions = new Map<string, number>();
    for await (const execution of h.gate.client.workflow.list({ query: `WorkflowType = 'invoiceGate'` })) {
      executions.set(execution.workflowId, (executions.get(execution.workflowId) ?? 0) + 1);
    }
    const { rows: runs } = await db.query<{
      id: string;
      invoice_id: string;
      run_id: string;
      outcome: string | null;
      reviewer: string | null;
      slack_ts: string | null;
    }>(`select id, invoice_id, run_id, outcome, reviewer, slack_ts from invoice_gate.gate_runs`);
    const { rows: lines } = await db.query<{ run_id: string; recount: number; lines: string }>(
      `select run_id, recount, count(*) as lines from invoice_gate.gate_lines group by run_id, recount`,
    );
    const { rows: created } = await db.query<{ invoice_id: string; n: string }>(
      `select invoice_id, count(*) as n from invoice_gate.stripe_events where type = 'invoice.created' group by invoice_id`,
    );
    const alerts = (await h.slackEmulator.admin.messages(SLACK_EMULATOR_DEFAULTS.channelId)).filter(
      (m) => !m.threadTs || m.threadTs === m.ts,
    );

    const problems: string[] = [];
    for (const { invoiceId, member } of invoices) {
      const say = (problem: string) =>
        problems.push(`${invoiceId} (${member.diverging ? 'diverging' : 'matching'}): ${problem}`);
      const gateRuns = executions.get(gateWorkflowId(invoiceId)) ?? 0;
      if (gateRuns !== 1) say(`${gateRuns} gate runs`);
      const rows = runs.filter((r) => r.invoice_id === invoiceId);
      if (rows.length !== 1) {
        say(`${rows.length} gate_runs rows`);
        continue;
      }
      const [row] = rows;
      const rounds = lines.filter((l) => String(l.run_id) === String(row.id));
      if (rounds.length === 0 || rounds.some((l) => Number(l.lines) !== 1))
        say(`compared lines per round ${JSON.stringify(rounds)}`);
      const events = created.find((c) => c.invoice_id === invoiceId);
      if (Number(events?.n ?? 0) !== 1) say(`invoice.created recorded ${events?.n ?? 0} times`);

      const invoice = await h.stripeEmulator.admin.invoice(invoiceId);
      const mentions = alerts.filter((m) => `${m.text ?? ''} ${JSON.stringify(m.blocks ?? [])}`.includes(invoiceId));
      if (member.diverging) {
        const reviewed = row.outcome === 'released' && row.reviewer !== null;
        if ((FINALIZED.has(invoice.status as string) || invoice.auto_advance === true) && !reviewed)
          say(`Stripe has it ${invoice.status} with auto_advance ${invoice.auto_advance} and no reviewer`);
        if (row.outcome !== 'held' && !reviewed) say(`audit outcome ${row.outcome}`);
        if (mentions.length !== 1) say(`${mentions.length} alerts in Slack`);
        if (!row.slack_ts) say('no Slack message in the audit');
      } else {
        if (row.outcome !== 'passed') say(`audit outcome ${row.outcome}`);
        if (invoice.auto_advance !== true) say(`auto_advance ${invoice.auto_advance}`);
        if (mentions.length !== 0) say(`${mentions.length} alerts in Slack`);
      }
    }
    assert.deepEqual(problems, [], `gate invariants broken:\n${problems.join('\n')}`);
  } finally {
    await db.end();
  }
}

/**
 * Polls the audit until every invoice has an outcome (the gate's decision is recorded), or throws.
 * `skipEachPollMs` moves the Temporal engine's clock that far between polls.
 */
export async function waitForOutcomes(
  h: GateHarness,
  invoices: readonly GatedInvoice[],
  timeoutMs: number,
  options: { skipEachPollMs?: number } = {},
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const wanted = new Set(invoices.map((i) => i.invoiceId));
  let decided = 0;
  let lastError: unknown;
  while (Date.now() < deadline) {
    const db = new PgClient({ connectionString: h.databaseUrl });
    try {
      await db.connect();
      const { rows } = await db.query<{ invoice_id: string }>(
        `select invoice_id from invoice_gate.gate_runs
         where outcome = 'passed' or (outcome = 'held' and slack_ts is not null)`,
      );
      decided = new Set(rows.map((r) => r.invoice_id).filter((id) => wanted.has(id))).size;
      if (decided === wanted.size) return;
    } catch (error) {
      lastError = error; // the database may be down on purpose
    } finally {
      await db.end().catch(() => undefined);
    }
    // Emulated time moves on meanwhile: retry backoffs (up to a minute each) pass in a skip.
    if (options.skipEachPollMs) await h.temporal.skipTime(options.skipEachPollMs);
    else await new Promise((resolve) => setTimeout(resolve, 250));
  }
  const undecided = [...wanted];
  const states = await Promise.all(
    undecided.slice(0, 60).map(async (id) => {
      try {
        const s = await h.gateState(id);
        if (s.status === 'passed' || s.status === 'held') return `${id}: ${s.status}/${s.phase ?? ''}`;
        // What an undecided gate waits on: its pending activity, the attempt and the last failure.
        const described = await h.gate.client.workflow.getHandle(gateWorkflowId(id)).describe();
        const pending = (described.raw.pendingActivities ?? []).map(
          (a) =>
            `${a.activityType?.name} attempt ${a.attempt} state ${a.state} next ${String(a.nextAttemptScheduleTime?.seconds ?? '')} ` +
            `last failure: ${a.lastFailure?.message ?? ''}`,
        );
        return `${id}: ${s.status}/${s.phase ?? ''} ${s.reason ?? ''} ${pending.join('; ')}`;
      } catch (error) {
        return `${id}: ${String(error)}`;
      }
    }),
  );
  throw new Error(
    `${decided} of ${wanted.size} gates decided in ${timeoutMs} ms ${lastError ? String(lastError) : ''}\n${states.join('\n')}`,
  );
}
