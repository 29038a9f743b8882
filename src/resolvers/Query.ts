import type { JobSessionStatus, QueryResolvers } from '../__generated__/resolvers-types.js';
import { translateFilter } from '../translate/filter.js';
import { badUserInput, serverFailure } from '../errors.js';
import { fromGlobalId, jobRefFrom, jobSessionRefFrom } from './global-id.js';
import { located } from './partial.js';
import { JOB_SESSIONS, readJobSessions, readJobSessionsAcross } from '../lists/job-sessions.js';
import { JOBS, translateJobFilter, translateJobOrder } from '../lists/jobs.js';
import { trustedCount } from '../lists/counts.js';
import { SESSION_STATUSES, statusOf } from './JobSession.js';
import { hintJob, hintSession } from './context.js';

export const Query: QueryResolvers = {
  async jobSessions(_parent, args, context, info) {
    // One server and no `servers`: the one-server engine and cursors, as before issue 21.
    if (!context.multiServer && !args.servers) return readJobSessions(context.upstream(), args);
    const names = args.servers ? [...new Set(args.servers)] : context.servers;
    if (names.length === 0) throw badUserInput('Argument "servers" must name at least one SPP server (see sppServers), or be left out for all.', 'servers');
    const access = new Map(names.map((name) => [name, context.upstream(name)]));
    const { page, failures } = await readJobSessionsAcross(context.merged, access, args);
    for (const failure of failures) context.partialErrors.push(located(serverFailure(failure.upstream, failure.error), info.path));
    // A page with a server missing is not the answer to keep: the next request may complete it.
    if (failures.length > 0) context.cacheHints.restrict(0);
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

  jobs(_parent, args, context) {
    const { filter, empty } = translateJobFilter(args.filter);
    return context.upstream().paginator.page(JOBS, args, { filter, sort: translateJobOrder(args.orderBy), empty });
  },

  job(_parent, { id }, context) {
    const ref = jobRefFrom(id);
    return context.upstream(ref.server).loaders.job.load(ref.id);
  },

  jobSessionStats(_parent, { range, filter }, context) {
    const { unit, value } = range ?? { unit: 'HOUR', value: 12 };
    if (!Number.isInteger(value) || value < 1) throw badUserInput(`Field "range.value" must be a whole number of at least 1, got ${value}.`, 'range');
    // The time window is SPP's pseudo-filter pair (docs/spp-api.md#filter-and-sort), which the stats endpoint honours.
    const window = [
      { property: 'rangeunit', value: unit === 'DAY' ? 'day' : 'hour', op: '=' as const },
      { property: 'range', value, op: '=' as const },
    ];
    return context.upstream().stats([...window, ...translateFilter(filter).filter]);
  },

  jobSessionCounts(_parent, { filter }, context) {
    const upstream = context.upstream();
    const statuses: readonly JobSessionStatus[] = filter?.status ? [...new Set(filter.status)] : SESSION_STATUSES;
    return statuses.map((status) => ({
      status,
      count: () =>
        trustedCount(upstream.paginator.count(JOB_SESSIONS, translateFilter({ ...filter, status: [status] }).filter), `sessions with status ${status}`),
    }));
  },
};
