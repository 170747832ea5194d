// One proxy per activity group, each typed by its own factory, with the timeouts and retries that
// suit what it talks to. Workflows import activity *types* only.
import { proxyActivities, type ActivityOptions } from '@temporalio/workflow';
import type {
  AuditActivities,
  ExplainActivities,
  LedgerActivities,
  SlackAlertActivities,
  StripeInvoiceActivities,
} from '../activities';

// Transient failures (Stripe 429/5xx, network, a lost ledger connection) retry without limit; the
// activities themselves mark what must not be retried (Stripe refusing a request, a wrong ledger mapping).
const retryForever: ActivityOptions['retry'] = { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '5m' };

// Stripe calls back off to at most a minute: an outage or a month-end rate limit clears in seconds to
// minutes, and every minute of a held-up gate eats into Stripe's one-hour finalization window.
export const stripe = proxyActivities<StripeInvoiceActivities>({
  startToCloseTimeout: '1m',
  retry: { ...retryForever, maximumInterval: '1m' },
});

export const ledger = proxyActivities<LedgerActivities>({ startToCloseTimeout: '5m', retry: retryForever });

// Slack being down delays the message, never the safety: the invoice is already paused when we notify.
export const slack = proxyActivities<SlackAlertActivities>({
  startToCloseTimeout: '30s',
  retry: { ...retryForever, maximumInterval: '10m' },
});

export const audit = proxyActivities<AuditActivities>({ startToCloseTimeout: '30s', retry: retryForever });

// Explaining a held invoice (where in time it diverges, its history) is a courtesy to the reviewer: a few
// quick tries, then the alert says the breakdown is unavailable. It never holds up the hold itself.
const quickTries: ActivityOptions['retry'] = {
  initialInterval: '1s',
  backoffCoefficient: 2,
  maximumInterval: '10s',
  maximumAttempts: 3,
};
export const explain = proxyActivities<ExplainActivities>({
  startToCloseTimeout: '1m',
  scheduleToCloseTimeout: '2m',
  retry: quickTries,
});
// The history check of a passing draft runs before Stripe's deadline: it must not eat into it.
export const history = proxyActivities<ExplainActivities>({
  startToCloseTimeout: '30s',
  scheduleToCloseTimeout: '1m',
  retry: quickTries,
});
