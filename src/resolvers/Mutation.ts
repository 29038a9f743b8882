import type { MutationResolvers } from '../__generated__/resolvers-types.js';
import { badUserInput, gatewayError, ErrorCode } from '../errors.js';

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
};
