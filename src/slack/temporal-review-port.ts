// GateReviewPort over Temporal: the `state` query and the `decision` signal of the gate workflow.
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { Decision, GateState } from '../gate/types';
import { decisionSignal, gateWorkflowId, stateQuery } from '../workflows/definitions';
import { GateGoneError, type GateReviewPort } from './review-interactions';

export function createTemporalReviewPort(client: Client): GateReviewPort {
  return {
    async state(invoiceId: string): Promise<GateState | null> {
      try {
        return await client.workflow.getHandle(gateWorkflowId(invoiceId)).query(stateQuery);
      } catch (err) {
        if (err instanceof WorkflowNotFoundError) return null;
        throw err;
      }
    },
    async decide(invoiceId: string, decision: Decision): Promise<void> {
      try {
        await client.workflow.getHandle(gateWorkflowId(invoiceId)).signal(decisionSignal, decision);
      } catch (err) {
        // Signalling a finished (or unknown) workflow: the gate is gone, not unreachable.
        if (err instanceof WorkflowNotFoundError) throw new GateGoneError(invoiceId, { cause: err });
        throw err;
      }
    },
  };
}
