// One proxy per activity group, each typed by its own factory, with the timeouts and retries that
// suit what it talks to. Workflows import activity *types* only.
import {
  patched,
  proxyActivities,
  proxyLocalActivities,
  type ActivityInterfaceFor,
  type ActivityOptions,
  type LocalActivityOptions,
} from '@temporalio/workflow';
import type {
  AuditActivities,
  ExplainActivities,
  LedgerActivities,
  SlackAlertActivities,
  StripeInvoiceActivities,
} from '../activities';
import { LOCAL_BOOKKEEPING } from './gate/patches';

// Transient failures (Stripe 429/5xx, network, a lost ledger connection) retry without limit; the
// activities themselves mark what must not be retried (Stripe refusing a request, a wrong ledger mapping).
export const retryForever: ActivityOptions['retry'] = {
  initialInterval: '1s',
  backoffCoefficient: 2,
  maximumInterval: '5m',
};

// Gates with the LOCAL_BOOKKEEPING marker (./gate/patches.ts) write their audit rows and load their settings
// as local activities: small, idempotent database writes and a config lookup that need no task queue round
// trip and no history events of their own. Gates recorded before it keep scheduling them as activities.

/** `after` for gates with the patch marker, `before` for histories recorded without it. */
function byPatch<A extends object>(
  patch: string,
  before: ActivityInterfaceFor<A>,
  after: ActivityInterfaceFor<A>,
  only?: ReadonlyArray<keyof A>,
): ActivityInterfaceFor<A> {
  return new Proxy(before, {
    get(target, name) {
      if (only && !only.includes(name as keyof A)) return Reflect.get(target, name) as unknown;
      return (...args: unknown[]) => {
        const proxy = patched(patch) ? after : target;
        return (Reflect.get(proxy, name) as (...a: unknown[]) => Promise<unknown>)(...args);
      };
    },
  });
}

const local = (options: LocalActivityOptions): LocalActivityOptions => options;

// Stripe calls back off to at most a minute: an outage or a month-end rate limit clears in seconds to
// minutes, and every minute of a held-up gate eats into Stripe's one-hour finalization window.
export const stripe = proxyActivities<StripeInvoiceActivities>({
  startToCloseTimeout: '1m',
  retry: { ...retryForever, maximumInterval: '1m' },
});

export const ledger = byPatch<LedgerActivities>(
  LOCAL_BOOKKEEPING,
  proxyActivities<LedgerActivities>({ startToCloseTimeout: '5m', retry: retryForever }),
  proxyLocalActivities<LedgerActivities>(local({ startToCloseTimeout: '30s', retry: retryForever })),
  ['loadGateSettings'],
);

// Slack being down delays the message, never the safety: the invoice is already paused when we notify.
export const slack = proxyActivities<SlackAlertActivities>({
  startToCloseTimeout: '30s',
  retry: { ...retryForever, maximumInterval: '10m' },
});

export const audit = byPatch<AuditActivities>(
  LOCAL_BOOKKEEPING,
  proxyActivities<AuditActivities>({ startToCloseTimeout: '30s', retry: retryForever }),
  proxyLocalActivities<AuditActivities>(local({ startToCloseTimeout: '30s', retry: retryForever })),
);

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
