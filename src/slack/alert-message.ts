// Block Kit for the gate's Slack alert: the held alert with Release / Recount buttons, its in-place
// status updates (chat.update) and the threaded reminder. Pure functions: no I/O.
import type { KnownBlock, Button, ContextBlock, SectionBlock } from '@slack/web-api';
import { acceptsDecision, GATE_STATUSES } from '../gate/status';
import type { DivergenceExplanation } from '../gate/divergence-buckets';
import type { HistoryCheck } from '../gate/history-jump';
import type { Comparison, GateState, GateStatus, InvoiceSnapshot, LineComparison, ReviewAction } from '../gate/types';
import { describeReleaseReason } from '../gate/decision-rules';
import {
  escapeMrkdwn,
  formatDuration,
  formatMoneyMinor,
  formatPct,
  formatQuantity,
  formatSignedQuantity,
  slackDate,
  truncate,
  utcDate,
  utcDateTime,
} from './format';
import { explanationBlocks, historyBlocks } from './divergence-explanation';
import { meterErrorBlocks } from './meter-errors';

export const RELEASE_ACTION_ID = 'gate_release';
export const RECOUNT_ACTION_ID = 'gate_recount';
/** The second approval of a release above GATE_SECOND_APPROVAL_ABOVE. */
export const APPROVE_ACTION_ID = 'gate_approve';
export const REVIEW_BLOCK_ID = 'gate_review';

/** Lines listed in one alert; the rest are counted ("and 3 more"). Keeps blocks within Slack's limits. */
const MAX_LINES_SHOWN = 10;

export interface AlertLinks {
  /** The Temporal Web UI, e.g. "http://localhost:8233"; undefined (the embedded engine has none): no link. */
  temporalUiUrl?: string;
  temporalNamespace: string;
  /** Default "https://dashboard.stripe.com". */
  stripeDashboardUrl?: string;
}

export type AlertInvoice = Pick<
  InvoiceSnapshot,
  'invoiceId' | 'customerId' | 'customerName' | 'customerEmail' | 'currency' | 'livemode' | 'periodStart' | 'periodEnd'
>;

export interface AlertInput {
  invoice: AlertInvoice;
  /** The comparison that held the invoice; null when the ledger could not be counted at all. */
  comparison: Comparison | null;
  /** Why there is no comparison (the gate holds what it cannot verify). */
  unverifiedReason?: string | null;
  /** The check is still running (a deadline hold): the message updates when it completes. */
  stillChecking?: boolean;
  /** The comparison before late usage changed the draft: the alert shows what changed since. */
  previousComparison?: Comparison | null;
  /** Where in time the diverging lines differ (or why that is unavailable). */
  explanation?: DivergenceExplanation | null;
  /** Lines far from the customer's previous invoices. */
  history?: HistoryCheck | null;
  /** Stripe's meter error reports about the invoice's lines (src/gate/meter-errors.ts), one sentence each. */
  meterErrors?: string[];
  workflowId: string;
  links: AlertLinks;
  /** A signed link to the invoice's run page on the gate (src/run-page/run-page-links.ts). */
  runPageUrl?: string;
}

/** Where the gate stands, for the in-place update of the alert. */
export type AlertStatus =
  | { kind: 'held' }
  | { kind: 'recounting'; requestedBy?: string }
  | { kind: 'released'; reviewer: string; at: Date; reason?: string; approvedBy?: string }
  | { kind: 'awaiting_second_approval'; approvedBy: string; reason?: string }
  | { kind: 'bypassed'; reason?: string }
  | { kind: 'auto_released'; at: Date; comparison?: Comparison }
  | { kind: 'finalized_in_stripe'; at?: Date; reason?: string }
  | { kind: 'voided_in_stripe'; at?: Date }
  | { kind: 'deleted_in_stripe'; at?: Date }
  | { kind: 'still_diverging'; comparison: Comparison; recounts: number }
  | { kind: 'too_late'; reason?: string }
  | { kind: 'resumed'; at: Date; reason?: string; observed?: boolean }
  | { kind: 'would_hold' };

