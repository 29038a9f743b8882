/**
 * The one executable schema: the SDL in schema/ with the resolvers of src/resolvers/. Apollo Server
 * runs queries and mutations on it, graphql-js `subscribe` runs live updates on it.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { makeExecutableSchema } from '@graphql-tools/schema';
import type { GraphQLSchema } from 'graphql';
import { resolvers } from '../resolvers/index.js';
import type { RequestContext } from './context.js';

// Read relative to this module, so that dist/graphql/ and src/graphql/ both find ../../schema/.
export const typeDefs = readFileSync(fileURLToPath(new URL('../../schema/schema.graphql', import.meta.url)), 'utf8');

export function createSchema(): GraphQLSchema {
  return makeExecutableSchema<RequestContext>({ typeDefs, resolvers });
}
