// A reviewer's decision arrives as a Temporal signal; anything that is not one is ignored.
import type { Decision } from './types';

const ACTIONS: ReadonlySet<string> = new Set<Decision['action']>(['release', 'recount']);

export function isDecision(value: unknown): value is Decision {
  if (typeof value !== 'object' || value === null) return false;
  const candidate = value as Record<string, unknown>;
  return (
    typeof candidate.action === 'string' &&
    ACTIONS.has(candidate.action) &&
    typeof candidate.reviewer === 'string' &&
    candidate.reviewer.trim().length > 0 &&
    (candidate.note === undefined || typeof candidate.note === 'string')
  );
}
