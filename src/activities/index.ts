// The worker's activities, built from their dependencies, one group per concern. Workflows import only
// the group types (src/workflows/activities.ts makes one proxy per group).
import type Stripe from 'stripe';
import { withActivityFailures } from './activity-failure';
import { createAuditActivities, type AuditActivityDeps } from './audit';
import { createExplainActivities, type ExplainActivityDeps } from './explain-divergence';
import { createLedgerActivities, type LedgerActivityDeps } from './ledger';
import { createObserveDigestActivities, type ObserveDigestDeps } from './observe-digest';
import { createSlackAlertActivities, type SlackAlertDeps } from './slack-alerts';
import { createStripeInvoiceActivities } from './stripe-invoices';
import { createSweepActivities, type SweepActivityDeps } from './sweep-missed-invoices';
import { cachedPriceLookup } from '../stripe/read-invoice';

export type { AuditActivities } from './audit';
export type { ExplainActivities } from './explain-divergence';
export type { BackfillActivities } from './backfill';
export type { LedgerActivities } from './ledger';
export type { ObserveDigestActivities } from './observe-digest';
export type { SlackAlertActivities } from './slack-alerts';
export type { StripeInvoiceActivities } from './stripe-invoices';
export type { SweepActivities, SweepResult } from './sweep-missed-invoices';

export interface ActivityDeps {
  stripe: Stripe;
  ledger: LedgerActivityDeps;
  slack: SlackAlertDeps;
  audit: AuditActivityDeps;
  sweep: SweepActivityDeps;
  observeDigest: ObserveDigestDeps;
  explain: Omit<ExplainActivityDeps, 'prices'>;
}

export function createActivities(deps: ActivityDeps) {
  // One cache of price reads for the worker: a month end bills thousands of lines on a few prices.
  const prices = cachedPriceLookup(deps.stripe);
  return withActivityFailures({
    ...createStripeInvoiceActivities(deps.stripe, prices),
    ...createLedgerActivities(deps.ledger),
    ...createSlackAlertActivities(deps.slack),
    ...createAuditActivities(deps.audit),
    ...createSweepActivities(deps.sweep),
    ...createObserveDigestActivities(deps.observeDigest),
    ...createExplainActivities({ ...deps.explain, prices }),
  });
}

export type GateActivities = ReturnType<typeof createActivities>;