export interface SlackMessageContent {
  /** Fallback text for notifications and screen readers (mrkdwn: data in it is escaped). */
  text: string;
  blocks: KnownBlock[];
}

export function stripeInvoiceUrl(
  invoice: Pick<AlertInvoice, 'invoiceId' | 'livemode'>,
  base = 'https://dashboard.stripe.com',
): string {
  return `${base.replace(/\/+$/, '')}/${invoice.livemode ? '' : 'test/'}invoices/${encodeURIComponent(invoice.invoiceId)}`;
}

export function temporalRunUrl(links: AlertLinks & { temporalUiUrl: string }, workflowId: string): string {
  return `${links.temporalUiUrl.replace(/\/+$/, '')}/namespaces/${encodeURIComponent(links.temporalNamespace)}/workflows/${encodeURIComponent(workflowId)}`;
}

/**
 * The alert status for a gate state, as the workflow leaves it (`at` = when the activity runs).
 * null for states that have no alert (reading, counting, passed, skipped).
 */
export function alertStatusFromState(state: GateState, at: Date): AlertStatus | null {
  switch (state.status) {
    case 'held':
      return state.recounts > 0 && state.comparison
        ? { kind: 'still_diverging', comparison: state.comparison, recounts: state.recounts }
        : { kind: 'held' };
    case 'recounting':
      return { kind: 'recounting', requestedBy: state.decision?.reviewer ?? state.reviewer ?? undefined };
    case 'released': {
      const [first, second] = state.approvals ?? [];
      return {
        kind: 'released',
        reviewer: first?.reviewer ?? state.decision?.reviewer ?? state.reviewer ?? 'unknown',
        at,
        ...(first?.reason ? { reason: describeReleaseReason(first.reason, first.note) } : {}),
        ...(second ? { approvedBy: second.reviewer } : {}),
      };
    }
    case 'awaiting_second_approval': {
      const first = state.approvals?.[0];
      return {
        kind: 'awaiting_second_approval',
        approvedBy: first?.reviewer ?? state.reviewer ?? 'unknown',
        ...(first?.reason ? { reason: describeReleaseReason(first.reason, first.note) } : {}),
      };
    }
    case 'bypassed':
      return { kind: 'bypassed', reason: state.reason ?? undefined };
    case 'auto_released':
      return { kind: 'auto_released', at, comparison: state.comparison ?? undefined };
    case 'resolved_in_stripe':
      if (state.invoiceStatus === 'void') return { kind: 'voided_in_stripe', at };
      if (state.invoiceStatus === 'deleted') return { kind: 'deleted_in_stripe', at };
      return { kind: 'finalized_in_stripe', at, reason: state.reason ?? undefined };
    case 'too_late':
      return { kind: 'too_late', reason: state.reason ?? undefined };
    case 'passed':
      // Only a gate that held the invoice first (a deadline hold) has an alert to bring up to date.
      return state.slackMessage
        ? {
            kind: 'resumed',
            at,
            reason: state.reason ?? undefined,
            ...(state.mode === 'observe' && { observed: true }),
          }
        : null;
    case 'would_hold':
      return { kind: 'would_hold' };
    default:
      return null;
  }
}

