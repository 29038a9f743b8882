import type { MutationResolvers } from '../__generated__/resolvers-types.js';
import { badUserInput, gatewayError, ErrorCode } from '../errors.js';
import { jobRefFrom, jobSessionRefFrom, toGlobalId } from './global-id.js';
import type { GatewayContext } from './context.js';

/**
 * The actions of the server that owns the object, and the caller as that server knows them
 * (issue 21): an action reaches its own server and no other.
 */
function onServer(context: GatewayContext, server: string | undefined) {
  const actions = context.actionsFor(server);
  if (server === undefined || !context.multiServer) return { actions, who: context, adopt: <T>(value: T) => value };
  const who = { ...context, caller: () => ({ actor: context.caller().actor, identity: context.upstream(server).identity }) };
  return { actions, who, adopt: <T>(value: T) => context.adopt(server, value) };
}

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
    const { id: jobId, server } = jobRefFrom(input.jobId, 'input.jobId');
    const { actions, who, adopt } = onServer(context, server);
    const result = adopt(await actions.startJob(who, { clientMutationId: input.clientMutationId, jobId, actionName: input.actionName }));
    return { clientMutationId: input.clientMutationId ?? null, ...result };
  },

  async cancelJobSession(_parent, { input }, context) {
    const { id, server } = jobSessionRefFrom(input.id, 'input.id');
    const { actions, who, adopt } = onServer(context, server);
    const jobSession = await actions.cancelJobSession(who, {
      clientMutationId: input.clientMutationId,
      id,
      catalogCompletedObjects: input.catalogCompletedObjects ?? true,
    });
    return { clientMutationId: input.clientMutationId ?? null, ...adopt({ jobSession }) };
  },

  async rerunJobSession(_parent, { input }, context) {
    const { id, server } = jobSessionRefFrom(input.id, 'input.id');
    const { actions, who, adopt } = onServer(context, server);
    const result = adopt(await actions.rerunJobSession(who, { clientMutationId: input.clientMutationId, id }));
    return { clientMutationId: input.clientMutationId ?? null, ...result };
  },

  async expireJobSession(_parent, { input }, context) {
    const { id, server } = jobSessionRefFrom(input.id, 'input.id');
    const { actions, who, adopt } = onServer(context, server);
    const jobSession = await actions.expireJobSession(who, { clientMutationId: input.clientMutationId, id });
    const owner = context.multiServer ? (server ?? context.servers[0]) : undefined;
    return { clientMutationId: input.clientMutationId ?? null, expiredJobSessionId: toGlobalId('JobSession', id, owner), ...adopt({ jobSession }) };
  },
};
