// Activities that read the customer's own ledger and the gate's per-customer settings.
import type { Kysely } from 'kysely';
import { toleranceFor, type GateConfig } from '../config/gate-config';
import type { GateSettings, LedgerCountRequest, LedgerCounts } from '../gate/types';
import { countLedgerEvents } from '../ledger/count-ledger-events';
import { ledgerFailure } from '../ledger/ledger-errors';

export interface LedgerActivityDeps {
  ledgerDb: Kysely<any>;
  gateConfig: GateConfig;
  reminder: { afterMs: number; everyMs: number };
}

export function createLedgerActivities({ ledgerDb, gateConfig, reminder }: LedgerActivityDeps) {
  return {
    async loadGateSettings(customerId: string): Promise<GateSettings> {
      return {
        tolerance: toleranceFor(gateConfig, customerId),
        reminderAfterMs: reminder.afterMs,
        reminderEveryMs: reminder.everyMs,
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
