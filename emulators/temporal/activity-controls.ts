// Activity operator controls (PauseActivity, UnpauseActivity, ResetActivity), as the server applies
// them to a pending activity: nothing is written to history. A paused activity gets no new attempt
// (a running one learns it from its next heartbeat and its retry then waits); unpausing schedules
// the next attempt at once; resetting starts the attempts again at 1, now if it is waiting.
import type { Engine } from './engine';
import { invalidArgument, notFound } from './errors';
import type { ActivityState, Execution } from './execution';
import { type ProtoTime, durationToMs } from './proto-values';

interface ActivitySelector {
  id?: string | null;
  type?: string | null;
  /** UnpauseActivity's unpauseAll / ResetActivity's matchAll. */
  all?: boolean;
}

function selectActivities(execution: Execution, s: ActivitySelector): ActivityState[] {
  if (!s.id && !s.type && !s.all) throw invalidArgument('Either activity id or activity type must be provided.');
  const selected = [...execution.activities.values()].filter(
    (a) => s.all || (s.id ? a.activityId === s.id : a.activityType === s.type),
  );
  if (selected.length === 0) throw notFound(`activity not found: ${s.id || s.type || 'none pending'}`);
  return selected;
}

/** The next attempt goes out now, or after the request's jitter. */
function scheduleNow(engine: Engine, execution: Execution, act: ActivityState, jitter: ProtoTime | null): void {
  engine.clock.cancel(act.timers.retry);
  const delayMs = Math.floor(Math.random() * durationToMs(jitter));
  act.seq++;
  const seq = act.seq;
  act.timers.retry = engine.clock.after(delayMs, () => {
    if (execution.activities.get(act.scheduledEventId) === act && act.phase === 'backoff' && act.seq === seq)
      engine.activities.enqueueAttempt(execution, act);
  });
}

export function pauseActivities(engine: Engine, execution: Execution, r: any): void {
  for (const act of selectActivities(execution, { id: r.id, type: r.type })) {
    act.paused = true;
    if (act.phase === 'scheduled') {
      // The queued copy goes stale; the attempt waits for unpause or reset.
      engine.clock.cancel(act.timers.scheduleToStart);
      act.phase = 'backoff';
      act.seq++;
    }
  }
}

export function unpauseActivities(engine: Engine, execution: Execution, r: any): void {
  for (const act of selectActivities(execution, { id: r.id, type: r.type, all: r.unpauseAll })) {
    if (!act.paused) continue;
    act.paused = false;
    if (r.resetAttempts) act.attempt = 1;
    if (r.resetHeartbeat) act.heartbeatDetails = null;
    if (act.phase === 'backoff') scheduleNow(engine, execution, act, r.jitter);
  }
}

export function resetActivities(engine: Engine, execution: Execution, r: any): void {
  for (const act of selectActivities(execution, { id: r.id, type: r.type, all: r.matchAll })) {
    if (!r.keepPaused) act.paused = false;
    if (r.resetHeartbeat) act.heartbeatDetails = null;
    if (act.phase === 'started') {
      act.resetRequested = true;
      continue;
    }
    act.attempt = 1;
    if (act.phase === 'backoff' && !act.paused) scheduleNow(engine, execution, act, r.jitter);
  }
}
