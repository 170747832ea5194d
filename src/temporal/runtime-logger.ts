// The Temporal SDK's runtime logger: everything the SDK says goes through pino and LOG_LEVEL. Shared by the
// gate's worker and the backfill's.
import { Runtime } from '@temporalio/worker';
import type { Logger } from 'pino';
import { temporalLoggerFromPino } from '../observability/logger';

let temporalRuntimeInstalled = false;
/** The SDK's runtime (and so its logger) can be installed once per process, before the first worker. */
export function installTemporalLogger(logger: Logger): void {
  if (temporalRuntimeInstalled) return;
  temporalRuntimeInstalled = true;
  // Core (Rust) logs are forwarded too, so everything the SDK says goes through pino and LOG_LEVEL.
  Runtime.install({
    logger: temporalLoggerFromPino(logger.child({ component: 'temporal' })),
    telemetryOptions: { logging: { forward: {}, filter: { core: 'WARN', other: 'WARN' } } },
  });
}
