// Activities that write the gate's own audit tables and count outcomes in the metrics.
import { log } from '@temporalio/activity';
import type { AuditStore } from '../audit/audit-store';
import type { DecisionAttempt, DecisionLog } from '../audit/decision-log';
import { isOutcome } from '../gate/status';
import { isInvoiceStatus, type InvoiceStatus } from '../gate/lifecycle';
import type { Comparison, ComparisonKind, GateOutcome, GateRunKey, GateState, InvoiceSnapshot } from '../gate/types';
import type { GateMetrics } from '../observability/metrics';

export interface AuditActivityDeps {
  audit: AuditStore;
  /** The append-only decision log; decisions are recorded there as the gate takes or refuses them. */
  decisions: DecisionLog;
  metrics: GateMetrics;
}

const key = (run: GateRunKey) => ({ workflowId: run.workflowId, runId: run.runId });

export function createAuditActivities({ audit, decisions, metrics }: AuditActivityDeps) {
  return {
    /** One decision attempt in the hash-chained log; a retry with the same attempt id adds nothing. */
    async recordDecision(attempt: Omit<DecisionAttempt, 'at'> & { at: number }): Promise<void> {
      await decisions.append({ ...attempt, at: new Date(attempt.at) });
      log.info('decision recorded', {
        invoiceId: attempt.invoiceId,
        reviewer: attempt.reviewer,
        action: attempt.action,
        accepted: attempt.accepted,
        refusal: attempt.refusal ?? null,
      });
    },

    async recordGateStarted(run: GateRunKey, startedBy?: 'webhook' | 'sweep'): Promise<void> {
      await audit.recordRunStarted(key(run), { invoiceId: run.invoiceId, startedBy });
    },

    async recordInvoiceRead(run: GateRunKey, invoice: InvoiceSnapshot): Promise<void> {
      await audit.recordRunStarted(key(run), {
        invoiceId: run.invoiceId,
        customerId: invoice.customerId,
        periodStart: invoice.periodStart,
        periodEnd: invoice.periodEnd,
        currency: invoice.currency,
        invoiceStatus: isInvoiceStatus(invoice.status) ? invoice.status : null,
        finalizesAt: invoice.automaticallyFinalizesAt,
      });
    },

    async recordComparison(
      run: GateRunKey,
      comparison: Comparison,
      round: number,
      kind?: ComparisonKind,
    ): Promise<void> {
      await audit.recordComparison(key(run), comparison, round, kind);
    },

    /** Stripe's status of the invoice (only ever forward) and payment failures, as the gate follows it. */
    async recordInvoiceStatus(
      run: GateRunKey,
      update: { status: InvoiceStatus; paymentFailures: number },
    ): Promise<void> {
      await audit.recordInvoiceStatus(key(run), update);
      log.info('invoice status', { invoiceId: run.invoiceId, ...update });
    },

    /**
     * Records where the gate stands; outcomes also feed the metrics. `workflowNow` is the workflow's
     * clock (it can differ from this machine's, e.g. under time skipping), so latencies use it.
     */
    async recordGateState(run: GateRunKey, state: GateState, workflowNow: number): Promise<void> {
      const { status } = state;
      if (!isOutcome(status)) {
        await audit.recordStatus(key(run), status);
        return;
      }
      const outcome = status as GateOutcome;
      await audit.recordOutcome(key(run), {
        outcome,
        reviewer: state.reviewer,
        note: state.decision?.note ?? null,
        reason: state.reason,
        slack: state.slackMessage,
        mode: state.mode ?? null,
      });
      log.info('gate outcome', { invoiceId: run.invoiceId, outcome, reason: state.reason, reviewer: state.reviewer });
      metrics.gateOutcome(outcome);
      if (state.reviewer && state.heldSince !== null) metrics.decisionLatency((workflowNow - state.heldSince) / 1000);
    },
  };
}

export type AuditActivities = ReturnType<typeof createAuditActivities>;
