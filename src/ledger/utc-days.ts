// How a billing period divides into whole UTC days (answered by a daily rollup) and partial edges.
import type { UnixSeconds } from '../gate/types';

const DAY = 86_400;

export interface UtcDaySplit {
  /** The whole UTC days inside the period, or null when it contains none. */
  wholeDays: {
    /** First whole day and the day after the last, as YYYY-MM-DD. */
    first: string;
    end: string;
    /** Unix seconds where the whole days start and end; [periodStart, startsAt) and [endsAt, periodEnd) are the edges. */
    startsAt: UnixSeconds;
    endsAt: UnixSeconds;
  } | null;
}

export function splitIntoUtcDays(periodStart: UnixSeconds, periodEnd: UnixSeconds): UtcDaySplit {
  const startsAt = Math.ceil(periodStart / DAY) * DAY;
  const endsAt = Math.floor(periodEnd / DAY) * DAY;
  if (endsAt <= startsAt) return { wholeDays: null };
  const day = (unix: UnixSeconds) => new Date(unix * 1000).toISOString().slice(0, 10);
  return { wholeDays: { first: day(startsAt), end: day(endsAt), startsAt, endsAt } };
}
