// The gate: one workflow per Stripe invoice, from invoice.created until Stripe's status is final.
//   1. deciding: check the draft (read it, recount the ledger, compare) before Stripe's deadline;
//      whatever is undecided a margin before Stripe finalizes is paused anyway (fail closed).
//   2. held / watching, while it is a draft: a held invoice waits for a reviewer; a passed one is
//      compared again when late usage changes it, and paused if it now diverges.
//   3. finalized: compare what the customer pays with the ledger once more.
//   4. following: follow it (paid, payment failed, void, uncollectible, deleted) until it is final.
// In observe mode (GATE_MODE or the customer's `mode`) the gate never writes to Stripe: where enforce
// would hold, it records `would_hold`, tells the channel once, and goes on watching the draft.
// Deterministic: every side effect is an activity; each phase's steps are in ./gate/<phase>.ts, what
// reaches the gate from outside in ./gate/inbox.ts, its state in ./gate/gate-run.ts.
import { continueAsNew, patched, workflowInfo } from '@temporalio/workflow';
import type { GateStart } from '../gate/types';
import type { InvoiceGateWorkflow } from './definitions';
import { deciding } from './gate/deciding';
import { finalized } from './gate/finalized';
import { following } from './gate/following';
import { GateRun } from './gate/gate-run';
import { held } from './gate/held';
import { invoiceGateV1 } from './gate/invoice-gate-v1';
import { FOLLOWS_THE_INVOICE } from './gate/patches';
import { watching } from './gate/watching';

export const invoiceGate: InvoiceGateWorkflow = async (invoiceId, start = {}) => {
  if (!patched(FOLLOWS_THE_INVOICE)) return invoiceGateV1(invoiceId);
  const gate = new GateRun(invoiceId, start.carried);
  gate.followTheInvoice(start);
  await gate.loadSettings(start.customerId ?? gate.state.customerId);

  // 1. Check the draft before Stripe's deadline.
  if (gate.phase === 'deciding') await deciding(gate, start);

  // 2. While it is a draft: held, it waits for a reviewer; passed, late usage is compared again.
  while (gate.phase === 'held' || gate.phase === 'watching') {
    await (gate.phase === 'held' ? held(gate) : watching(gate));
    await continueAsNewIfLong(gate, invoiceId, start);
  }

  // 3. Stripe finalized it: what the customer pays is compared with the ledger once more.
  if (gate.phase === 'finalized') {
    await finalized(gate);
    gate.enter('following');
  }

  // 4. Follow it until paid, void, uncollectible or deleted, or long enough after finalization.
  while (gate.phase === 'following') {
    await following(gate);
    await continueAsNewIfLong(gate, invoiceId, start);
  }
  return gate.state;
};

/** Long-lived gates (late usage bursts, months of payment events) start a fresh history now and then. */
async function continueAsNewIfLong(gate: GateRun, invoiceId: string, start: GateStart): Promise<void> {
  const info = workflowInfo();
  if (!info.continueAsNewSuggested && info.historyLength < (gate.settings.continueAsNewAfterEvents ?? 2_000)) return;
  // Signals not yet handled would be lost with this run's history.
  if (gate.phase === 'ended' || gate.inbox.hasNews()) return;
  await continueAsNew<InvoiceGateWorkflow>(invoiceId, { ...start, carried: gate.carry() });
}
