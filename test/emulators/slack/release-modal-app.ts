// A Bolt app doing what the gate's Release does, for the emulator's modal tests: the `gate_release`
// click opens the reason modal with the click's trigger_id; its view_submission is the decision, and
// "other" without a note is answered with `response_action: 'errors'`. Other views (`stack_test`)
// answer whatever the test sets, to exercise update / push / clear.
import type { App, BlockAction, ButtonAction } from '@slack/bolt';
import type { types } from '@slack/bolt';

export const RELEASE_CALLBACK_ID = 'gate_release_reason';
export const REASONS = {
  ledger_late: 'The ledger was late',
  stripe_correct: 'Stripe is right',
  contract_exception: 'Contract exception',
  other: 'Other',
} as const;

/** The release modal as the contract names it: callback_id, the invoice in private_metadata, inputs `reason` and `note`. */
export function releaseReasonView(invoiceId: string): types.ModalView {
  return {
    type: 'modal',
    callback_id: RELEASE_CALLBACK_ID,
    private_metadata: invoiceId,
    notify_on_close: true,
    title: { type: 'plain_text', text: 'Release invoice' },
    submit: { type: 'plain_text', text: 'Release' },
    close: { type: 'plain_text', text: 'Cancel' },
    blocks: [
      { type: 'section', text: { type: 'mrkdwn', text: `Release *${invoiceId}*?` } },
      {
        type: 'input',
        block_id: 'reason',
        label: { type: 'plain_text', text: 'Reason' },
        element: {
          type: 'static_select',
          action_id: 'reason',
          options: Object.entries(REASONS).map(([value, text]) => ({ text: { type: 'plain_text', text }, value })),
        },
      },
      {
        type: 'input',
        block_id: 'note',
        optional: true,
        label: { type: 'plain_text', text: 'Note' },
        element: { type: 'plain_text_input', action_id: 'note', multiline: true },
      },
    ],
  };
}

export interface Decision {
  invoiceId: string;
  reviewer: string;
  reason: string | undefined;
  note: string | undefined;
  viewId: string;
}

export interface ReleaseModalRecorder {
  /** views.open answers (or errors) of Release clicks, in order. */
  opened: Array<{ ok: boolean; viewId?: string; error?: string }>;
  /** Accepted submissions. */
  decisions: Decision[];
  /** Every view_submission body received (accepted or not). */
  submissions: Array<Record<string, any>>;
  /** view_closed bodies received. */
  closed: Array<Record<string, any>>;
  /** What the `stack_test` view listener acks with next. */
  stackAnswer: Record<string, unknown> | undefined;
}

export function registerReleaseModal(app: App): ReleaseModalRecorder {
  const rec: ReleaseModalRecorder = { opened: [], decisions: [], submissions: [], closed: [], stackAnswer: undefined };

  app.action<BlockAction<ButtonAction>>('gate_release', async ({ ack, body, action, client }) => {
    await ack();
    try {
      const r = await client.views.open({ trigger_id: body.trigger_id, view: releaseReasonView(action.value ?? '') });
      rec.opened.push({ ok: true, viewId: r.view?.id });
    } catch (e) {
      rec.opened.push({ ok: false, error: (e as { data?: { error?: string } }).data?.error ?? String(e) });
    }
  });
  // Recount needs no modal: the click only acknowledges (its trigger_id stays unused).
  app.action('gate_recount', async ({ ack }) => {
    await ack();
  });

  app.view(RELEASE_CALLBACK_ID, async ({ ack, body, view }) => {
    rec.submissions.push(body);
    const values = view.state.values;
    const reason = values.reason?.reason?.selected_option?.value;
    const note = values.note?.note?.value ?? undefined;
    if (reason === 'other' && !note?.trim()) {
      await ack({ response_action: 'errors', errors: { note: 'Say why the invoice is released.' } });
      return;
    }
    rec.decisions.push({ invoiceId: view.private_metadata, reviewer: body.user.id, reason, note, viewId: view.id });
    await ack();
  });
  app.view({ callback_id: RELEASE_CALLBACK_ID, type: 'view_closed' }, async ({ ack, body }) => {
    rec.closed.push(body);
    await ack();
  });

  app.view('stack_test', async ({ ack, body }) => {
    rec.submissions.push(body);
    await ack(rec.stackAnswer as never);
  });
  return rec;
}

/** Polls until `probe` returns something truthy. */
export async function eventually<T>(
  what: string,
  probe: () => T | undefined | false | Promise<T | undefined | false>,
  timeoutMs = 5000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const value = await probe();
    if (value) return value;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`timed out waiting for ${what}`);
}
