// An invoice record as the audit tables give it, for the run page's view and route tests.
import type { GateLineRecord, GateRunWithLines } from '../../../src/audit/audit-store';
import type { InvoiceRecord } from '../../../src/audit/invoice-record';

export function line(over: Partial<GateLineRecord> = {}): GateLineRecord {
  return {
    recount: 0,
    kind: 'check',
    position: 0,
    lineId: 'il_1',
    description: 'API calls',
    eventName: 'api_call',
    formula: 'count',
    periodStart: new Date('2026-10-01T00:00:00Z'),
    periodEnd: new Date('2026-11-01T00:00:00Z'),
    stripeQuantity: '1200',
    ledgerQuantity: '1000',
    difference: '200',
    variancePct: '20',
    estimatedImpactMinor: '400',
    impactUnavailableReason: null,
    passed: false,
    ...over,
  };
}

export function run(over: Partial<GateRunWithLines> = {}): GateRunWithLines {
  return {
    id: '1',
    workflowId: 'invoice-gate-in_1Page',
    runId: 'run-1',
    invoiceId: 'in_1Page',
    customerId: 'cus_acme',
    periodStart: new Date('2026-10-01T00:00:00Z'),
    periodEnd: new Date('2026-11-01T00:00:00Z'),
    currency: 'usd',
    status: 'held',
    outcome: 'held',
    stripeTotal: '1200',
    ledgerTotal: '1000',
    maxVariancePct: '20',
    totalEstimatedImpactMinor: '400',
    tolerance: { pct: '1', abs: '0' },
    recounts: 0,
    reviewer: null,
    decisionNote: null,
    slack: { channel: 'C0BILLING', ts: '1.0001' },
    reason: null,
    startedAt: new Date('2026-11-01T00:00:05Z'),
    decidedAt: null,
    finishedAt: null,
    updatedAt: new Date('2026-11-01T00:00:07Z'),
    invoiceStatus: 'draft',
    invoiceStatusAt: null,
    paymentFailures: 0,
    startedBy: 'webhook',
    mode: 'enforce',
    wouldHoldAt: null,
    lines: [line()],
    ...over,
  };
}

export function invoiceRecord(over: Partial<InvoiceRecord> = {}): InvoiceRecord {
  return {
    invoiceId: 'in_1Page',
    runs: [run()],
    clicks: [],
    decisions: [],
    stripeEvents: [
      {
        eventId: 'evt_1',
        type: 'invoice.created',
        createdAt: new Date('2026-11-01T00:00:01Z'),
        receivedAt: new Date('2026-11-01T00:00:02Z'),
        duplicateCount: 0,
      },
    ],
    ...over,
  };
}
