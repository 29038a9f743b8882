/**
 * The resolvers room: one thin file per GraphQL type (Query, Mutation, Subscription, JobSession,
 * Job, ...), the scalars, Relay global ids (global-id.ts) and the context every resolver receives
 * (context.ts). Resolvers translate SPP records field by field and delegate reading to lists/ and
 * pagination/, acting to actions/ and live updates to live/; they know nothing of the Apollo
 * pipeline, the transports or HTTP. This file assembles the resolver map for src/graphql/apollo.ts (createSchema).
 */
import type { Resolvers } from '../__generated__/resolvers-types.js';
import { Query } from './Query.js';
import { Mutation } from './Mutation.js';
import { JobSession, JobSessionStatistic } from './JobSession.js';
import { PolicyOption, PolicySnapshot, PolicySource, PolicySpec } from './PolicySnapshot.js';
import { DateTime, JSONScalar } from './scalars.js';
import { Job } from './Job.js';
import { JobLogEntry } from './JobLogEntry.js';
import { JobSessionServerCount, JobSessionStats, JobSessionStatusCount } from './JobSessionStats.js';
import { JobSessionEvent, Subscription } from './Subscription.js';
import type { Page } from '../pagination/paginator.js';
import type { SppRecord } from '../spp-api/types.js';

/** Every connection resolves `nodes` and `totalCount` the same way, whatever its list. */
const connection = {
  nodes: <R extends SppRecord>(page: Page<R>) => page.edges.map((edge) => edge.node),
  totalCount: <R extends SppRecord>(page: Page<R>) => page.totalCount(),
};

const count = { count: (c: { count: () => Promise<number | null> }) => c.count() };

export const resolvers: Resolvers = {
  DateTime,
  JSON: JSONScalar,
  Query,
  Mutation,
  // Records carry no type tag: a log entry has `logTime`, a job definition `nextFireTime`/`lastrun`.
  Node: { __resolveType: (record) => ('logTime' in record ? 'JobLogEntry' : 'nextFireTime' in record || 'lastrun' in record ? 'Job' : 'JobSession') },
  JobSessionConnection: connection,
  JobLogEntryConnection: connection,
  JobConnection: connection,
  Job,
  JobLogEntry,
  JobSessionStats,
  JobSessionStatusCount,
  JobSessionServerCount,
  JobLogTypeCount: count,
  Subscription,
  JobSessionEvent,
  JobSession,
  JobSessionStatistic,
  PolicySnapshot,
  PolicySpec,
  PolicySource,
  PolicyOption,
};
