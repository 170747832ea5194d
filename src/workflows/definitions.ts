// The gate's public Temporal surface (docs/contract.md): workflow type, id and signature, signal and query
// names, and their payload types. The HTTP side (src/client/gate-client.ts) and the workflow both import
// it, so neither imports the other.
import { defineQuery, defineSignal } from '@temporalio/workflow';
import type { Decision, GateStart, GateState, StripeInvoiceEvent } from '../gate/types';

export type { Decision, GateStart, GateState, StripeInvoiceEvent };

export const INVOICE_GATE_WORKFLOW_TYPE = 'invoiceGate';

/** The workflow's signature: one gate per invoice; returns its last state. */
export type InvoiceGateWorkflow = (invoiceId: string, start?: GateStart) => Promise<GateState>;

export function gateWorkflowId(invoiceId: string): string {
  return `invoice-gate-${invoiceId}`;
}

/** A reviewer's decision from Slack. */
export const decisionSignal = defineSignal<[Decision]>('decision');

/** A later Stripe event for the same invoice (finalized, voided, deleted, paid ...). */
export const stripeInvoiceEventSignal = defineSignal<[StripeInvoiceEvent]>('stripeInvoiceEvent');

export const stateQuery = defineQuery<GateState>('state');
