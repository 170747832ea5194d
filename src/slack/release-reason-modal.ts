// The modal a Release click opens (views.open with the click's trigger_id): a reason from a short list and
// a note, required for "other". Its view_submission is the decision. Pure: the view, and the submitted
// values read back.
import type { ModalView } from '@slack/web-api';
import { RELEASE_REASONS, RELEASE_REASON_LABELS, MAX_NOTE_LENGTH, type ReleaseReason } from '../gate/decision-rules';
import { truncate } from './format';

export const RELEASE_REASON_CALLBACK_ID = 'gate_release_reason';
export const REASON_BLOCK_ID = 'reason';
export const NOTE_BLOCK_ID = 'note';
const REASON_ACTION_ID = 'reason';
const NOTE_ACTION_ID = 'note';

export interface ReleaseModalInput {
  invoiceId: string;
  customerLabel: string;
  /** "12,345.00 USD at stake", or why the amount is unknown. */
  atStake: string;
  /** The release only records a first approval: a second reviewer must approve. */
  needsSecondApproval: boolean;
}

export function buildReleaseReasonModal(input: ReleaseModalInput): ModalView {
  const secondApproval = input.needsSecondApproval
    ? '\nAbove the approval limit: your release records the first approval; a second reviewer must approve.'
    : '';
  return {
    type: 'modal',
    callback_id: RELEASE_REASON_CALLBACK_ID,
    private_metadata: input.invoiceId,
    title: { type: 'plain_text', text: 'Release invoice' },
    submit: { type: 'plain_text', text: input.needsSecondApproval ? 'Approve release' : 'Release' },
    close: { type: 'plain_text', text: 'Cancel' },
    blocks: [
      {
        type: 'section',
        text: {
          type: 'mrkdwn',
          text: truncate(`*${input.invoiceId}* · ${input.customerLabel}\n${input.atStake}${secondApproval}`, 3000),
        },
      },
      {
        type: 'input',
        block_id: REASON_BLOCK_ID,
        label: { type: 'plain_text', text: 'Why release it?' },
        element: {
          type: 'static_select',
          action_id: REASON_ACTION_ID,
          placeholder: { type: 'plain_text', text: 'Choose a reason' },
          options: RELEASE_REASONS.map((reason) => ({
            text: { type: 'plain_text', text: RELEASE_REASON_LABELS[reason] },
            value: reason,
          })),
        },
      },
      {
        type: 'input',
        block_id: NOTE_BLOCK_ID,
        optional: true,
        label: { type: 'plain_text', text: 'Note' },
        hint: { type: 'plain_text', text: 'Required when the reason is "Other".' },
        element: {
          type: 'plain_text_input',
          action_id: NOTE_ACTION_ID,
          multiline: true,
          max_length: MAX_NOTE_LENGTH,
        },
      },
    ],
  };
}

export interface ReleaseModalSubmission {
  invoiceId: string;
  reason: ReleaseReason | null;
  note: string | null;
}

/** Reads a view_submission's values; unknown shapes give nulls (the decision rules then refuse them). */
export function readReleaseModalSubmission(view: object): ReleaseModalSubmission {
  const v = view as {
    private_metadata?: unknown;
    state?: {
      values?: Record<string, Record<string, { selected_option?: { value?: unknown } | null; value?: unknown }>>;
    };
  };
  const values = v.state?.values ?? {};
  const selected = values[REASON_BLOCK_ID]?.[REASON_ACTION_ID]?.selected_option?.value;
  const note = values[NOTE_BLOCK_ID]?.[NOTE_ACTION_ID]?.value;
  return {
    invoiceId: typeof v.private_metadata === 'string' ? v.private_metadata : '',
    reason:
      typeof selected === 'string' && (RELEASE_REASONS as readonly string[]).includes(selected)
        ? (selected as ReleaseReason)
        : null,
    note: typeof note === 'string' && note.trim() !== '' ? note.trim() : null,
  };
}

/** Slack's `response_action: errors` for a submission the rules refuse, shown under the right input. */
export function releaseModalErrors(refusal: { code: string; message: string }): Record<string, string> {
  if (refusal.code === 'note_required') return { [NOTE_BLOCK_ID]: refusal.message };
  return { [REASON_BLOCK_ID]: refusal.message };
}
