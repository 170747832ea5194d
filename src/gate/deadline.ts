// When the gate must have decided: Stripe finalizes a renewal draft at `automatically_finalizes_at`
// (about an hour after invoice.created was answered); the gate pauses an undecided invoice a margin
// before that. Without Stripe's time, an hour after creation is assumed.
import type { UnixSeconds } from './types';

const STRIPE_GRACE_MS = 60 * 60_000;

export interface DeadlineInput {
  automaticallyFinalizesAt: UnixSeconds | null | undefined;
  /** The invoice's `created`. */
  createdAt: UnixSeconds | null | undefined;
  /** When the gate started (epoch ms), if Stripe's times are unknown. */
  gateStartedAtMs: number;
}

/** Epoch ms by which the gate must have decided or paused the invoice. */
export function decideBy(input: DeadlineInput, marginMs: number): number {
  if (input.automaticallyFinalizesAt) return input.automaticallyFinalizesAt * 1000 - marginMs;
  const createdMs = input.createdAt ? input.createdAt * 1000 : input.gateStartedAtMs;
  return createdMs + STRIPE_GRACE_MS - marginMs;
}
