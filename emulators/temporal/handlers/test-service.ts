// temporal.api.testservice.v1.TestService, as the Java test server offers it: the calls
// TestWorkflowEnvironment's time-skipping client makes around waiting for results and sleeping.
import type { Engine } from '../engine';
import { invalidArgument } from '../errors';
import { durationToMs, msToTimestamp, protoTimeToMs } from '../proto-values';
import type { Handlers } from './types';

export function testServiceHandlers(engine: Engine): Handlers {
  return {
    LockTimeSkipping: async () => {
      engine.lockTimeSkipping();
      return {};
    },
    UnlockTimeSkipping: async () => {
      engine.unlockTimeSkipping();
      return {};
    },
    Sleep: async (r) => {
      await engine.skipTime(durationToMs(r.duration));
      return {};
    },
    SleepUntil: async (r) => {
      if (!r.timestamp) throw invalidArgument('Timestamp is not set on request.');
      await engine.skipTime(Math.max(0, protoTimeToMs(r.timestamp) - engine.now()));
      return {};
    },
    UnlockTimeSkippingWithSleep: async (r) => {
      await engine.skipTime(durationToMs(r.duration));
      return {};
    },
    GetCurrentTime: async () => ({ time: msToTimestamp(engine.now()) }),
  };
}
