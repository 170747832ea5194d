// The worker's activities, built from their dependencies. Workflows import only the type.
import { createAuditActivities, type AuditActivityDeps } from './audit';
import { createLedgerActivities, type LedgerActivityDeps } from './ledger';
import { createSlackAlertActivities, type SlackAlertDeps } from './slack-alerts';
import { createStripeInvoiceActivities } from './stripe-invoices';
import type Stripe from 'stripe';

export interface ActivityDeps {
  stripe: Stripe;
  ledger: LedgerActivityDeps;
  slack: SlackAlertDeps;
  audit: AuditActivityDeps;
}

export function createActivities(deps: ActivityDeps) {
  return {
    ...createStripeInvoiceActivities(deps.stripe),
    ...createLedgerActivities(deps.ledger),
    ...createSlackAlertActivities(deps.slack),
    ...createAuditActivities(deps.audit),
  };
}

export type GateActivities = ReturnType<typeof createActivities>;
