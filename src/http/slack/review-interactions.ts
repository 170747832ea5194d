// The Release / Recount buttons: ack first, then check who clicked, then ask the gate. Every click is
// reported to the audit callback, allowed or not. The user always hears back (ephemeral), never an error page.
import type { App, BlockButtonAction, SlackActionMiddlewareArgs, AllMiddlewareArgs } from '@slack/bolt';
import { acceptsDecision } from '../../gate/status';
import type { Decision, GateState } from '../../gate/types';
import { RECOUNT_ACTION_ID, RELEASE_ACTION_ID } from '../../slack/alert-message';
import { escapeMrkdwn } from '../../slack/format';
import { GateGoneError, type GateReviewPort } from '../../client/gate-client';
import type { GateLogger } from './bolt-logger';

export type ReviewAction = Decision['action'];

export type ReviewOutcome =
  /** decide() was called. */
  | 'decided'
  /** The user is not a reviewer. */
  | 'not_allowed'
  /** The gate exists but is not held (already released, finalized in Stripe, recounting ...). */
  | 'not_held'
  /** No gate for this invoice. */
  | 'no_gate'
  /** The gate could not be asked or told (Temporal unreachable ...). */
  | 'gate_unreachable'
  /** The click carried no invoice id. */
  | 'invalid';

export interface ReviewAttempt {
  invoiceId: string;
  slackUserId: string;
  action: ReviewAction;
  allowed: boolean;
  outcome: ReviewOutcome;
  /** Gate status seen when the click was refused (not_held). */
  gateStatus?: string;
  at: Date;
}

export interface ReviewInteractionDeps {
  reviewerIds: readonly string[];
  gate: GateReviewPort;
  recordReviewAttempt(attempt: ReviewAttempt): Promise<void> | void;
  logger: GateLogger;
  now?: () => Date;
}

const ACTIONS: Array<[string, ReviewAction]> = [
  [RELEASE_ACTION_ID, 'release'],
  [RECOUNT_ACTION_ID, 'recount'],
];

/** What to tell a reviewer who clicked on a gate that is not held. */
export function notHeldExplanation(invoiceId: string, state: GateState): string {
  const inv = `\`${escapeMrkdwn(invoiceId)}\``;
  const by = state.decision?.reviewer ?? state.reviewer;
  switch (state.status) {
    case 'released':
      return `Invoice ${inv} was already released${by ? ` by <@${by}>` : ''}. Nothing to do.`;
    case 'auto_released':
      return `Invoice ${inv} was already released automatically: the recount matched the ledger.`;
    case 'resolved_in_stripe':
      return `Invoice ${inv} was already settled in Stripe (${state.reason ? escapeMrkdwn(state.reason) : 'finalized, voided or deleted there'}). Nothing to do.`;
    case 'too_late':
      return `Invoice ${inv} was already finalized in Stripe before the gate could hold it. Nothing to do.`;
    case 'passed':
      return `Invoice ${inv} passed the ledger check and was not held. Nothing to do.`;
    case 'would_hold':
      return `Invoice ${inv} is gated in observe mode: the gate records that it would have held it, but never pauses or finalizes it. Nothing to do.`;
    case 'skipped':
      return `Invoice ${inv} is not gated${state.reason ? ` (${escapeMrkdwn(state.reason)})` : ''}. Nothing to do.`;
    case 'releasing':
      return `Invoice ${inv} is being finalized${by ? ` (released by <@${by}>)` : ''}. The alert will update when Stripe confirms.`;
    case 'recounting':
      return `A recount of invoice ${inv} is already running${by ? ` (requested by <@${by}>)` : ''}. The alert will update when it is done.`;
    case 'reading':
    case 'counting':
      return `The gate is still checking invoice ${inv}. Try again in a moment.`;
    case 'held':
      return `Invoice ${inv} is held.`;
  }
}

function confirmation(invoiceId: string, action: ReviewAction): string {
  return action === 'release'
    ? `Release sent: the gate will finalize \`${escapeMrkdwn(invoiceId)}\` in Stripe. The alert will update.`
    : `Recount requested for \`${escapeMrkdwn(invoiceId)}\`: the gate counts the ledger again. The alert will update.`;
}

