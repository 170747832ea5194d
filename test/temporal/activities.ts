// Activity implementations for the conformance suite (see TestActivities in workflows.ts).
import { ApplicationFailure, Context, CancelledFailure } from '@temporalio/activity';
import type { TestActivities } from './workflows';

export function createTestActivities(): TestActivities & {
  calls: Map<string, number>;
  heartbeatSeen: Map<string, unknown[]>;
} {
  const calls = new Map<string, number>();
  const heartbeatSeen = new Map<string, unknown[]>();
  const bump = (key: string) => {
    const n = (calls.get(key) ?? 0) + 1;
    calls.set(key, n);
    return n;
  };
  return {
    calls,
    heartbeatSeen,
    async echo(value) {
      return value;
    },
    async failTimes(key, times, nonRetryable) {
      const n = bump(key);
      if (n <= times) {
        if (nonRetryable)
          throw ApplicationFailure.create({ message: `failure ${n}`, type: 'TransientError', nonRetryable: true });
        throw ApplicationFailure.create({ message: `failure ${n}`, type: 'TransientError' });
      }
      return `succeeded on attempt ${Context.current().info.attempt}`;
    },
    async alwaysFail(kind) {
      throw ApplicationFailure.create({ message: `always ${kind}`, type: kind });
    },
    async heartbeatThenFail(key) {
      const ctx = Context.current();
      const seen = heartbeatSeen.get(key) ?? [];
      seen.push(ctx.info.heartbeatDetails ?? null);
      heartbeatSeen.set(key, seen);
      ctx.heartbeat({ progress: ctx.info.attempt * 10 });
      // Heartbeats are throttled by the worker; give this one time to reach the server.
      await new Promise((r) => setTimeout(r, 100));
      if (ctx.info.attempt < 3) throw ApplicationFailure.create({ message: 'try again', type: 'TransientError' });
      return `attempt ${ctx.info.attempt} saw ${JSON.stringify(ctx.info.heartbeatDetails)}`;
    },
    async sleepy(ms) {
      await Context.current().sleep(ms);
      return 'slept';
    },
    async waitForCancel() {
      const ctx = Context.current();
      try {
        for (;;) {
          ctx.heartbeat();
          await ctx.sleep(100);
        }
      } catch (err) {
        if (err instanceof CancelledFailure) throw err;
        throw err;
      }
    },
    async attemptInfo() {
      const info = Context.current().info;
      return {
        attempt: info.attempt,
        scheduleToCloseMs: info.scheduleToCloseTimeoutMs ?? -1,
        startToCloseMs: info.startToCloseTimeoutMs,
        heartbeatMs: info.heartbeatTimeoutMs ?? 0,
      };
    },
  };
}
