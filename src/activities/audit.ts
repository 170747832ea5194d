// Activities that write the gate's own audit tables and count outcomes in the metrics.
import type { AuditStore } from '../audit/audit-store';
import type { Comparison, GateRunKey, GateState, InvoiceSnapshot } from '../gate/types';
import type { GateMetrics } from '../observability/metrics';

export interface AuditActivityDeps {
  audit: AuditStore;
  metrics: GateMetrics;
}

const key = (run: GateRunKey) => ({ workflowId: run.workflowId, runId: run.runId });

export function createAuditActivities({ audit, metrics }: AuditActivityDeps) {
  return {
    async recordGateStarted(run: GateRunKey): Promise<void> {
      await audit.recordRunStarted(key(run), { invoiceId: run.invoiceId });
    },

    async recordComparison(run: GateRunKey, invoice: InvoiceSnapshot, comparison: Comparison, round: number): Promise<void> {
      await audit.recordRunStarted(key(run), {
        invoiceId: run.invoiceId,
        customerId: invoice.customerId,
        periodStart: invoice.periodStart,
        periodEnd: invoice.periodEnd,
        currency: invoice.currency,
      });
      await audit.recordComparison(key(run), comparison, round);
    },

    /** Records where the gate stands; terminal outcomes also feed the metrics. */
    async recordGateState(run: GateRunKey, state: GateState): Promise<void> {
      const { status } = state;
      if (status === 'reading' || status === 'counting' || status === 'recounting') {
        await audit.recordStatus(key(run), status);
        return;
      }
      await audit.recordOutcome(key(run), {
        outcome: status,
        reviewer: state.reviewer,
        note: state.decision?.note ?? null,
        reason: state.reason,
        slack: state.slackMessage,
      });
      metrics.gateOutcome(status);
      if (state.reviewer && state.heldSince !== null) metrics.decisionLatency((Date.now() - state.heldSince) / 1000);
    },
  };
}