const NOT_ALLOWED = (invoiceId: string) =>
  `You are not allowed to release or recount invoices (\`${escapeMrkdwn(invoiceId)}\` is unchanged). Ask one of the reviewers configured in SLACK_REVIEWER_IDS.`;
const UNREACHABLE = (invoiceId: string) =>
  `Could not reach the gate for \`${escapeMrkdwn(invoiceId)}\`; nothing was changed. Try again in a moment.`;

type ButtonArgs = SlackActionMiddlewareArgs<BlockButtonAction> & AllMiddlewareArgs;

export function registerReviewInteractions(app: App, deps: ReviewInteractionDeps): void {
  const reviewers = new Set(deps.reviewerIds);
  const now = deps.now ?? (() => new Date());
  const log = deps.logger;

  for (const [actionId, action] of ACTIONS) {
    app.action<BlockButtonAction>({ type: 'block_actions', action_id: actionId }, async (args) => {
      await args.ack();
      await handleClick(args as ButtonArgs, action);
    });
  }

  async function handleClick({ body, action: button, client }: ButtonArgs, action: ReviewAction): Promise<void> {
    const slackUserId = body.user.id;
    const invoiceId = button.value ?? '';
    const channel = body.channel?.id ?? (body.container?.channel_id as string | undefined);
    const threadTs = (body.container?.thread_ts as string | undefined) ?? undefined;
    const ctx = { invoiceId, slackUserId, action, channel };

    const tell = async (text: string) => {
      if (!channel) {
        log.warn(ctx, 'slack click without a channel; cannot answer the user');
        return;
      }
      try {
        await client.chat.postEphemeral({
          channel,
          user: slackUserId,
          text,
          ...(threadTs ? { thread_ts: threadTs } : {}),
        });
      } catch (err) {
        log.error({ ...ctx, err }, 'could not post the ephemeral answer to a review click');
      }
    };
    const record = async (allowed: boolean, outcome: ReviewOutcome, gateStatus?: string) => {
      try {
        await deps.recordReviewAttempt({
          invoiceId,
          slackUserId,
          action,
          allowed,
          outcome,
          ...(gateStatus ? { gateStatus } : {}),
          at: now(),
        });
      } catch (err) {
        log.error({ ...ctx, outcome, err }, 'could not record the review attempt');
      }
    };

    if (!reviewers.has(slackUserId)) {
      log.warn(ctx, 'review click by a user who is not a reviewer');
      await Promise.all([record(false, 'not_allowed'), tell(NOT_ALLOWED(invoiceId))]);
      return;
    }
    if (!invoiceId) {
      log.warn(ctx, 'review click without an invoice id');
      await Promise.all([record(true, 'invalid'), tell('This button carries no invoice id; nothing was changed.')]);
      return;
    }

    let state: GateState | null;
    try {
      state = await deps.gate.state(invoiceId);
    } catch (err) {
      log.error({ ...ctx, err }, 'could not read the gate state for a review click');
      await Promise.all([record(true, 'gate_unreachable'), tell(UNREACHABLE(invoiceId))]);
      return;
    }
    if (state === null) {
      await Promise.all([
        record(true, 'no_gate'),
        tell(
          `There is no gate for invoice \`${escapeMrkdwn(invoiceId)}\` any more (finished or never started). Nothing to do.`,
        ),
      ]);
      return;
    }
    // The status table says when Release and Recount apply (the same rule that shows the buttons).
    if (!acceptsDecision(state.status, action)) {
      await Promise.all([record(true, 'not_held', state.status), tell(notHeldExplanation(invoiceId, state))]);
      return;
    }

    try {
      await deps.gate.decide(invoiceId, { action, reviewer: slackUserId });
    } catch (err) {
      if (err instanceof GateGoneError) {
        await Promise.all([
          record(true, 'no_gate'),
          tell(`The gate for invoice \`${escapeMrkdwn(invoiceId)}\` ended just now. Nothing to do.`),
        ]);
        return;
      }
      log.error({ ...ctx, err }, 'could not send the decision to the gate');
      await Promise.all([record(true, 'gate_unreachable'), tell(UNREACHABLE(invoiceId))]);
      return;
    }
    log.info(ctx, 'review decision sent to the gate');
    await Promise.all([record(true, 'decided'), tell(confirmation(invoiceId, action))]);
  }
}
