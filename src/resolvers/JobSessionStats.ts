import type { JobSessionServerCountResolvers, JobSessionStatsResolvers, JobSessionStatusCountResolvers } from '../__generated__/resolvers-types.js';
import { STATS_KEYS } from '../lists/stats.js';
import { sumCounts } from '../lists/counts.js';
import { serverFailure } from '../errors.js';
import { num } from './JobSession.js';
import { located } from './partial.js';

const count = (v: unknown): number => Math.trunc(num(v) ?? 0);

/** The dashboard tiles: one server's statistics or their sum (src/lists/stats.ts). */
export const JobSessionStats: JobSessionStatsResolvers = {
  server: (s, _args, context) => (s.server === null ? null : context.serverView(s.server)),
  start: (s) => num(s.stats.start),
  end: (s) => num(s.stats.end),
  totalRuns: (s) => count(s.stats.totalRuns),
  successful: (s) => count(s.stats.successful),
  failed: (s) => count(s.stats.failed),
  warning: (s) => count(s.stats.warning),
  running: (s) => count(s.stats.running),
  successPercent: (s) => num(s.stats.successPercent),
  byStatus: (s) => STATS_KEYS.map((key) => ({ key, count: count(s.stats[key]) })),
  byServer: (s) => s.byServer,
  raw: (s) => s.raw,
};

export const JobSessionStatusCount: JobSessionStatusCountResolvers = {
  async count(c, _args, context, info) {
    // One server asked without `servers`: its count and errors as before issue 21.
    if (!c.named) return c.byServer[0]!.read();
    const { sum, failures } = await sumCounts(c.byServer);
    if (failures.length === 0) return sum;
    // Null, with one error per missing server: the field's own error names the first, the others follow it.
    const [first, ...others] = failures.map((f) => serverFailure(f.upstream, f.error));
    for (const error of others) context.partialErrors.push(located(error, info.path));
    context.cacheHints.restrict(0);
    throw first!;
  },
  byServer: (c) => c.byServer,
};

export const JobSessionServerCount: JobSessionServerCountResolvers = {
  server: (c, _args, context) => context.serverView(c.server),
  async count(c, _args, context) {
    try {
      return await c.read();
    } catch (error) {
      context.cacheHints.restrict(0);
      throw serverFailure(c.server, error);
    }
  },
};
