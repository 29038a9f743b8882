import type { Resolvers } from '../__generated__/resolvers-types.js';
import { Query } from './Query.js';
import { Mutation } from './Mutation.js';
import { JobSession, JobSessionStatistic } from './JobSession.js';
import { PolicyOption, PolicySnapshot, PolicySource, PolicySpec } from './PolicySnapshot.js';
import { DateTime, JSONScalar } from './scalars.js';
import { JobSessionEvent, Subscription } from './Subscription.js';

export const resolvers: Resolvers = {
  DateTime,
  JSON: JSONScalar,
  Query,
  Mutation,
  Subscription,
  JobSessionEvent,
  Node: { __resolveType: () => 'JobSession' },
  JobSessionConnection: {
    nodes: (page) => page.edges.map((edge) => edge.node),
    totalCount: (page) => page.totalCount(),
  },
  JobSession,
  JobSessionStatistic,
  PolicySnapshot,
  PolicySpec,
  PolicySource,
  PolicyOption,
};
