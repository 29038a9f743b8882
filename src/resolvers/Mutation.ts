import type { MutationResolvers } from '../__generated__/resolvers-types.js';
import { badUserInput, gatewayError, ErrorCode } from '../errors.js';
import { jobIdFrom, jobSessionIdFrom, toGlobalId } from './global-id.js';

export const Mutation: MutationResolvers = {
  async createSession(_parent, { username, password }, { auth }) {
    if (auth.mode !== 'pass-through') {
      throw gatewayError(
        ErrorCode.FORBIDDEN,
        'createSession is only available in pass-through mode (SPP_URL without SPP_USERNAME); this gateway speaks to SPP as its service account.',
      );
    }
    if (username.trim().length === 0) throw badUserInput('Argument "username" must not be empty.', 'username');
    return auth.createSession(username, password);
  },

  deleteSession(_parent, _args, { auth, headers }) {
    return auth.deleteSession(headers);
  },

  // Actions: thin, the rules live in src/actions/. Ids are checked before anything else happens.
  async startJob(_parent, { input }, context) {
    const jobId = jobIdFrom(input.jobId, 'input.jobId');
    const result = await context.actions.startJob(context, { clientMutationId: input.clientMutationId, jobId, actionName: input.actionName });
    return { clientMutationId: input.clientMutationId ?? null, ...result };
  },

  async cancelJobSession(_parent, { input }, context) {
    const id = jobSessionIdFrom(input.id, 'input.id');
    const jobSession = await context.actions.cancelJobSession(context, {
      clientMutationId: input.clientMutationId,
      id,
      catalogCompletedObjects: input.catalogCompletedObjects ?? true,
    });
    return { clientMutationId: input.clientMutationId ?? null, jobSession };
  },

  async rerunJobSession(_parent, { input }, context) {
    const id = jobSessionIdFrom(input.id, 'input.id');
    const result = await context.actions.rerunJobSession(context, { clientMutationId: input.clientMutationId, id });
    return { clientMutationId: input.clientMutationId ?? null, ...result };
  },

  async expireJobSession(_parent, { input }, context) {
    const id = jobSessionIdFrom(input.id, 'input.id');
    const jobSession = await context.actions.expireJobSession(context, { clientMutationId: input.clientMutationId, id });
    return { clientMutationId: input.clientMutationId ?? null, expiredJobSessionId: toGlobalId('JobSession', id), jobSession };
  },
};
