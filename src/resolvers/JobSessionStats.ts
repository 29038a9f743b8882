import type { JobSessionStatsResolvers } from '../__generated__/resolvers-types.js';
import type { SppJobSessionStats } from '../spp-api/types.js';
import { num } from './JobSession.js';

/** The status keys of SPP's statistics (UI JobSessionStatsModel, docs/spp-api.md#other-lists): note `CANCELLED` and `OTHER`. */
export const STATS_KEYS = ['WAITING', 'RUNNING', 'CANCELLED', 'STOPPED', 'ABORTED', 'FAILED', 'PARTIAL', 'COMPLETED', 'OTHER'] as const;

const count = (v: unknown): number => Math.trunc(num(v) ?? 0);

export const JobSessionStats: JobSessionStatsResolvers = {
  start: (s) => num(s.start),
  end: (s) => num(s.end),
  totalRuns: (s) => count(s.totalRuns),
  successful: (s) => count(s.successful),
  failed: (s) => count(s.failed),
  warning: (s) => count(s.warning),
  running: (s) => count(s.running),
  successPercent: (s) => num(s.successPercent),
  byStatus: (s) => STATS_KEYS.map((key) => ({ key, count: count(s[key]) })),
  raw: (s: SppJobSessionStats) => s,
};
