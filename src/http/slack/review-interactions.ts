// The review buttons and the release modal. Every decision goes to the gate as the `decide` Update, which
// the gate validates (allowed reviewer, a gate waiting for that action, a reason on every release, no
// second approval by the first approver): the clicker hears the gate's answer, ephemerally or under the
// modal's input. Release opens the reason modal first; its submission is the decision. Refusals the gate's
// validator gives are written to the decision log here (they never reach the gate's history).
import type {
  AllMiddlewareArgs,
  App,
  BlockButtonAction,
  SlackActionMiddlewareArgs,
  SlackViewMiddlewareArgs,
  ViewSubmitAction,
} from '@slack/bolt';
import type { WebClient } from '@slack/web-api';
import { GateGoneError, type DecisionRefusal, type GateReviewPort } from '../../client/gate-client';
import { moneyAtStake } from '../../gate/second-approval';
import { acceptsDecision } from '../../gate/status';
import type { Decision, GateState, ReviewAction } from '../../gate/types';
import { APPROVE_ACTION_ID, RECOUNT_ACTION_ID, RELEASE_ACTION_ID } from '../../slack/alert-message';
import { escapeMrkdwn, formatMoneyMinor } from '../../slack/format';
import {
  RELEASE_REASON_CALLBACK_ID,
  buildReleaseReasonModal,
  readReleaseModalSubmission,
  releaseModalErrors,
} from '../../slack/release-reason-modal';
import type { GateLogger } from './bolt-logger';
import { notHeldExplanation } from './not-held-explanation';

export { notHeldExplanation };
export type { ReviewAction };

export type ReviewOutcome =
  /** The gate took the decision. */
  | 'decided'
  /** Release: the reason modal was opened (the submission is the decision). */
  | 'modal_opened'
  /** The gate refused it (see the refusal). */
  | 'refused'
  /** The user is not a reviewer (the modal is not opened). */
  | 'not_allowed'
  /** The gate exists but waits for no such decision (already released, finalized in Stripe, recounting ...). */
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

/** A refusal by the gate's validator, for the decision log. */
export interface RefusedDecision {
  invoiceId: string;
  decision: Decision;
  refusal: DecisionRefusal;
  updateId: string;
  gateStatus: string | null;
  at: Date;
}

export interface ReviewInteractionDeps {
  /** Only to spare a non-reviewer the release modal; the gate itself decides who may decide. */
  reviewerIds: readonly string[];
  gate: GateReviewPort;
  recordReviewAttempt(attempt: ReviewAttempt): Promise<void> | void;
  recordRefusedDecision(refused: RefusedDecision): Promise<void> | void;
  /** `slack` (POST /slack/interactions) or `slack_socket` (Socket Mode), for the decision log. */
  channel: 'slack' | 'slack_socket';
  logger: GateLogger;
  now?: () => Date;
}

const BUTTONS: Array<[string, ReviewAction]> = [
  [RELEASE_ACTION_ID, 'release'],
  [RECOUNT_ACTION_ID, 'recount'],
  [APPROVE_ACTION_ID, 'approve'],
];

/** Slack waits 3 s for a modal submission's answer (the receiver answers for us at 2.5 s); the gate's validation normally takes milliseconds. */
const SUBMISSION_ANSWER_MS = 2_000;

function sentText(invoiceId: string, status: string): string {
  const inv = `\`${escapeMrkdwn(invoiceId)}\``;
  switch (status) {
    case 'awaiting_second_approval':
      return `Release of ${inv} recorded as the first approval: the amount is above the approval limit, so a second reviewer must click *Approve release*.`;
    case 'recounting':
      return `Recount requested for ${inv}: the gate counts the ledger again. The alert will update.`;
    default:
      return `Release accepted: the gate will finalize ${inv} in Stripe. The alert will update.`;
  }
}

