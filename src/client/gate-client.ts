// The one way into the gate from outside the worker: start one workflow per invoice, signal it Stripe's later
// invoice events, send it reviewers' decisions (the `decide` Update), query its state. The Stripe webhook and the Slack
// interactions both go through it, and so does the worker's sweep for missed webhooks; all gate work
// happens in the worker.
import {
  ApplicationFailure,
  WorkflowExecutionAlreadyStartedError,
  WorkflowNotFoundError,
  WorkflowUpdateFailedError,
  type Client,
} from '@temporalio/client';
import type { InvoiceToGate, StartResult } from '../gate/types';
import { InvoiceGateStatusKey, StripeCustomerIdKey, StripeInvoiceIdKey } from '../temporal/search-attribute-keys';
import {
  DECISION_REFUSED,
  decideUpdate,
  decideUpdateId,
  gateWorkflowId,
  INVOICE_GATE_WORKFLOW_TYPE,
  stateQuery,
  stripeInvoiceEventSignal,
  type Decision,
  type DecisionAnswer,
  type GateStart,
  type GateState,
  type InvoiceGateWorkflow,
  type StripeInvoiceEvent,
} from '../workflows/definitions';

export type { InvoiceToGate, StartResult };
export type SignalResult = 'signalled' | 'no_running_gate';

export interface GateClient {
  /** Starts the invoice's gate, or joins the running one; `stripeEventId` is the webhook's event, if any. */
  startGate(invoice: InvoiceToGate, stripeEventId?: string): Promise<StartResult>;
  /** Whether the invoice has a gate, running or closed. */
  hasGate(invoiceId: string): Promise<boolean>;
  signalInvoiceEvent(invoiceId: string, event: StripeInvoiceEvent): Promise<SignalResult>;
  /** The gate's current state; null when there is no gate for this invoice. */
  state(invoiceId: string): Promise<GateState | null>;
  /**
   * A reviewer's decision through the `decide` Update: answered once the gate validated it (refused, or
   * accepted with the final answer to come). Throws GateGoneError when the gate ended (or never existed).
   */
  decide(invoiceId: string, decision: Decision): Promise<DecisionOutcome>;
}

function gateStartOf(invoice: InvoiceToGate): GateStart {
  return {
    customerId: invoice.customerId,
    createdAt: invoice.createdAt ?? null,
    automaticallyFinalizesAt: invoice.automaticallyFinalizesAt ?? null,
    currency: invoice.currency ?? null,
    ...(invoice.livemode === null || invoice.livemode === undefined ? {} : { livemode: invoice.livemode }),
    startedBy: invoice.startedBy ?? 'webhook',
  };
}

/** What the Stripe webhook needs of the gate. */
export type GateLauncher = Pick<GateClient, 'startGate' | 'signalInvoiceEvent'>;
/** What the Slack review buttons need of the gate. */
export type GateReviewPort = Pick<GateClient, 'state' | 'decide'>;

/** Why the gate refused a decision: the rule's code and its words for people. */
export interface DecisionRefusal {
  code: string;
  message: string;
  /** `validator`: refused before it reached the history (the caller logs it); `gate`: refused when taken. */
  stage: 'validator' | 'gate';
}

export type DecisionOutcome =
  | { accepted: true; updateId: string; answer: Promise<DecisionAnswer | DecisionRefusal> }
  | { accepted: false; updateId: string; refusal: DecisionRefusal };

/** A refusal from the gate (the `decide` Update's failure), or null for any other failure. */
export function decisionRefusal(error: unknown): DecisionRefusal | null {
  if (!(error instanceof WorkflowUpdateFailedError)) return null;
  const cause = error.cause;
  if (!(cause instanceof ApplicationFailure) || cause.type !== DECISION_REFUSED) return null;
  const [code, stage] = (cause.details ?? []) as unknown[];
  return {
    code: typeof code === 'string' ? code : 'refused',
    message: cause.message,
    stage: stage === 'gate' ? 'gate' : 'validator',
  };
}

