// The gate's public Temporal surface (see ../shared/CONTRACT.md): workflow id, signal and query names.
import { defineQuery, defineSignal } from '@temporalio/workflow';
import type { Decision, GateState, StripeInvoiceEvent } from '../gate/types';

export const INVOICE_GATE_WORKFLOW_TYPE = 'invoiceGate';

export function gateWorkflowId(invoiceId: string): string {
  return `invoice-gate-${invoiceId}`;
}

/** A reviewer's decision from Slack. */
export const decisionSignal = defineSignal<[Decision]>('decision');

/** A later Stripe event for the same invoice (finalized, voided, deleted, paid ...). */
export const stripeInvoiceEventSignal = defineSignal<[StripeInvoiceEvent]>('stripeInvoiceEvent');

export const stateQuery = defineQuery<GateState>('state');
