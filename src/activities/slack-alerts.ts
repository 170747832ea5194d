// Activities that post and update the reviewers' Slack alert. Slack failures are thrown so Temporal
// retries them; the invoice is already paused, so a late message never costs money.
import type { WebClient } from '@slack/web-api';
import { log } from '@temporalio/activity';
import type { AuditStore } from '../audit/audit-store';
import type { MeterErrorStore } from '../audit/meter-error-store';
import { linesSpan, meterErrorMentions } from '../gate/meter-errors';
import type { GateRunKey, GateState, InvoiceSnapshot, SlackMessageRef } from '../gate/types';
import {
  alertStatusFromState,
  buildFinalizedDivergenceAlert,
  buildHeldAlert,
  buildReminder,
  buildStatusMessage,
  type AlertInput,
  type AlertLinks,
  type SlackMessageContent,
} from '../slack/alert-message';
import { buildHistoryHeadsUp } from '../slack/history-heads-up';

export interface SlackAlertDeps {
  slack: WebClient;
  channelId: string;
  links: AlertLinks;
  audit: AuditStore;
  /** Signs the run page link put in every message; without it the messages carry none. */
  runPage?: { urlFor(invoiceId: string): string };
  /** Stripe's meter error reports: the alerts name those about the invoice's lines. Without it, none. */
  meterErrors?: Pick<MeterErrorStore, 'reportsFor'>;
}

/** Sentences about Stripe's meter error reports that concern the invoice's lines (read at each post or update). */
async function meterErrorsOf(
  invoice: InvoiceSnapshot,
  store: SlackAlertDeps['meterErrors'],
): Promise<{ meterErrors?: string[] }> {
  const span = linesSpan(invoice.meteredLines);
  if (!store || !span) return {};
  const meters = [...new Set(invoice.meteredLines.map((l) => l.meterId))];
  const mentions = meterErrorMentions(invoice.meteredLines, await store.reportsFor(meters, span.start, span.end));
  return mentions.length > 0 ? { meterErrors: mentions } : {};
}

function alertInput(
  run: GateRunKey,
  invoice: InvoiceSnapshot,
  state: GateState,
  links: AlertLinks,
  runPage?: SlackAlertDeps['runPage'],
): AlertInput {
  return {
    invoice,
    comparison: state.comparison,
    unverifiedReason: state.comparison ? null : state.reason,
    stillChecking: state.heldBecause === 'deadline',
    previousComparison: state.previousComparison ?? null,
    explanation: state.explanation ?? null,
    history: state.history ?? null,
    workflowId: run.workflowId,
    links,
    runPageUrl: runPage?.urlFor(run.invoiceId),
  };
}

function messageFor(input: AlertInput, state: GateState): SlackMessageContent {
  const status = alertStatusFromState(state, new Date());
  return !status || status.kind === 'held' ? buildHeldAlert(input) : buildStatusMessage(input, status);
}

export function createSlackAlertActivities({ slack, channelId, links, audit, runPage, meterErrors }: SlackAlertDeps) {
  return {
    async notifyReviewers(run: GateRunKey, invoice: InvoiceSnapshot, state: GateState): Promise<SlackMessageRef> {
      // A retry after Slack accepted the message but before the activity completed must not post twice.
      const recorded = await audit.getRun(run.invoiceId);
      if (recorded?.workflowId === run.workflowId && recorded.runId === run.runId && recorded.slack)
        return recorded.slack;

      const input = {
        ...alertInput(run, invoice, state, links, runPage),
        ...(await meterErrorsOf(invoice, meterErrors)),
      };
      const message = messageFor(input, state);
      const posted = await slack.chat.postMessage({ channel: channelId, text: message.text, blocks: message.blocks });
      if (!posted.ts || !posted.channel) throw new Error('Slack accepted the alert but returned no channel/ts');
      const ref = { channel: posted.channel, ts: posted.ts };
      // Slack has the alert now: failing here would post it again on the retry. The workflow records
      // the ref with the held outcome right after (retried until the database is back), so a failed
      // early write is reported and left to that one.
      await audit.recordSlackMessage(run, ref).catch((error: unknown) => {
        log.warn('alert posted; recording its ref failed, it is recorded with the outcome', {
          invoiceId: run.invoiceId,
          error: String(error),
        });
      });
      return ref;
    },

    async updateAlert(run: GateRunKey, invoice: InvoiceSnapshot, state: GateState): Promise<void> {
      if (!state.slackMessage) return;
      const input = {
        ...alertInput(run, invoice, state, links, runPage),
        ...(await meterErrorsOf(invoice, meterErrors)),
      };
      const message = messageFor(input, state);
      await slack.chat.update({ ...state.slackMessage, text: message.text, blocks: message.blocks });
    },

    /** What Stripe finalized diverges from the ledger: a button-less alert with the money difference. */
    async alertFinalizedDivergence(
      run: GateRunKey,
      invoice: InvoiceSnapshot,
      state: GateState,
    ): Promise<SlackMessageRef> {
      if (!state.finalizedComparison) throw new Error(`gate ${run.workflowId}: no finalized comparison to report`);
      const message = buildFinalizedDivergenceAlert({
        ...alertInput(run, invoice, state, links, runPage),
        ...(await meterErrorsOf(invoice, meterErrors)),
        comparison: state.finalizedComparison,
      });
      const posted = await slack.chat.postMessage({ channel: channelId, text: message.text, blocks: message.blocks });
      if (!posted.ts || !posted.channel) throw new Error('Slack accepted the alert but returned no channel/ts');
      return { channel: posted.channel, ts: posted.ts };
    },

    /** Stripe and the ledger agree, but a line is far from the customer's history: a button-less heads-up. */
    async notifyHistoryJump(run: GateRunKey, invoice: InvoiceSnapshot, state: GateState): Promise<SlackMessageRef> {
      const message = buildHistoryHeadsUp(alertInput(run, invoice, state, links));
      const posted = await slack.chat.postMessage({ channel: channelId, text: message.text, blocks: message.blocks });
      if (!posted.ts || !posted.channel) throw new Error('Slack accepted the heads-up but returned no channel/ts');
      return { channel: posted.channel, ts: posted.ts };
    },

    /** `workflowNow` is the workflow's clock, the one `heldSince` was read from. */
    async remindReviewers(
      run: GateRunKey,
      invoice: InvoiceSnapshot,
      state: GateState,
      reminder: number,
      workflowNow: number,
    ): Promise<void> {
      if (!state.slackMessage || state.heldSince === null) return;
      const message = buildReminder(
        alertInput(run, invoice, state, links, runPage),
        new Date(state.heldSince),
        new Date(workflowNow),
      );
      await slack.chat.postMessage({
        channel: state.slackMessage.channel,
        thread_ts: state.slackMessage.ts,
        text: message.text,
        blocks: message.blocks,
        metadata: { event_type: 'invoice_gate_reminder', event_payload: { invoice_id: run.invoiceId, reminder } },
      });
    },
  };
}

export type SlackAlertActivities = ReturnType<typeof createSlackAlertActivities>;
