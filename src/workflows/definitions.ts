// The gate's public Temporal surface (docs/contract.md): workflow type, id and signature, the `decide`
// Update, signal and query names, and their payload types. The HTTP side (src/client/gate-client.ts) and
// the workflow both import it, so neither imports the other.
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { Decision, GateStart, GateState, GateStatus, StripeInvoiceEvent } from '../gate/types';

export type { Decision, GateStart, GateState, StripeInvoiceEvent };

export const INVOICE_GATE_WORKFLOW_TYPE = 'invoiceGate';

/** The workflow's signature: one gate per invoice; returns its last state. */
export type InvoiceGateWorkflow = (invoiceId: string, start?: GateStart) => Promise<GateState>;

export function gateWorkflowId(invoiceId: string): string {
  return `invoice-gate-${invoiceId}`;
}

/** What the `decide` Update answers: the gate's status once it took the decision. */
export interface DecisionAnswer {
  status: GateStatus;
  /** The decision round the decision closed (the next decision names round + 1). */
  decisionRound: number;
}

/**
 * A reviewer's decision: validated by the gate (a refusal writes nothing to the history) and answered
 * as soon as the gate took it. The one way a decision reaches a gate.
 */
export const decideUpdate = defineUpdate<DecisionAnswer, [Decision]>('decide');

/** ApplicationFailure types a refused decision comes back with (the message says why, for people). */
export const DECISION_REFUSED = 'DecisionRefused';

/**
 * The Update id of a decision: the same reviewer asking the same thing of the same decision round is one
 * decision, however often the button is clicked (Temporal returns the first outcome for a repeated id).
 */
export function decideUpdateId(
  invoiceId: string,
  decision: Pick<Decision, 'action' | 'reviewer'>,
  round: number,
): string {
  return `decide-${invoiceId}-${round}-${decision.action}-${decision.reviewer}`;
}

/** A reviewer's decision from Slack, before the `decide` Update: still accepted, through the same rules. */
export const decisionSignal = defineSignal<[Decision]>('decision');

/** A later Stripe event for the same invoice (finalized, voided, deleted, paid ...). */
export const stripeInvoiceEventSignal = defineSignal<[StripeInvoiceEvent]>('stripeInvoiceEvent');

export const stateQuery = defineQuery<GateState>('state');