const NOT_ALLOWED = (invoiceId: string) =>
  `You are not allowed to release or recount invoices (\`${escapeMrkdwn(invoiceId)}\` is unchanged). Ask one of the reviewers configured in SLACK_REVIEWER_IDS.`;
const UNREACHABLE = (invoiceId: string) =>
  `Could not reach the gate for \`${escapeMrkdwn(invoiceId)}\`; nothing was changed. Try again in a moment.`;
const GONE = (invoiceId: string) =>
  `There is no gate for invoice \`${escapeMrkdwn(invoiceId)}\` any more (finished or never started). Nothing to do.`;

/** How a refusal is audited: not allowed, a gate that waits for no such decision, or another rule. */
function refusalOutcome(code: string): ReviewOutcome {
  if (code === 'not_allowed') return 'not_allowed';
  return code === 'not_waiting' ? 'not_held' : 'refused';
}

type ButtonArgs = SlackActionMiddlewareArgs<BlockButtonAction> & AllMiddlewareArgs;
type SubmissionArgs = SlackViewMiddlewareArgs<ViewSubmitAction> & AllMiddlewareArgs;

/** What the modal says about the money at stake. */
function atStakeText(state: GateState): string {
  const atStake = state.comparison ? moneyAtStake(state.comparison.lines) : null;
  if (atStake === null)
    return 'Money at stake: unknown (a line could not be priced, or the ledger could not be counted).';
  return state.currency
    ? `Money at stake: ${formatMoneyMinor(atStake, state.currency)}`
    : `Money at stake: ${atStake} (minor units)`;
}