/** Thrown by decide() when the gate ended between state() and decide(). */
export class GateGoneError extends Error {
  constructor(
    readonly invoiceId: string,
    options?: { cause?: unknown },
  ) {
    super(`no running gate for invoice ${invoiceId}`, options);
    this.name = 'GateGoneError';
  }
}

/** Stripe waits about 10 s for an answer; give up on Temporal well before and answer 503. */
const WEBHOOK_TEMPORAL_DEADLINE_MS = 8_000;

export function createGateClient(client: Client, taskQueue: string): GateClient {
  const withWebhookDeadline = <T>(call: () => Promise<T>) =>
    client.connection.withDeadline(Date.now() + WEBHOOK_TEMPORAL_DEADLINE_MS, call);
  const handle = (invoiceId: string) => client.workflow.getHandle(gateWorkflowId(invoiceId));

  return {
    async startGate(invoice, stripeEventId) {
      try {
        await withWebhookDeadline(() =>
          client.workflow.start<InvoiceGateWorkflow>(INVOICE_GATE_WORKFLOW_TYPE, {
            taskQueue,
            workflowId: gateWorkflowId(invoice.id),
            args: [invoice.id, gateStartOf(invoice)],
            // A duplicate or concurrent delivery (or the sweep racing a late webhook) joins the running
            // gate; a gate that already finished is never run twice for the same invoice.
            workflowIdConflictPolicy: 'USE_EXISTING',
            workflowIdReusePolicy: 'REJECT_DUPLICATE',
            typedSearchAttributes: [
              { key: StripeInvoiceIdKey, value: invoice.id },
              { key: InvoiceGateStatusKey, value: 'reading' },
              ...(invoice.customerId ? [{ key: StripeCustomerIdKey, value: invoice.customerId }] : []),
            ],
            memo: {
              ...(stripeEventId !== undefined && { stripeEventId }),
              customerId: invoice.customerId,
              startedBy: invoice.startedBy ?? 'webhook',
            },
            staticSummary: `Invoice gate for ${invoice.id}${invoice.customerId ? ` (customer ${invoice.customerId})` : ''}`,
          }),
        );
        return 'started';
      } catch (error) {
        if (error instanceof WorkflowExecutionAlreadyStartedError) return 'already_gated';
        throw error;
      }
    },

    async hasGate(invoiceId) {
      try {
        await withWebhookDeadline(() => handle(invoiceId).describe());
        return true;
      } catch (error) {
        if (error instanceof WorkflowNotFoundError) return false;
        throw error;
      }
    },

    async signalInvoiceEvent(invoiceId, event) {
      try {
        await withWebhookDeadline(() => handle(invoiceId).signal(stripeInvoiceEventSignal, event));
        return 'signalled';
      } catch (error) {
        // No gate, or it already finished (often because the gate itself finalized the invoice).
        if (error instanceof WorkflowNotFoundError) return 'no_running_gate';
        throw error;
      }
    },

    async state(invoiceId) {
      try {
        return await handle(invoiceId).query(stateQuery);
      } catch (error) {
        if (error instanceof WorkflowNotFoundError) return null;
        throw error;
      }
    },

    async decide(invoiceId, decision) {
      const gate = handle(invoiceId);
      try {
        // The decision round names the Update: the same click twice is one decision.
        const state = await gate.query(stateQuery);
        const updateId = decideUpdateId(invoiceId, decision, state.decisionRound ?? 0);
        // startUpdate() does not throw for a rejected Update (its result() does): wait for the answer, which
        // the gate gives as soon as it takes the decision, and tell the validator's refusal from the gate's.
        try {
          const answer = await gate.executeUpdate(decideUpdate, { args: [decision], updateId });
          return { accepted: true, updateId, answer: Promise.resolve(answer) };
        } catch (error) {
          const refusal = decisionRefusal(error);
          if (refusal) return { accepted: false, updateId, refusal };
          throw error;
        }
      } catch (error) {
        // A finished (or unknown) workflow: the gate is gone, not unreachable.
        if (error instanceof WorkflowNotFoundError) throw new GateGoneError(invoiceId, { cause: error });
        throw error;
      }
    },
  };
}
