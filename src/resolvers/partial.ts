/** Answers over several SPP servers (issue 21): which servers a field reads, and the errors of a partial answer. */
import { GraphQLError, responsePathAsArray, type GraphQLResolveInfo } from 'graphql';
import { badUserInput, serverFailure } from '../errors.js';
import type { GatewayContext } from './context.js';

/** A partial answer's error placed at the field that returned the partial data. */
export function located(error: GraphQLError, path: GraphQLResolveInfo['path']): GraphQLError {
  return new GraphQLError(error.message, { path: responsePathAsArray(path), extensions: error.extensions, originalError: error });
}

/**
 * The servers a field with a `servers:` argument reads, in configuration order: all when the
 * argument is left out. An unknown name is refused (BAD_USER_INPUT naming it), as is an empty list.
 */
export function serversRead(context: GatewayContext, servers: readonly string[] | null | undefined): string[] {
  if (!servers) return [...context.servers];
  if (servers.length === 0) throw badUserInput('Argument "servers" must name at least one SPP server (see sppServers), or be left out for all.', 'servers');
  // serverView refuses a name the gateway does not know, before any upstream call.
  for (const name of servers) context.serverView(name);
  const asked = new Set(servers);
  return context.servers.filter((name) => asked.has(name));
}

/** Servers that did not answer a field: one error each at the field's path, and an answer nobody may keep. */
export function reportFailures(context: GatewayContext, failures: ReadonlyArray<{ upstream: string; error: unknown }>, path: GraphQLResolveInfo['path']): void {
  for (const failure of failures) context.partialErrors.push(located(serverFailure(failure.upstream, failure.error), path));
  // A partial answer is not the one to keep: the next request may complete it.
  if (failures.length > 0) context.cacheHints.restrict(0);
}
