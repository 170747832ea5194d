// The webhook's only way into the gate: start one workflow per invoice, or signal the running one.
import {
  WorkflowExecutionAlreadyStartedError,
  WorkflowNotFoundError,
  type Client,
} from '@temporalio/client';
import type { StripeInvoiceEvent } from '../gate/types';
import {
  InvoiceGateStatusKey,
  StripeCustomerIdKey,
  StripeInvoiceIdKey,
} from '../temporal/search-attribute-keys';
import { gateWorkflowId, INVOICE_GATE_WORKFLOW_TYPE, stripeInvoiceEventSignal } from '../workflows/definitions';
import type { invoiceGate } from '../workflows/invoice-gate';

export type StartResult = 'started' | 'already_gated';
export type SignalResult = 'signalled' | 'no_running_gate';

export interface GateLauncher {
  startGate(invoice: { id: string; customerId: string | null }, stripeEventId: string): Promise<StartResult>;
  signalGate(invoiceId: string, event: StripeInvoiceEvent): Promise<SignalResult>;
}

/** Stripe waits about 10 s for an answer; give up on Temporal well before and answer 503. */
const TEMPORAL_CALL_DEADLINE_MS = 8_000;

export function createTemporalGateLauncher(client: Client, taskQueue: string): GateLauncher {
  const withDeadline = <T>(call: () => Promise<T>) =>
    client.connection.withDeadline(Date.now() + TEMPORAL_CALL_DEADLINE_MS, call);

  return {
    async startGate(invoice, stripeEventId) {
      try {
        await withDeadline(() =>
          client.workflow.start<typeof invoiceGate>(INVOICE_GATE_WORKFLOW_TYPE, {
            taskQueue,
            workflowId: gateWorkflowId(invoice.id),
            args: [invoice.id],
            // A duplicate or concurrent delivery joins the running gate; a gate that already finished
            // is never run twice for the same invoice.
            workflowIdConflictPolicy: 'USE_EXISTING',
            workflowIdReusePolicy: 'REJECT_DUPLICATE',
            typedSearchAttributes: [
              { key: StripeInvoiceIdKey, value: invoice.id },
              { key: InvoiceGateStatusKey, value: 'reading' },
              ...(invoice.customerId ? [{ key: StripeCustomerIdKey, value: invoice.customerId }] : []),
            ],
            memo: { stripeEventId, customerId: invoice.customerId },
            staticSummary: `Invoice gate for ${invoice.id}${invoice.customerId ? ` (customer ${invoice.customerId})` : ''}`,
          }),
        );
        return 'started';
      } catch (error) {
        if (error instanceof WorkflowExecutionAlreadyStartedError) return 'already_gated';
        throw error;
      }
    },

    async signalGate(invoiceId, event) {
      try {
        await withDeadline(() =>
          client.workflow.getHandle(gateWorkflowId(invoiceId)).signal(stripeInvoiceEventSignal, event),
        );
        return 'signalled';
      } catch (error) {
        // No gate, or it already finished (often because the gate itself finalized the invoice).
        if (error instanceof WorkflowNotFoundError) return 'no_running_gate';
        throw error;
      }
    },
  };
}
