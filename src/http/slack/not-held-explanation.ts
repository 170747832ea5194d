// What a reviewer hears when a click finds the gate waiting for no such decision: where the gate is,
// in words, so nobody wonders whether the click did something.
import type { GateState } from '../../gate/types';
import { escapeMrkdwn } from '../../slack/format';

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
      return `Invoice ${inv} is held and waits for a release or a recount.`;
    case 'awaiting_second_approval':
      return `Invoice ${inv} was released by <@${state.approvals?.[0]?.reviewer ?? by ?? 'unknown'}> and waits for a second reviewer's *Approve release*.`;
    case 'bypassed':
      return `Invoice ${inv} was finalized outside the gate${state.reason ? ` (${escapeMrkdwn(state.reason)})` : ''}. Nothing to do.`;
  }
}