export function registerReviewInteractions(app: App, deps: ReviewInteractionDeps): void {
  const reviewers = new Set(deps.reviewerIds);
  const now = deps.now ?? (() => new Date());
  const log = deps.logger;

  const record = async (attempt: Omit<ReviewAttempt, 'at'>) => {
    try {
      await deps.recordReviewAttempt({ ...attempt, at: now() });
    } catch (err) {
      log.error({ ...attempt, err }, 'could not record the review attempt');
    }
  };

  async function logRefusal(
    invoiceId: string,
    decision: Decision,
    gateStatus: string | null,
    refusal: DecisionRefusal,
    updateId?: string,
  ) {
    try {
      await deps.recordRefusedDecision({
        invoiceId,
        decision,
        refusal,
        updateId: updateId ?? `click-${invoiceId}-${decision.action}-${decision.reviewer}-${now().getTime()}`,
        gateStatus,
        at: now(),
      });
    } catch (err) {
      log.error({ invoiceId, err }, 'could not write a refused decision to the decision log');
    }
  }

  /** Asks the gate; a refusal by its validator goes to the decision log (the gate logs the ones it gives itself). */
  async function decide(invoiceId: string, decision: Decision, gateStatus: string | null) {
    const outcome = await deps.gate.decide(invoiceId, { ...decision, channel: deps.channel });
    if (!outcome.accepted && outcome.refusal.stage === 'validator') {
      await logRefusal(invoiceId, decision, gateStatus, outcome.refusal, outcome.updateId);
    }
    return outcome;
  }

  for (const [actionId, action] of BUTTONS) {
    app.action<BlockButtonAction>({ type: 'block_actions', action_id: actionId }, async (args) => {
      await args.ack();
      await handleClick(args as ButtonArgs, action);
    });
  }

  app.view<ViewSubmitAction>({ type: 'view_submission', callback_id: RELEASE_REASON_CALLBACK_ID }, async (args) => {
    await handleSubmission(args as SubmissionArgs);
  });

  async function tellUser(
    client: WebClient,
    where: { channel?: string; threadTs?: string },
    user: string,
    text: string,
  ) {
    if (!where.channel) {
      log.warn({ user }, 'slack interaction without a channel; cannot answer the user');
      return;
    }
    try {
      await client.chat.postEphemeral({
        channel: where.channel,
        user,
        text,
        ...(where.threadTs ? { thread_ts: where.threadTs } : {}),
      });
    } catch (err) {
      log.error({ user, err }, 'could not post the ephemeral answer to a review click');
    }
  }

  async function handleClick({ body, action: button, client }: ButtonArgs, action: ReviewAction): Promise<void> {
    const slackUserId = body.user.id;
    const invoiceId = button.value ?? '';
    const where = {
      channel: body.channel?.id ?? (body.container?.channel_id as string | undefined),
      threadTs: (body.container?.thread_ts as string | undefined) ?? undefined,
    };
    const ctx = { invoiceId, slackUserId, action, channel: where.channel };
    const tell = (text: string) => tellUser(client, where, slackUserId, text);

    if (!invoiceId) {
      log.warn(ctx, 'review click without an invoice id');
      await Promise.all([
        record({ invoiceId, slackUserId, action, allowed: reviewers.has(slackUserId), outcome: 'invalid' }),
        tell('This button carries no invoice id; nothing was changed.'),
      ]);
      return;
    }

    let state: GateState | null;
    try {
      state = await deps.gate.state(invoiceId);
    } catch (err) {
      log.error({ ...ctx, err }, 'could not read the gate state for a review click');
      await Promise.all([
        record({ invoiceId, slackUserId, action, allowed: true, outcome: 'gate_unreachable' }),
        tell(UNREACHABLE(invoiceId)),
      ]);
      return;
    }
    if (state === null) {
      await Promise.all([
        record({ invoiceId, slackUserId, action, allowed: true, outcome: 'no_gate' }),
        tell(GONE(invoiceId)),
      ]);
      return;
    }

    if (action === 'release') {
      // The reason comes first; the gate hears of it when the modal is submitted.
      if (!reviewers.has(slackUserId)) {
        log.warn(ctx, 'release click by a user who is not a reviewer');
        await Promise.all([
          record({ invoiceId, slackUserId, action, allowed: false, outcome: 'not_allowed' }),
          tell(NOT_ALLOWED(invoiceId)),
        ]);
        return;
      }
      if (!acceptsDecision(state.status, 'release')) {
        await Promise.all([
          record({ invoiceId, slackUserId, action, allowed: true, outcome: 'not_held', gateStatus: state.status }),
          tell(notHeldExplanation(invoiceId, state)),
        ]);
        return;
      }
      try {
        await client.views.open({
          trigger_id: body.trigger_id,
          view: buildReleaseReasonModal({
            invoiceId,
            customerLabel: state.customerId ?? 'unknown customer',
            atStake: atStakeText(state),
            needsSecondApproval: false,
          }),
        });
        await record({ invoiceId, slackUserId, action, allowed: true, outcome: 'modal_opened' });
      } catch (err) {
        log.error({ ...ctx, err }, 'could not open the release modal');
        await tell(
          `Could not open the release form for \`${escapeMrkdwn(invoiceId)}\`; nothing was changed. Try again.`,
        );
      }
      return;
    }

    if (!acceptsDecision(state.status, action)) {
      // The gate waits for no such decision: say where it is, and log the attempt, without asking it (the
      // gate's validator would refuse it the same way).
      await Promise.all([
        record({
          invoiceId,
          slackUserId,
          action,
          allowed: reviewers.has(slackUserId),
          outcome: 'not_held',
          gateStatus: state.status,
        }),
        logRefusal(invoiceId, { action, reviewer: slackUserId }, state.status, {
          code: 'not_waiting',
          message: `the gate is ${state.status.replaceAll('_', ' ')} and waits for no ${action}`,
          stage: 'validator',
        }),
        tell(notHeldExplanation(invoiceId, state)),
      ]);
      return;
    }

    try {
      const outcome = await decide(invoiceId, { action, reviewer: slackUserId }, state.status);
      if (!outcome.accepted) {
        await Promise.all([
          record({
            invoiceId,
            slackUserId,
            action,
            allowed: outcome.refusal.code !== 'not_allowed',
            outcome: refusalOutcome(outcome.refusal.code),
            gateStatus: state.status,
          }),
          tell(
            outcome.refusal.code === 'not_waiting' && !acceptsDecision(state.status, action)
              ? notHeldExplanation(invoiceId, state)
              : `Not done: ${escapeMrkdwn(outcome.refusal.message)} (\`${escapeMrkdwn(invoiceId)}\` is unchanged).`,
          ),
        ]);
        return;
      }
      log.info(ctx, 'review decision accepted by the gate');
      const answer = await outcome.answer;
      await Promise.all([
        record({ invoiceId, slackUserId, action, allowed: true, outcome: 'status' in answer ? 'decided' : 'refused' }),
        tell('status' in answer ? sentText(invoiceId, answer.status) : `Not done: ${escapeMrkdwn(answer.message)}`),
      ]);
    } catch (err) {
      if (err instanceof GateGoneError) {
        await Promise.all([
          record({ invoiceId, slackUserId, action, allowed: true, outcome: 'no_gate' }),
          tell(`The gate for invoice \`${escapeMrkdwn(invoiceId)}\` ended just now. Nothing to do.`),
        ]);
        return;
      }
      log.error({ ...ctx, err }, 'could not send the decision to the gate');
      await Promise.all([
        record({ invoiceId, slackUserId, action, allowed: true, outcome: 'gate_unreachable' }),
        tell(UNREACHABLE(invoiceId)),
      ]);
    }
  }

  async function handleSubmission({ ack, body, view }: SubmissionArgs): Promise<void> {
    const slackUserId = body.user.id;
    const submitted = readReleaseModalSubmission(view);
    const invoiceId = submitted.invoiceId;
    const decision: Decision = {
      action: 'release',
      reviewer: slackUserId,
      ...(submitted.reason ? { reason: submitted.reason } : {}),
      ...(submitted.note ? { note: submitted.note } : {}),
    };
    const ctx = { invoiceId, slackUserId, action: 'release' };
    const refuse = (code: string, message: string) =>
      ack({ response_action: 'errors', errors: releaseModalErrors({ code, message }) });

    const asked = decide(invoiceId, decision, null).then(
      (outcome) => ({ outcome }) as const,
      (error: unknown) => ({ error }) as const,
    );
    const timedOut = new Promise<'late'>((resolve) => setTimeout(() => resolve('late'), SUBMISSION_ANSWER_MS).unref());
    const first = await Promise.race([asked, timedOut]);
    if (first === 'late') {
      log.warn(ctx, 'the gate did not answer the release within Slack\u2019s 3 s; the modal asks to try again');
      await refuse('timeout', 'The gate did not answer in time. Submit again in a moment (it counts once).');
      return;
    }
    if ('error' in first) {
      const gone = first.error instanceof GateGoneError;
      if (!gone) log.error({ ...ctx, err: first.error }, 'could not send the release to the gate');
      await record({
        invoiceId,
        slackUserId,
        action: 'release',
        allowed: true,
        outcome: gone ? 'no_gate' : 'gate_unreachable',
      });
      await refuse(
        'unreachable',
        gone
          ? 'There is no gate for this invoice any more.'
          : 'Could not reach the gate; nothing was changed. Try again.',
      );
      return;
    }
    const { outcome } = first;
    if (!outcome.accepted) {
      await record({
        invoiceId,
        slackUserId,
        action: 'release',
        allowed: outcome.refusal.code !== 'not_allowed',
        outcome: refusalOutcome(outcome.refusal.code),
      });
      await refuse(outcome.refusal.code, outcome.refusal.message);
      return;
    }
    await ack();
    log.info(ctx, 'release accepted by the gate');
    await record({ invoiceId, slackUserId, action: 'release', allowed: true, outcome: 'decided' });
  }
}
