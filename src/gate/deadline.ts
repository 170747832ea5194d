// When the gate must have decided: Stripe finalizes a renewal draft at `automatically_finalizes_at`,
// about an hour after invoice.created was answered with a 2xx; the gate pauses an undecided invoice a
// margin before that. Until the gate has read the invoice itself, the time announced in the webhook can
// still be Stripe's 72 h fallback (it moves to answer + 1 h once the webhook succeeds), so the earlier of
// the two is taken.
import type { UnixSeconds } from './types';

const STRIPE_GRACE_MS = 60 * 60_000;

export interface DeadlineInput {
  /** `automatically_finalizes_at` as the gate last read it from Stripe; undefined before a read succeeded. */
  readFinalizesAt?: UnixSeconds | null;
  /** `automatically_finalizes_at` in the webhook (or the sweep's listing). */
  announcedFinalizesAt: UnixSeconds | null | undefined;
  /** The invoice's `created`. */
  createdAt: UnixSeconds | null | undefined;
  /** When the gate started (epoch ms): about when Stripe's hour started. */
  gateStartedAtMs: number;
}

/** Epoch ms by which the gate must have decided or paused the invoice; Infinity when Stripe will not finalize it by itself. */
export function decideBy(input: DeadlineInput, marginMs: number): number {
  if (input.readFinalizesAt !== undefined) {
    return input.readFinalizesAt === null ? Infinity : input.readFinalizesAt * 1000 - marginMs;
  }
  const hourAfterAnswer =
    Math.max(input.createdAt ? input.createdAt * 1000 : 0, input.gateStartedAtMs) + STRIPE_GRACE_MS;
  const announced = input.announcedFinalizesAt ? input.announcedFinalizesAt * 1000 : Infinity;
  return Math.min(announced, hourAfterAnswer) - marginMs;
}
