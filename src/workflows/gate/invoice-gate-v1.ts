// The gate as it was before it followed invoices to the end: decide once, hold until a reviewer decides,
// end. Gates started on it (recorded without the FOLLOWS_THE_INVOICE marker, ./patches.ts) finish on it;
// new gates never take this path. Remove it, with the marker check, once no such gate is open.
import { condition } from '@temporalio/workflow';
import type { GateState } from '../../gate/types';
import { audit, ledger } from '../activities';
import { GateRun, INVOICE_DELETED } from './gate-run';
import { recount, remind, ReminderSchedule } from './held';
import { finalize, finish, hold, pass, tooLate } from './outcomes';

export async function invoiceGateV1(invoiceId: string): Promise<GateState> {
  const gate = new GateRun(invoiceId);

  // 1. Read the draft invoice and its metered lines.
  await audit.recordGateStarted(gate.key);
  const invoice = await gate.read();
  if (!invoice) return finish(gate, 'resolved_in_stripe', INVOICE_DELETED, 'deleted');
  await gate.invoiceFound(invoice);
  if (invoice.meteredLines.length === 0) return finish(gate, 'skipped', 'the invoice has no metered lines');

  // 2. Recount the ledger for each line's exact period and compare.
  gate.moveTo('counting');
  const settings = await ledger.loadGateSettings(invoice.customerId);
  const comparison = await gate.countAndCompare(invoice, settings.tolerance);
  if (invoice.status !== 'draft') {
    return tooLate(gate, comparison, `the invoice was already ${invoice.status} when the gate read it`);
  }
  if (comparison?.passed) return pass(gate, comparison);

  // 3. Beyond tolerance (or not verifiable): pause this one invoice, then tell the reviewers.
  const notHeld = await hold(gate, comparison);
  if (notHeld) return notHeld;

  // 4. Wait durably for a reviewer, or for Stripe to settle the invoice another way. Reminders follow a
  //    fixed schedule; the gate never releases by itself on a timeout.
  const reminders = new ReminderSchedule(gate.state.heldSince!, settings);
  for (;;) {
    if (!(await condition(() => gate.inbox.hasNews(), reminders.msUntilNext(Date.now())))) {
      await remind(gate, reminders.take());
      continue;
    }
    const settled = gate.inbox.settledInStripe();
    if (settled) return finish(gate, 'resolved_in_stripe', settled.reason, settled.invoiceStatus);

    const decision = gate.takeDecision();
    if (!decision) continue;
    if (decision.action === 'release') return finalize(gate, 'released', `released by ${decision.reviewer}`);
    const ended = await recount(gate, settings.tolerance);
    if (ended) return ended;
  }
}
