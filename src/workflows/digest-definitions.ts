// The observe-mode digest's public Temporal surface: one digest per namespace, whichever worker starts it.
export const OBSERVE_DIGEST_WORKFLOW_TYPE = 'observeDigest';

/** Every worker starts the digest under this id (USE_EXISTING), so several workers share one. */
export const OBSERVE_DIGEST_WORKFLOW_ID = 'invoice-gate-observe-digest';
