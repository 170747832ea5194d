// When the server suggests continue-as-new: the WorkflowTaskStarted event carries
// `suggestContinueAsNew` (the SDK's `workflowInfo().continueAsNewSuggested`) once the history has
// grown past a length or a size. The thresholds are Temporal Server's dynamic config defaults
// (`limit.historyCount.suggestContinueAsNew`, `limit.historySize.suggestContinueAsNew`); an
// engine may be started with lower ones so a test reaches them in a few events.

export interface ContinueAsNewThresholds {
  /** Events in the run's history (including the task's own Scheduled and Started events). */
  historyLength: number;
  /** Approximate encoded size of the run's history in bytes. */
  historySizeBytes: number;
}

export const SERVER_CONTINUE_AS_NEW_THRESHOLDS: ContinueAsNewThresholds = {
  historyLength: 4 * 1024,
  historySizeBytes: 4 * 1024 * 1024,
};

export function continueAsNewThresholds(overrides: Partial<ContinueAsNewThresholds> = {}): ContinueAsNewThresholds {
  const thresholds: ContinueAsNewThresholds = {
    historyLength: overrides.historyLength ?? SERVER_CONTINUE_AS_NEW_THRESHOLDS.historyLength,
    historySizeBytes: overrides.historySizeBytes ?? SERVER_CONTINUE_AS_NEW_THRESHOLDS.historySizeBytes,
  };
  for (const [name, value] of Object.entries(thresholds)) {
    if (!Number.isInteger(value) || value <= 0)
      throw new Error(`continue-as-new threshold ${name} must be a positive integer, got ${value}`);
  }
  return thresholds;
}

export function continueAsNewSuggested(
  history: { length: number; sizeBytes: number },
  thresholds: ContinueAsNewThresholds,
): boolean {
  return history.length >= thresholds.historyLength || history.sizeBytes >= thresholds.historySizeBytes;
}

/**
 * Roughly what an event weighs once encoded: the bytes of its strings and payload data plus a few
 * bytes per field. Close enough to the server's blob sizes for `historySize` and the size
 * threshold, and cheap (no protobuf encoding per event).
 */
export function approximateEncodedSize(value: unknown): number {
  if (value === null || value === undefined) return 0;
  if (typeof value === 'string') return value.length + 2;
  if (typeof value === 'number' || typeof value === 'boolean') return 2;
  if (value instanceof Uint8Array) return value.length + 2;
  if (Array.isArray(value)) return value.reduce<number>((sum, v) => sum + approximateEncodedSize(v), 2);
  if (typeof value === 'object') {
    let size = 2;
    for (const v of Object.values(value)) size += 1 + approximateEncodedSize(v);
    return size;
  }
  return 0;
}
