/**
 * SPP's session statistics (`jobsession/stats`, the dashboard tiles) of one server or summed over
 * several (issue 21). SPP computes each server's figures; a sum adds them and recomputes what is
 * not a count (the window, successPercent) from the summed counts, never averaging percentages.
 */
import type { SppJobSessionStats } from '../spp-api/types.js';

/** The status keys of SPP's statistics (UI JobSessionStatsModel, docs/spp-api.md#other-lists): note `CANCELLED` and `OTHER`. */
export const STATS_KEYS = ['WAITING', 'RUNNING', 'CANCELLED', 'STOPPED', 'ABORTED', 'FAILED', 'PARTIAL', 'COMPLETED', 'OTHER'] as const;

/** The counts of SPP's answer besides the status keys. */
const SUMMED = ['totalRuns', 'successful', 'failed', 'warning', 'running', ...STATS_KEYS] as const;

/** What a JobSessionStats resolves to. */
export interface StatsValue {
  /** The server these figures are from; null for a sum over several. */
  server: string | null;
  /** SPP's answer, or the summed one in SPP's shape. */
  stats: SppJobSessionStats;
  /** What `raw` shows: SPP's answer; for a sum, each server's answer. */
  raw: unknown;
  /** Each server's own figures (itself, for one server). */
  byServer: StatsValue[];
}

/** One server's statistics as SPP answered them. */
export function serverStats(server: string, stats: SppJobSessionStats): StatsValue {
  const value: StatsValue = { server, stats, raw: stats, byServer: [] };
  value.byServer.push(value);
  return value;
}

const numberOf = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

/**
 * The sum of several servers' statistics (pure): every count added (an absent count as 0), the
 * window from the earliest start to the latest end, and successPercent as SPP computes it for one
 * server, from the sums: successful / totalRuns, rounded to a whole percent, 0 without runs.
 */
export function sumStats(parts: readonly StatsValue[]): StatsValue {
  const stats: SppJobSessionStats = {};
  for (const key of SUMMED) stats[key] = parts.reduce((sum, part) => sum + Math.trunc(numberOf(part.stats[key]) ?? 0), 0);
  const starts = parts.map((p) => numberOf(p.stats.start)).filter((v) => v !== null);
  const ends = parts.map((p) => numberOf(p.stats.end)).filter((v) => v !== null);
  stats.start = starts.length > 0 ? Math.min(...starts) : null;
  stats.end = ends.length > 0 ? Math.max(...ends) : null;
  const total = stats.totalRuns ?? 0;
  stats.successPercent = total === 0 ? 0 : Math.round(((stats.successful ?? 0) * 100) / total);
  return { server: null, stats, raw: parts.map((p) => ({ server: p.server, stats: p.raw })), byServer: [...parts] };
}
