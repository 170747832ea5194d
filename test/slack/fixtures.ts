// Shared inputs for the Slack tests.
import type { Comparison, GateState, LineComparison } from '../../src/gate/types';
import type { AlertInput } from '../../src/slack/alert-message';

export function line(over: Partial<LineComparison> = {}): LineComparison {
  return {
    lineId: 'il_api',
    description: 'API calls',
    eventName: 'api_call',
    formula: 'count',
    periodStart: 1759276800, // 2025-10-01
    periodEnd: 1761955200, // 2025-11-01
    stripeQuantity: '1200',
    ledgerQuantity: '1000',
    difference: '200',
    variancePct: '20',
    estimatedImpactMinor: '1234.5',
    passed: false,
    ...over,
  };
}

export function comparison(over: Partial<Comparison> = {}): Comparison {
  return {
    lines: [
      line(),
      line({
        lineId: 'il_ok',
        description: 'Storage GB',
        eventName: 'storage_gb',
        formula: 'sum',
        stripeQuantity: '50',
        ledgerQuantity: '50',
        difference: '0',
        variancePct: '0',
        estimatedImpactMinor: '0',
        passed: true,
      }),
    ],
    passed: false,
    maxVariancePct: '20',
    totalEstimatedImpactMinor: '1234.5',
    tolerance: { pct: '1', abs: '0' },
    ...over,
  };
}

export function alertInput(over: Partial<AlertInput> = {}): AlertInput {
  return {
    invoice: {
      invoiceId: 'in_1Test',
      customerId: 'cus_acme',
      customerName: 'Acme <Corp> & Co',
      customerEmail: 'billing@acme.test',
      currency: 'usd',
      livemode: false,
      periodStart: 1759276800,
      periodEnd: 1761955200,
    },
    comparison: comparison(),
    workflowId: 'invoice-gate-in_1Test',
    links: { temporalUiUrl: 'http://localhost:8233/', temporalNamespace: 'default' },
    ...over,
  };
}

export function gateState(over: Partial<GateState> = {}): GateState {
  return {
    invoiceId: 'in_1Test',
    customerId: 'cus_acme',
    status: 'held',
    invoiceStatus: 'draft',
    heldSince: Date.parse('2025-11-01T00:00:00Z'),
    comparison: comparison(),
    decision: null,
    reviewer: null,
    slackMessage: null,
    recounts: 0,
    reason: null,
    ...over,
  };
}
