// Phase 3, finalized: what Stripe finalized is what the customer pays. It is compared with the ledger
// once more; a divergence can no longer be paused, so it is reported with the money difference.
import { setCurrentDetails } from '@temporalio/workflow';
import { describeGate } from '../../gate/describe-gate';
import type { Comparison } from '../../gate/types';
import { slack } from '../activities';
import type { GateRun } from './gate-run';

export async function finalized(gate: GateRun): Promise<void> {
  const { state } = gate;
  state.finalizedAt ??= Date.now();
  const invoice = await gate.read();
  if (!invoice) {
    await gate.noteInvoiceStatus('deleted');
    return;
  }
  await gate.noteInvoiceStatus(invoice.status);
  const comparison = await gate.countAndCompare(invoice, gate.settings.tolerance, 'finalized');
  state.finalizedComparison = comparison;
  setCurrentDetails(describeGate(state));
  if (!comparison || comparison.passed) return;
  // A reviewer who released a divergence has seen it, and so has the channel that was told the gate would
  // have held it (observe mode); only news is worth an alert.
  const seen = state.status === 'released' || state.status === 'would_hold';
  if (seen && sameQuantities(comparison, state.comparison)) return;
  await slack.alertFinalizedDivergence(gate.key, invoice, state);
}

/** Whether two comparisons found the same Stripe quantities line by line. */
function sameQuantities(a: Comparison, b: Comparison | null): boolean {
  if (!b || a.lines.length !== b.lines.length) return false;
  return a.lines.every(
    (line, i) => line.lineId === b.lines[i].lineId && line.stripeQuantity === b.lines[i].stripeQuantity,
  );
}
