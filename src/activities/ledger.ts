// Activities that read the customer's own ledger and the gate's per-customer settings.
import type { Kysely } from 'kysely';
import { modeFor, toleranceFor, type GateConfig } from '../config/gate-config';
import type { HistorySettings } from '../gate/history-jump';
import type { GateMode, GateSettings, LedgerCountRequest, LedgerCounts, ReviewSettings } from '../gate/types';
import { countLedgerEvents } from '../ledger/count-ledger-events';
import { ledgerFailure } from '../ledger/ledger-errors';

export interface LedgerActivityDeps {
  ledgerDb: Kysely<any>;
  gateConfig: GateConfig;
  reminder: { afterMs: number; everyMs: number };
  /** GATE_DECIDE_MARGIN and how long finalized invoices are followed; the workflow has defaults. */
  lifecycle?: { decideMarginMs?: number; followFinalizedForMs?: number };
  /** GATE_MODE; a customer's `mode` in the config file wins. Default enforce. */
  mode?: GateMode;
  /** GATE_HISTORY_JUMP / GATE_HISTORY_ACTION; the workflow's default when unset. */
  history?: HistorySettings;
  /** SLACK_REVIEWER_IDS, SLACK_APPROVER_IDS, GATE_SECOND_APPROVAL_ABOVE: the workflow validates decisions with them. */
  review?: ReviewSettings;
}

export function createLedgerActivities({
  ledgerDb,
  gateConfig,
  reminder,
  lifecycle,
  mode,
  history,
  review,
}: LedgerActivityDeps) {
  return {
    /** The settings for a customer ('' before the invoice names one: the global ones). */
    async loadGateSettings(customerId: string): Promise<GateSettings> {
      return {
        tolerance: toleranceFor(gateConfig, customerId),
        reminderAfterMs: reminder.afterMs,
        reminderEveryMs: reminder.everyMs,
        ...(lifecycle?.decideMarginMs === undefined ? {} : { decideMarginMs: lifecycle.decideMarginMs }),
        ...(lifecycle?.followFinalizedForMs === undefined
          ? {}
          : { followFinalizedForMs: lifecycle.followFinalizedForMs }),
        mode: modeFor(gateConfig, customerId, mode ?? 'enforce'),
        ...(history === undefined ? {} : { history }),
        ...(review === undefined ? {} : { review }),
      };
    },

    async countLedgerEvents(request: LedgerCountRequest): Promise<LedgerCounts> {
      try {
        return await countLedgerEvents(ledgerDb, gateConfig.ledger, request);
      } catch (error) {
        // A lost connection heals by itself; a wrong table, column or mapping does not.
        throw ledgerFailure(error);
      }
    },
  };
}

export type LedgerActivities = ReturnType<typeof createLedgerActivities>;
