import type { QueryResolvers } from '../__generated__/resolvers-types.js';
import { translateFilter } from '../translate/filter.js';
import { translateOrder } from '../translate/order.js';
import { badUserInput } from '../errors.js';
import { fromGlobalId, jobSessionIdFrom } from './global-id.js';

export const Query: QueryResolvers = {
  async jobSessions(_parent, args, context) {
    const upstream = context.upstream();
    const { filter, empty } = translateFilter(args.filter);
    const sort = translateOrder(args.orderBy);
    const page = upstream.paginator.page(args, filter, sort, empty);
    // Records a list returns answer jobSession/node lookups in this operation for free.
    upstream.trackList(page.then((p) => p.edges.map((edge) => edge.node)));
    return page;
  },

  jobSession(_parent, { id }, context) {
    const sessionId = jobSessionIdFrom(id);
    return context.upstream().loaders.jobSession.load(sessionId);
  },

  async node(_parent, { id }, context) {
    const decoded = fromGlobalId(id);
    if (!decoded) {
      throw badUserInput(`Argument "id" is not a global id: expected an id returned in an \`id\` field, got ${id.length > 40 ? `a ${id.length}-character string` : JSON.stringify(id)}.`, 'id');
    }
    const record = await context.upstream().loaders.jobSession.load(decoded.id);
    return record;
  },
};
