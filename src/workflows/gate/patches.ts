// Every patch() marker of the gate, in one place. A gate's history records the markers its code took;
// replaying it takes the same path (DEVELOPERS.md "Replay tests and patched()"). A marker goes when no
// open gate and no recorded history in test/workflows/replay/ lacks it: first deprecatePatch() for a
// release (gates that have the marker replay without branching), then the constant and the old path.
// None can be deprecated yet: each has recorded histories without it that must still replay.

/**
 * Gates that follow their invoice to the end (phases, numbered rounds); gates started before it finish on
 * ./invoice-gate-v1.ts. Introduced 2026-11-29. Removable (with v1 and the v1-* histories) once no gate
 * started before that release is open.
 */
export const FOLLOWS_THE_INVOICE = 'follows-the-invoice-to-the-end';

/**
 * Audit writes and the settings lookup as local activities (../activities.ts). Introduced 2026-11-29.
 * Removable with the follows-* histories, once no gate started before it is open.
 */
export const LOCAL_BOOKKEEPING = 'audit-writes-as-local-activities';

/**
 * After a hold, the explainDivergence activity and an alert update. Introduced 2026-11-29. Removable
 * with the local-audit-* and follows-* histories, once no gate started before it is open.
 */
export const EXPLAINS_DIVERGENCES = 'explains-divergences';

/**
 * The first check's checkUsageHistory activity, then a heads-up or a hold for history. Introduced
 * 2026-11-29 (with EXPLAINS_DIVERGENCES); removable with it.
 */
export const CHECKS_USAGE_HISTORY = 'checks-usage-history';

/**
 * Decisions through the `decide` Update and the decision rules (a reason on every release, a second
 * approver above GATE_SECOND_APPROVAL_ABOVE, the decision log, the release written to Stripe's metadata,
 * bypass noticed). Introduced 2026-12-08. Gates held before it took their decision signal as it came;
 * removable once none of them is open and the histories without it are dropped.
 */
export const DECIDES_BY_UPDATE = 'decides-by-update';
