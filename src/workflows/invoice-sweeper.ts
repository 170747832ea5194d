// The sweeper: one long-running workflow that runs the sweep for missed webhooks every GATE_SWEEP_EVERY
// (Temporal Schedules would do this too, but the embedded engine has none). Each round is one activity,
// which also says when the next round is due, so a worker restarted with another interval (or `off`,
// which ends the sweeper) takes over at the next round. Deterministic: the sweep itself is the activity.
import {
  ActivityFailure,
  continueAsNew,
  isCancellation,
  log,
  proxyActivities,
  sleep,
  workflowInfo,
} from '@temporalio/workflow';
import type { SweepActivities } from '../activities';
import { retryForever } from './activities';

/** A round is about a dozen history events: a fresh history every 100 rounds keeps it short. */
export const DEFAULT_CONTINUE_AS_NEW_AFTER_ROUNDS = 100;
/** A floor against a misconfigured interval (GATE_SWEEP_EVERY=1 is one millisecond) hammering Stripe. */
const MIN_INTERVAL_MS = 1_000;

// Listing a busy month-end's drafts and describing each one's gate takes a while; transient failures
// (Stripe 429/5xx, Temporal unavailable) retry as the gate's own activities do.
const sweep = proxyActivities<SweepActivities>({
  startToCloseTimeout: '10m',
  retry: retryForever,
});

export interface SweeperInput {
  /** Until a sweep says otherwise (the worker passes GATE_SWEEP_EVERY); after a failed round, the last known one. */
  everyMs: number;
  /** Continue as new after this many rounds (default 100). */
  continueAsNewAfterRounds?: number;
  /** Rounds swept by the earlier runs of this chain (set by continue-as-new). */
  roundsBefore?: number;
}

export interface SweeperResult {
  /** Rounds swept over the whole chain. */
  rounds: number;
}

export async function invoiceSweeper(input: SweeperInput): Promise<SweeperResult> {
  const limit = input.continueAsNewAfterRounds ?? DEFAULT_CONTINUE_AS_NEW_AFTER_ROUNDS;
  const before = input.roundsBefore ?? 0;
  let everyMs = input.everyMs;
  for (let round = 1; ; round += 1) {
    const next = await sweepOnce(everyMs);
    if (next === null) return { rounds: before + round };
    everyMs = Math.max(MIN_INTERVAL_MS, next);
    await sleep(everyMs);
    if (round >= limit || workflowInfo().continueAsNewSuggested) {
      await continueAsNew<typeof invoiceSweeper>({ ...input, everyMs, roundsBefore: before + round });
    }
  }
}

/** One round; the interval until the next, or null when the sweep is off. */
async function sweepOnce(lastEveryMs: number): Promise<number | null> {
  try {
    return (await sweep.sweepMissedInvoices()).nextSweepInMs;
  } catch (error) {
    // Transient failures retried inside the activity; what gets here was refused for good (e.g. a key that may
    // not list invoices). The sweeper outlives it: the next round may fare better, and the log says why.
    if (!(error instanceof ActivityFailure) || isCancellation(error)) throw error;
    log.error('the sweep for missed webhooks failed; trying again next round', {
      error: error.cause?.message ?? error.message,
    });
    return lastEveryMs;
  }
}
