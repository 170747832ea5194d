// The legacy `decision` signal's payload check: a signal that is not shaped like a decision is dropped at
// once (nothing to answer); one that is goes through the same rules as the `decide` Update.
import type { Decision } from './types';

const ACTIONS: ReadonlySet<string> = new Set<Decision['action']>(['release', 'recount', 'approve']);

export function isDecision(value: unknown): value is Decision {
  if (typeof value !== 'object' || value === null) return false;
  const candidate = value as Record<string, unknown>;
  return (
    typeof candidate.action === 'string' &&
    ACTIONS.has(candidate.action) &&
    typeof candidate.reviewer === 'string' &&
    candidate.reviewer.trim().length > 0 &&
    (candidate.note === undefined || typeof candidate.note === 'string') &&
    (candidate.reason === undefined || typeof candidate.reason === 'string')
  );
}
