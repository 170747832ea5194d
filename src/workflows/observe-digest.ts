// The daily observe-mode digest: one long-running workflow that, once a day at GATE_DIGEST_AT (UTC, on
// the workflow clock), sums the 24 hours before from the audit (invoices checked, would have held, money
// at stake per currency) and posts one Slack message, but only for a day with observe-mode gates. Each day
// asks the worker running it whether the digest is still on and when, so a restart with another
// GATE_DIGEST_AT takes over from the next post, and `off` ends it. Continue-as-new every 30 days.
import {
  ActivityFailure,
  continueAsNew,
  isCancellation,
  log,
  proxyActivities,
  sleep,
  workflowInfo,
} from '@temporalio/workflow';
import type { ObserveDigestActivities } from '../activities';
import { digestPeriod, digestWorthPosting, nextDigestAt } from '../gate/observe-digest';
import { retryForever } from './activities';

/** About ten history events a day: a fresh history every 30 days keeps it short. */
export const DEFAULT_CONTINUE_AS_NEW_AFTER_DAYS = 30;

// The audit query and Slack retry with backoff as the gate's own activities do.
const digest = proxyActivities<ObserveDigestActivities>({
  startToCloseTimeout: '2m',
  retry: retryForever,
});

export interface ObserveDigestInput {
  /** GATE_DIGEST_AT as the starting worker knows it: minutes after 00:00 UTC. */
  atMinuteUtc: number;
  continueAsNewAfterDays?: number;
  /** Days handled by the earlier runs of this chain (set by continue-as-new). */
  daysBefore?: number;
}

export interface ObserveDigestResult {
  /** Days handled over the whole chain (posted or not). */
  days: number;
  /** Digests posted by this run (the last of the chain). */
  posted: number;
}

export async function observeDigest(input: ObserveDigestInput): Promise<ObserveDigestResult> {
  const limit = input.continueAsNewAfterDays ?? DEFAULT_CONTINUE_AS_NEW_AFTER_DAYS;
  const before = input.daysBefore ?? 0;
  let atMinuteUtc = input.atMinuteUtc;
  let posted = 0;
  for (let day = 1; ; day += 1) {
    const postAt = nextDigestAt(Date.now(), atMinuteUtc);
    await sleep(postAt - Date.now());
    const { atMinuteUtc: configured } = await digest.observeDigestSchedule();
    if (configured === null) return { days: before + day - 1, posted };
    if (configured !== atMinuteUtc) {
      // GATE_DIGEST_AT changed: the next digest comes at the new time.
      atMinuteUtc = configured;
      continue;
    }
    if (await postDigest(postAt)) posted += 1;
    if (day >= limit || workflowInfo().continueAsNewSuggested)
      await continueAsNew<typeof observeDigest>({ ...input, atMinuteUtc, daysBefore: before + day });
  }
}

/** Sums the day before `postAt` and posts it when there is something to report; whether it posted. */
async function postDigest(postAt: number): Promise<boolean> {
  try {
    const summary = await digest.summarizeObservedDay(digestPeriod(postAt));
    if (!digestWorthPosting(summary)) return false;
    await digest.postObserveDigest(summary);
    return true;
  } catch (error) {
    // Transient failures retried inside the activity; what gets here was refused for good (e.g. Slack's
    // channel_not_found). The digest outlives it: tomorrow may fare better, and the log says why.
    if (!(error instanceof ActivityFailure) || isCancellation(error)) throw error;
    log.error('the observe-mode digest failed; trying again tomorrow', {
      error: error.cause?.message ?? error.message,
    });
    return false;
  }
}
