/**
 * `GET /api/endeavour/jobsession/stats` (docs/spp-api.md#other-lists, UI JobSessionStatsModel and
 * JobHistoryStatsComponent): counts of the sessions that match the filter, usually the
 * `rangeunit`/`range` window of the dashboard ("last 12 hours").
 *
 * Documented by the UI: the keys, and `warning` = PARTIAL + CANCELLED + ABORTED.
 * Decided here [assumed]: PENDING counts as WAITING; statuses without a key (HELD, PAUSED, …)
 * as OTHER; `running` = RUNNING + WAITING; `successful` = COMPLETED, `failed` = FAILED;
 * `successPercent` = successful / totalRuns, rounded to a whole percent (0 without runs).
 */
import type { SppJobSession, SppJobSessionStats } from '../spp-api/types.js';
import { rangeCutoff, type RangeUnit } from './query.js';

export const STATS_KEYS = ['WAITING', 'RUNNING', 'CANCELLED', 'STOPPED', 'ABORTED', 'FAILED', 'PARTIAL', 'COMPLETED', 'OTHER'] as const;
export type StatsKey = (typeof STATS_KEYS)[number];

export function statsKeyOf(status: string): StatsKey {
  switch (status) {
    case 'CANCELED':
    case 'CANCELLED':
      return 'CANCELLED';
    case 'PENDING':
    case 'WAITING':
      return 'WAITING';
    case 'RUNNING':
    case 'STOPPED':
    case 'ABORTED':
    case 'FAILED':
    case 'PARTIAL':
    case 'COMPLETED':
      return status;
    default:
      return 'OTHER';
  }
}

export function sessionStats(sessions: readonly SppJobSession[], range: { unit: RangeUnit; amount: number } | undefined, now: number): SppJobSessionStats {
  const counts = Object.fromEntries(STATS_KEYS.map((k) => [k, 0])) as Record<StatsKey, number>;
  for (const s of sessions) counts[statsKeyOf(s.status)]++;
  const totalRuns = sessions.length;
  const successful = counts.COMPLETED;
  return {
    start: range ? rangeCutoff(range, now) : (sessions.reduce<number | null>((m, s) => (m === null || s.start < m ? s.start : m), null) ?? now),
    end: now,
    successful,
    failed: counts.FAILED,
    warning: counts.PARTIAL + counts.CANCELLED + counts.ABORTED,
    running: counts.RUNNING + counts.WAITING,
    totalRuns,
    successPercent: totalRuns === 0 ? 0 : Math.round((successful * 100) / totalRuns),
    ...counts,
  };
}