function capitalize(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

const since = (at: Date | undefined) => (at ? ` (${slackDate(at)})` : '');

/**
 * Each alert status read three ways: the header, the status line in the message and the plain-text
 * summary. Emoji and whether buttons show come from the gate's status table (GATE_STATUSES).
 */
const ALERT_VIEWS: { [K in AlertStatus['kind']]: AlertView<Extract<AlertStatus, { kind: K }>> } = {
  held: {
    gateStatus: 'held',
    header: 'Invoice held',
    line: () => '*Held.* Stripe will not finalize this invoice until a reviewer decides.',
    summary: () => 'held for review',
  },
  recounting: {
    gateStatus: 'recounting',
    header: 'Invoice held',
    line: (s) => `*Recounting…*${s.requestedBy ? ` (requested by <@${s.requestedBy}>)` : ''}`,
    summary: () => 'recounting',
  },
  released: {
    gateStatus: 'released',
    header: 'Invoice released',
    line: (s) =>
      `*Released by <@${s.reviewer}>*${s.approvedBy ? `, approved by <@${s.approvedBy}>,` : ''} at ${slackDate(s.at)}; finalizing in Stripe.` +
      (s.reason ? `\n*Reason:* ${escapeMrkdwn(s.reason)}` : ''),
    summary: (s) =>
      `released by <@${s.reviewer}>${s.approvedBy ? ` and <@${s.approvedBy}>` : ''} at ${utcDateTime(s.at)}`,
  },
  awaiting_second_approval: {
    gateStatus: 'awaiting_second_approval',
    header: 'Invoice held: second approval needed',
    line: (s) =>
      `*Released by <@${s.approvedBy}>; a second reviewer must approve.* The amount at stake is above the approval limit, so Stripe will not finalize it until another reviewer clicks *Approve release*.` +
      (s.reason ? `\n*Reason:* ${escapeMrkdwn(s.reason)}` : ''),
    summary: (s) => `awaiting a second approval (released by <@${s.approvedBy}>)`,
  },
  bypassed: {
    gateStatus: 'bypassed',
    header: 'Finalized outside the gate',
    line: (s) =>
      `*Finalized outside the gate.* Someone other than the gate finalized this held invoice or turned its auto-advance back on${s.reason ? ` (${escapeMrkdwn(s.reason)})` : ''}. The gate keeps following it.`,
    summary: () => 'finalized outside the gate',
  },
  auto_released: {
    gateStatus: 'auto_released',
    header: 'Invoice released',
    line: (s) => `*Auto-released after recount* at ${slackDate(s.at)}: the ledger now matches.`,
    summary: (s) => `auto-released after recount at ${utcDateTime(s.at)}`,
  },
  finalized_in_stripe: {
    gateStatus: 'resolved_in_stripe',
    header: 'Invoice finalized in Stripe',
    line: (s) =>
      `*Finalized in Stripe meanwhile*${since(s.at)}; no decision needed any more.${s.reason ? ` ${escapeMrkdwn(capitalize(s.reason))}.` : ''}`,
    summary: () => 'finalized in Stripe meanwhile',
  },
  voided_in_stripe: {
    gateStatus: 'resolved_in_stripe',
    emoji: ':wastebasket:',
    header: 'Invoice voided in Stripe',
    line: (s) => `*Voided in Stripe*${since(s.at)}; no decision needed any more.`,
    summary: () => 'voided in Stripe',
  },
  deleted_in_stripe: {
    gateStatus: 'resolved_in_stripe',
    emoji: ':wastebasket:',
    header: 'Invoice deleted in Stripe',
    line: (s) => `*Deleted in Stripe*${since(s.at)}; no decision needed any more.`,
    summary: () => 'deleted in Stripe',
  },
  still_diverging: {
    gateStatus: 'held',
    emoji: ':warning:',
    header: 'Invoice held',
    line: (s) =>
      `*Still diverging after recount${s.recounts > 1 ? ` #${s.recounts}` : ''}.* Held until a reviewer decides.`,
    summary: () => 'still diverging after recount',
  },
  resumed: {
    gateStatus: 'passed',
    header: 'Invoice passed',
    line: (s) =>
      s.observed
        ? `*Within tolerance now* (${slackDate(s.at)}). Observe mode: nothing was paused; Stripe finalizes it as scheduled.`
        : `*Check completed: within tolerance* at ${slackDate(s.at)}. Auto-advance is on again; Stripe finalizes it as scheduled.`,
    summary: (s) =>
      s.observed ? 'within tolerance now (observe mode)' : 'passed after the deadline hold; auto-advance is on again',
  },
  would_hold: {
    gateStatus: 'would_hold',
    header: 'Would have held',
    line: () =>
      '*Observe mode: the gate would have held this invoice.* Nothing was paused; Stripe finalizes it as scheduled. No action needed.',
    summary: () => 'would have held (observe mode; nothing paused)',
  },
  too_late: {
    gateStatus: 'too_late',
    header: 'Invoice not held',
    line: (s) =>
      `*Too late to hold:* the invoice was no longer a draft${s.reason ? ` (${escapeMrkdwn(s.reason)})` : ''}.`,
    summary: () => 'too late to hold',
  },
};

interface AlertView<S extends AlertStatus> {
  /** The gate status this alert status shows (its emoji and whether a decision is possible). */
  gateStatus: GateStatus;
  /** Overrides the gate status's emoji where the alert says more (voided, still diverging). */
  emoji?: string;
  header: string;
  line(status: S): string;
  summary(status: S): string;
}

function viewOf<S extends AlertStatus>(status: S): AlertView<S> {
  return ALERT_VIEWS[status.kind] as unknown as AlertView<S>;
}

/** Whether a reviewer can still act on the gate in this status (buttons shown). */
export function decisionPossible(status: AlertStatus): boolean {
  return acceptsDecision(viewOf(status).gateStatus);
}

function statusLine(status: AlertStatus): string {
  const view = viewOf(status);
  return `${view.emoji ?? GATE_STATUSES[view.gateStatus].emoji} ${view.line(status)}`;
}

export function customerLabel(inv: AlertInvoice): string {
  return inv.customerName ?? inv.customerEmail ?? inv.customerId;
}

/** Customer, invoice (currency and mode) and period: the section under every message's header. */
export function invoiceHeaderBlock(inv: AlertInvoice): SectionBlock {
  return {
    type: 'section',
    text: {
      type: 'mrkdwn',
      text: [
        `*Customer:* ${escapeMrkdwn(customerLabel(inv))} (\`${escapeMrkdwn(inv.customerId)}\`)`,
        `*Invoice:* \`${escapeMrkdwn(inv.invoiceId)}\` (${inv.currency.toUpperCase()}${inv.livemode ? '' : ', test mode'})`,
        periodText(inv),
      ].join('\n'),
    },
  };
}

function lineName(l: LineComparison): string {
  const name = l.description ? truncate(l.description, 80) : l.eventName;
  return l.description ? `${escapeMrkdwn(name)} (\`${escapeMrkdwn(l.eventName)}\`)` : `\`${escapeMrkdwn(name)}\``;
}

function impactOfLine(l: LineComparison, currency: string): string {
  if (l.estimatedImpactMinor !== null)
    return ` · impact ${formatMoneyMinor(l.estimatedImpactMinor, currency, { signed: true })}`;
  return l.impactUnavailableReason ? ` · impact unavailable: ${escapeMrkdwn(l.impactUnavailableReason)}` : '';
}

/** "max(0, 1 % of ledger)", plus "and impact within USD 10.00" when a money limit is set. */
function toleranceText(c: Comparison, currency: string): string {
  const quantity = `max(${formatQuantity(c.tolerance.abs)}, ${formatQuantity(c.tolerance.pct)} % of ledger)`;
  return c.tolerance.money === undefined
    ? quantity
    : `${quantity} and impact within ${formatMoneyMinor(c.tolerance.money, currency)}`;
}

function lineText(l: LineComparison, currency: string): string {
  const impact = impactOfLine(l, currency);
  return (
    `• *${lineName(l)}*: Stripe *${formatQuantity(l.stripeQuantity)}* · ledger *${formatQuantity(l.ledgerQuantity)}*` +
    ` · ${formatSignedQuantity(l.difference)} (${l.variancePct === null ? 'ledger is 0' : formatPct(l.variancePct)})${impact}`
  );
}

function divergingLinesBlock(c: Comparison, currency: string, title: string): SectionBlock {
  const diverging = c.lines.filter((l) => !l.passed);
  const shown = diverging.slice(0, MAX_LINES_SHOWN).map((l) => lineText(l, currency));
  const more = diverging.length - shown.length;
  const tol = `tolerance: ${toleranceText(c, currency)}`;
  let body = `*${title}* (${diverging.length} of ${c.lines.length} metered lines; ${tol})\n${shown.join('\n')}`;
  if (diverging.length === 0) body = `*All ${c.lines.length} metered lines are within tolerance* (${tol})`;
  if (more > 0) body += `\n…and ${more} more diverging line${more === 1 ? '' : 's'} (see the run in Temporal)`;
  return { type: 'section', text: { type: 'mrkdwn', text: truncate(body, 3000) } };
}

function impactText(c: Comparison, currency: string): string {
  const total = formatMoneyMinor(c.totalEstimatedImpactMinor, currency, { signed: true });
  const direction = c.totalEstimatedImpactMinor.startsWith('-')
    ? 'Stripe would bill less than the ledger counted'
    : 'Stripe would bill more than the ledger counted';
  const zero = /^[-+]?0*(\.0*)?$/.test(c.totalEstimatedImpactMinor);
  return `*Estimated impact:* ${total}${zero ? '' : ` (${direction})`} · largest variance ${formatPct(c.maxVariancePct)}`;
}

function reviewButtons(invoiceId: string, actions: readonly ReviewAction[]): KnownBlock {
  const approve: Button = {
    type: 'button',
    action_id: APPROVE_ACTION_ID,
    style: 'primary',
    text: { type: 'plain_text', text: 'Approve release', emoji: true },
    value: invoiceId,
  };
  const release: Button = {
    type: 'button',
    action_id: RELEASE_ACTION_ID,
    style: 'primary',
    text: { type: 'plain_text', text: 'Release', emoji: true },
    value: invoiceId,
  };
  const recount: Button = {
    type: 'button',
    action_id: RECOUNT_ACTION_ID,
    text: { type: 'plain_text', text: 'Recount', emoji: true },
    value: invoiceId,
  };
  const buttons: Record<ReviewAction, Button> = { release, approve, recount };
  return { type: 'actions', block_id: REVIEW_BLOCK_ID, elements: actions.map((action) => buttons[action]) };
}

/** The links under every message about one gate: the run page, Stripe, and Temporal's UI when there is one. */
export function linksBlock(input: AlertInput): ContextBlock {
  const stripe = stripeInvoiceUrl(input.invoice, input.links.stripeDashboardUrl);
  const { temporalUiUrl } = input.links;
  const links = [
    ...(input.runPageUrl ? [`<${input.runPageUrl}|Run page>`] : []),
    `<${stripe}|Invoice in Stripe>`,
    ...(temporalUiUrl
      ? [`<${temporalRunUrl({ ...input.links, temporalUiUrl }, input.workflowId)}|Gate run in Temporal>`]
      : []),
  ];
  return {
    type: 'context',
    elements: [
      {
        type: 'mrkdwn',
        text: `${links.join(' · ')} · workflow \`${escapeMrkdwn(input.workflowId)}\``,
      },
    ],
  };
}

function render(input: AlertInput, status: AlertStatus): SlackMessageContent {
  const inv = input.invoice;
  const comparison =
    status.kind === 'still_diverging' || (status.kind === 'auto_released' && status.comparison)
      ? (status as { comparison: Comparison }).comparison
      : input.comparison;
  const customer = customerLabel(inv);
  const currency = inv.currency;
  const blocks: KnownBlock[] = [
    {
      type: 'header',
      text: { type: 'plain_text', text: truncate(`${viewOf(status).header}: ${customer}`, 150), emoji: true },
    },
    invoiceHeaderBlock(inv),
    ...(comparison
      ? [
          divergingLinesBlock(
            comparison,
            currency,
            status.kind === 'still_diverging' ? 'Diverging lines after recount' : 'Diverging lines',
          ),
          { type: 'section', text: { type: 'mrkdwn', text: impactText(comparison, currency) } } satisfies SectionBlock,
        ]
      : [
          {
            type: 'section',
            text: { type: 'mrkdwn', text: unverifiedText(input, status.kind === 'would_hold') },
          } satisfies SectionBlock,
        ]),
    ...changesBlocks(input, comparison),
    ...explanationBlocks(input.explanation),
    ...historyBlocks(input.history),
    ...meterErrorBlocks(input.meterErrors),
    { type: 'section', text: { type: 'mrkdwn', text: statusLine(status) } },
    linksBlock(input),
  ];
  if (decisionPossible(status))
    blocks.push(reviewButtons(inv.invoiceId, GATE_STATUSES[viewOf(status).gateStatus].actions));
  return {
    text: `Invoice ${escapeMrkdwn(inv.invoiceId)} for ${escapeMrkdwn(customer)}: ${viewOf(status).summary(status)}. ${summaryText(input, comparison)}`,
    blocks,
  };
}

function changesBlocks(input: AlertInput, comparison: Comparison | null): SectionBlock[] {
  const text = input.previousComparison && comparison ? changesText(input.previousComparison, comparison) : null;
  return text ? [{ type: 'section', text: { type: 'mrkdwn', text } }] : [];
}

/** The period, or that Stripe has not told it yet (an alert posted before any read succeeded). */
function periodText(inv: AlertInvoice): string {
  if (!inv.periodStart) return '*Period:* not known yet (Stripe has not answered)';
  return `*Period:* ${utcDate(inv.periodStart)} – ${utcDate(inv.periodEnd)} (UTC)`;
}

function summaryText(input: AlertInput, comparison: Comparison | null): string {
  if (!comparison)
    return `The gate could not verify it against the ledger: ${escapeMrkdwn(input.unverifiedReason ?? 'unknown reason')}.`;
  const diverging = comparison.lines.filter((l) => !l.passed).length;
  return (
    `${diverging} metered line${diverging === 1 ? ' diverges' : 's diverge'} from the ledger (largest ${formatPct(comparison.maxVariancePct)}), ` +
    `estimated impact ${formatMoneyMinor(comparison.totalEstimatedImpactMinor, input.invoice.currency, { signed: true })}.`
  );
}

function unverifiedText(input: AlertInput, observed = false): string {
  if (observed) {
    const title = input.stillChecking
      ? 'Would have held: the check could not complete'
      : 'Would have held: could not verify against the ledger';
    const advice = input.stillChecking
      ? 'Enforce mode would have paused it before Stripe could finalize it; the gate keeps checking and this message updates.'
      : 'Enforce mode holds what it cannot check: fix the ledger mapping (INVOICE_GATE_CONFIG) before switching to enforce.';
    return `*${title}:* ${escapeMrkdwn(truncate(input.unverifiedReason ?? 'unknown reason', 1500))}\n${advice}`;
  }
  const advice = input.stillChecking
    ? 'The gate paused it before Stripe could finalize it and keeps checking: this message updates when the check completes. *Release* after checking by hand if you cannot wait.'
    : 'The gate holds what it cannot check. Fix the ledger mapping (INVOICE_GATE_CONFIG) and click *Recount*, or *Release* after checking by hand.';
  const title = input.stillChecking ? 'Held: the check could not complete' : 'Could not verify against the ledger';
  return `*${title}:* ${escapeMrkdwn(truncate(input.unverifiedReason ?? 'unknown reason', 1500))}\n${advice}`;
}

/** What late usage changed since the previous check, line by line. */
function changesText(previous: Comparison, current: Comparison): string | null {
  const changes = current.lines.flatMap((line) => {
    const before = previous.lines.find((l) => l.lineId === line.lineId);
    if (!before || (before.stripeQuantity === line.stripeQuantity && before.ledgerQuantity === line.ledgerQuantity))
      return [];
    return [
      `• *${lineName(line)}*: Stripe ${formatQuantity(before.stripeQuantity)} → *${formatQuantity(line.stripeQuantity)}* · ledger ${formatQuantity(before.ledgerQuantity)} → *${formatQuantity(line.ledgerQuantity)}*`,
    ];
  });
  return changes.length === 0
    ? null
    : truncate(`*Changed since the last check* (late usage reached the draft):\n${changes.join('\n')}`, 3000);
}

/** The alert posted when the gate holds an invoice, with Release and Recount buttons. */
export function buildHeldAlert(input: AlertInput): SlackMessageContent {
  return render(input, { kind: 'held' });
}

/** The alert as it should read now (for chat.update); buttons only while a decision is possible. */
export function buildStatusMessage(input: AlertInput, status: AlertStatus): SlackMessageContent {
  return render(input, status);
}

/** A threaded reminder while the invoice stays held. */
export function buildReminder(input: AlertInput, heldSince: Date, now: Date): SlackMessageContent {
  const inv = input.invoice;
  const held = formatDuration(now.getTime() - heldSince.getTime());
  const text =
    `Reminder: invoice ${escapeMrkdwn(inv.invoiceId)} for ${escapeMrkdwn(customerLabel(inv))} has been held for ${held}. ` +
    `Stripe will not finalize it until a reviewer clicks Release or Recount on the alert above.`;
  return {
    text,
    blocks: [
      {
        type: 'section',
        text: {
          type: 'mrkdwn',
          text:
            `:alarm_clock: Invoice \`${escapeMrkdwn(inv.invoiceId)}\` for *${escapeMrkdwn(customerLabel(inv))}* has been held for *${held}* (since ${slackDate(heldSince)}). ` +
            `Stripe will not finalize it until a reviewer clicks *Release* or *Recount* on the alert above.` +
            (input.runPageUrl ? ` <${input.runPageUrl}|Run page>` : ''),
        },
      },
    ],
  };
}

/**
 * What Stripe finalized diverges from the ledger: it can no longer be paused, so the alert says what
 * it costs and what would put it right (a credit note when Stripe billed more than the ledger counted).
 */
export function buildFinalizedDivergenceAlert(input: AlertInput & { comparison: Comparison }): SlackMessageContent {
  const inv = input.invoice;
  const customer = customerLabel(inv);
  const impact = input.comparison.totalEstimatedImpactMinor;
  const overbilled = !impact.startsWith('-') && !/^[-+]?0*(\.0*)?$/.test(impact);
  const amount = formatMoneyMinor(impact.replace(/^-/, ''), inv.currency);
  const remedy = overbilled
    ? `*Suggested credit note:* ${amount} (Stripe billed more than the ledger counted).`
    : `Stripe billed *${amount} less* than the ledger counted: consider a follow-up invoice item.`;
  return {
    text: `Finalized invoice ${escapeMrkdwn(inv.invoiceId)} for ${escapeMrkdwn(customer)} diverges from the ledger. ${summaryText(input, input.comparison)}`,
    blocks: [
      {
        type: 'header',
        text: { type: 'plain_text', text: truncate(`Finalized invoice diverges: ${customer}`, 150), emoji: true },
      },
      invoiceHeaderBlock(inv),
      divergingLinesBlock(input.comparison, inv.currency, 'Diverging lines as finalized'),
      { type: 'section', text: { type: 'mrkdwn', text: impactText(input.comparison, inv.currency) } },
      {
        type: 'section',
        text: {
          type: 'mrkdwn',
          text: `:rotating_light: ${remedy} The invoice is finalized and can no longer be paused; the gate does not try.`,
        },
      },
      ...meterErrorBlocks(input.meterErrors),
      linksBlock(input),
    ],
  };
}
