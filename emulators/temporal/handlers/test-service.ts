// temporal.api.testservice.v1.TestService, as the Java test server offers it: the calls
// TestWorkflowEnvironment's time-skipping client makes around waiting for results and sleeping.
import type { Engine } from '../engine';
import { invalidArgument } from '../errors';
import { durationToMs, msToTimestamp, protoTimeToMs } from '../proto-values';
import type { Handlers } from './types';

export function testServiceHandlers(engine: Engine): Handlers {
  return {
    // Locks count per client connection: what a connection leaves locked or unlocked (a test that
    // ended mid-call) is undone when it closes, so the next environment starts from the default.
    LockTimeSkipping: async (_r, ctx) => {
      engine.lockTimeSkipping(ctx.connection);
      return {};
    },
    UnlockTimeSkipping: async (_r, ctx) => {
      engine.unlockTimeSkipping(ctx.connection);
      return {};
    },
    // Sleeps follow the Java test server: the clock jumps only while skipping is unlocked and
    // nothing is in flight, so Sleep and SleepUntil on a locked engine wait in real time.
    Sleep: async (r, ctx) => {
      await engine.sleepUntil(engine.now() + durationToMs(r.duration), false, ctx.signal);
      return {};
    },
    SleepUntil: async (r, ctx) => {
      if (!r.timestamp) throw invalidArgument('Timestamp is not set on request.');
      await engine.sleepUntil(protoTimeToMs(r.timestamp), false, ctx.signal);
      return {};
    },
    UnlockTimeSkippingWithSleep: async (r, ctx) => {
      await engine.sleepUntil(engine.now() + durationToMs(r.duration), true, ctx.signal);
      return {};
    },
    GetCurrentTime: async () => ({ time: msToTimestamp(engine.now()) }),
  };
}
