// Phase 4, following: a finalized (or voided, or too-late) invoice is followed until Stripe's status is
// final (paid, void, uncollectible, deleted), or long enough after finalization. Clicks change nothing now.
import { condition } from '@temporalio/workflow';
import type { GateRun } from './gate-run';
import { takeStripeNews } from './stripe-news';

const DEFAULT_FOLLOW_FINALIZED_FOR_MS = 45 * 24 * 3_600_000;

/** Phase 4: one wake-up while following a finalized invoice's payment. */
export async function following(gate: GateRun): Promise<void> {
  gate.inbox.dropDecisions();
  if (gate.invoiceSettled()) return gate.enter('ended');
  const followFor = gate.settings.followFinalizedForMs ?? DEFAULT_FOLLOW_FINALIZED_FOR_MS;
  const since = gate.state.finalizedAt ?? Date.now();
  gate.state.finalizedAt = since;
  if (!(await condition(() => gate.inbox.hasStripeNews(), Math.max(1, since + followFor - Date.now()))))
    return gate.enter('ended');
  await takeStripeNews(gate);
}
