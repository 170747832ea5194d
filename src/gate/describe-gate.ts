// A one-paragraph summary of a gate for the Temporal Web UI ("current details") and logs.
import { GATE_STATUSES } from './status';
import type { GateState } from './types';

export function describeGate(state: GateState): string {
  const parts = [`**${GATE_STATUSES[state.status].label}** · invoice ${state.invoiceId}`];
  if (state.customerId) parts.push(`customer ${state.customerId}`);
  if (state.comparison) {
    const diverging = state.comparison.lines.filter((line) => !line.passed).length;
    parts.push(
      `max variance ${state.comparison.maxVariancePct}%`,
      `${diverging}/${state.comparison.lines.length} lines beyond tolerance`,
    );
  }
  if (state.reviewer) parts.push(`decided by ${state.reviewer}`);
  if (state.phase && state.invoiceStatus) parts.push(`Stripe: ${state.invoiceStatus}`);
  if (state.finalizedComparison && !state.finalizedComparison.passed) parts.push('finalized with a divergence');
  if (state.paymentFailures)
    parts.push(`${state.paymentFailures} failed payment attempt${state.paymentFailures === 1 ? '' : 's'}`);
  if (state.reason) parts.push(state.reason);
  return parts.join(' · ');
}
