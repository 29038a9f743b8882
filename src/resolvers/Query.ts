import type { JobSessionStatus, QueryResolvers } from '../__generated__/resolvers-types.js';
import { translateFilter } from '../translate/filter.js';
import { badUserInput, serverFailure } from '../errors.js';
import { readListAcross } from '../lists/across.js';
import { serverStats, sumStats, type StatsValue } from '../lists/stats.js';
import type { UpstreamFailure } from '../pagination/merge.js';
import { fromGlobalId, jobRefFrom, jobSessionRefFrom } from './global-id.js';
import { reportFailures, serversRead } from './partial.js';
import { JOB_SESSIONS, readJobSessions, readJobSessionsAcross } from '../lists/job-sessions.js';
import { JOBS, translateJobFilter, translateJobOrder } from '../lists/jobs.js';
import { serverCount } from '../lists/counts.js';
import { SESSION_STATUSES, statusOf } from './JobSession.js';
import { hintJob, hintSession } from './context.js';

export const Query: QueryResolvers = {
  async jobSessions(_parent, args, context, info) {
    // One server and no `servers`: the one-server engine and cursors, as before issue 21.
    if (!context.multiServer && !args.servers) return readJobSessions(context.upstream(), args);
    const access = new Map(serversRead(context, args.servers).map((name) => [name, context.upstream(name)]));
    const { page, failures } = await readJobSessionsAcross(context.merged, access, args);
    reportFailures(context, failures, info.path);
    return page;
  },

  sppServers(_parent, _args, context) {
    // A server's status changes from one moment to the next: never cached.
    context.cacheHints.restrict(0);
    return context.sppServers();
  },

  async jobSession(_parent, { id }, context) {
    const ref = jobSessionRefFrom(id);
    const session = await context.upstream(ref.server).loaders.jobSession.load(ref.id);
    hintSession(context.cacheHints, session ? statusOf(session.status) : null);
    return session;
  },

  async node(_parent, { id }, context) {
    const decoded = fromGlobalId(id);
    if (!decoded) {
      throw badUserInput(
        `Argument "id" is not a global id: expected an id returned in an \`id\` field, got ${id.length > 40 ? `a ${id.length}-character string` : JSON.stringify(id)}.`,
        'id',
      );
    }
    const { loaders } = context.upstream(decoded.server);
    if (decoded.type === 'Job') {
      const job = await loaders.job.load(decoded.id);
      hintJob(context.cacheHints, job !== null);
      return job;
    }
    if (decoded.type === 'JobLogEntry') {
      // A log entry alone does not say whether its session still runs: not cached.
      context.cacheHints.restrict(0);
      return loaders.logEntry.load(decoded.id);
    }
    const session = await loaders.jobSession.load(decoded.id);
    hintSession(context.cacheHints, session ? statusOf(session.status) : null);
    return session;
  },

  async jobs(_parent, args, context, info) {
    const { filter, empty } = translateJobFilter(args.filter);
    const query = { filter, sort: translateJobOrder(args.orderBy), empty };
    if (!context.multiServer && !args.servers) return context.upstream().paginator.page(JOBS, args, query);
    const readers = new Map(serversRead(context, args.servers).map((name) => [name, context.upstream(name).readerFor]));
    const { page, failures } = await readListAcross(context.merged, JOBS, readers, args, query);
    reportFailures(context, failures, info.path);
    return page;
  },

  job(_parent, { id }, context) {
    const ref = jobRefFrom(id);
    return context.upstream(ref.server).loaders.job.load(ref.id);
  },

  async jobSessionStats(_parent, { range, filter, servers }, context, info) {
    const { unit, value } = range ?? { unit: 'HOUR', value: 12 };
    if (!Number.isInteger(value) || value < 1) throw badUserInput(`Field "range.value" must be a whole number of at least 1, got ${value}.`, 'range');
    // The time window is SPP's pseudo-filter pair (docs/spp-api.md#filter-and-sort), which the stats endpoint honours.
    const window = [
      { property: 'rangeunit', value: unit === 'DAY' ? 'day' : 'hour', op: '=' as const },
      { property: 'range', value, op: '=' as const },
    ];
    const conditions = [...window, ...translateFilter(filter).filter];
    if (!context.multiServer && !servers) return serverStats(context.servers[0]!, await context.upstream().stats(conditions));
    const names = serversRead(context, servers);
    // One request per server, in parallel; the sum covers the servers that answered.
    const settled = await Promise.allSettled(names.map((name) => context.upstream(name).stats(conditions)));
    const answered: StatsValue[] = [];
    const failures: UpstreamFailure[] = [];
    settled.forEach((result, i) => {
      if (result.status === 'fulfilled') answered.push(serverStats(names[i]!, result.value));
      else failures.push({ upstream: names[i]!, error: result.reason });
    });
    if (answered.length === 0) throw serverFailure(failures[0]!.upstream, failures[0]!.error);
    reportFailures(context, failures, info.path);
    return names.length === 1 ? answered[0]! : sumStats(answered);
  },

  jobSessionCounts(_parent, { filter, servers }, context) {
    // One server asked without `servers`: errors without a server name, as before issue 21.
    const named = context.multiServer || Boolean(servers);
    const names = named ? serversRead(context, servers) : [context.servers[0]!];
    const statuses: readonly JobSessionStatus[] = filter?.status ? [...new Set(filter.status)] : SESSION_STATUSES;
    return statuses.map((status) => {
      const conditions = translateFilter({ ...filter, status: [status] }).filter;
      const byServer = names.map((name) =>
        serverCount(name, () => context.upstream(name).paginator.count(JOB_SESSIONS, conditions), `sessions with status ${status}`),
      );
      return { status, byServer, named };
    });
  },
};
