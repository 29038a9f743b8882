/**
 * Apollo Server as the gateway runs it: limits and cost before execution, the weight-bounded
 * document store, error masking, metrics and tracing plugins, automatic persisted queries in the
 * shared state (or none when only trusted documents may run), and nothing reported to Apollo's cloud.
 */
import type { Server } from 'node:http';
import { ApolloServer, type ApolloServerPlugin } from '@apollo/server';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import {
  ApolloServerPluginCacheControlDisabled,
  ApolloServerPluginLandingPageDisabled,
  ApolloServerPluginSchemaReportingDisabled,
  ApolloServerPluginUsageReportingDisabled,
} from '@apollo/server/plugin/disabled';
import type { KeyValueCache } from '@apollo/utils.keyvaluecache';
import type { GraphQLFormattedError, GraphQLSchema } from 'graphql';
import { introspectionOf, type Env } from '../config.js';
import type { RequestContext } from './context.js';
import type { DocumentCache } from './document-cache.js';
import type { GatewayMetrics } from '../observability/metrics.js';
import { graphqlMetricsPlugin } from './graphql-metrics.js';
import { httpCachingPlugin } from './http-caching.js';
import { partialErrorsPlugin } from './partial-errors.js';
import { operationTypePlugin } from './identical-requests.js';
import { costLimitPlugin, validationRules, type QueryLimits } from './limits.js';
import type { CostBudget } from './budget.js';
import { clientOf } from '../identity/consumer.js';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { makeExecutableSchema } from '@graphql-tools/schema';
import { resolvers } from '../resolvers/index.js';

export interface ApolloOptions {
  env: Env;
  schema: GraphQLSchema;
  httpServer: Server;
  limits: QueryLimits;
  documents: DocumentCache | null;
  formatError: (formatted: GraphQLFormattedError, error: unknown) => GraphQLFormattedError;
  metrics: GatewayMetrics;
  /** Where automatic persisted queries are registered; undefined: Apollo's default in-memory cache. */
  persistedQueries: KeyValueCache<string> | undefined;
  /** False when only trusted documents may run: then no automatic persisted queries either. */
  allowArbitrary: boolean;
  /** The consumers' cost budgets (budget.ts); undefined when QUOTA_POINTS=0. */
  budget: CostBudget | undefined;
  /** Plugins of the other rooms (tracing, the subscription transports' drain). */
  plugins: Array<ApolloServerPlugin<RequestContext>>;
}

/** Limits every GraphQL request shares (queries over HTTP and subscriptions). */
export function queryLimitsOf(env: Env, serverCount = 1): QueryLimits {
  return {
    maxDepth: env.MAX_DEPTH,
    maxAliases: env.MAX_ALIASES,
    maxCost: env.MAX_COST,
    // A GraphQL token is at least one byte, so this bounds parsing work by the document size.
    maxTokens: env.MAX_DOCUMENT_BYTES,
    defaultPageSize: env.PAGE_DEFAULT_SIZE,
    maxPageSize: env.PAGE_MAX_SIZE,
    serverCount,
  };
}

export async function startApollo(options: ApolloOptions): Promise<ApolloServer<RequestContext>> {
  const { env, limits, documents } = options;
  const apollo = new ApolloServer<RequestContext>({
    schema: options.schema,
    formatError: options.formatError,
    includeStacktraceInErrorResponses: false,
    introspection: introspectionOf(env),
    allowBatchedHttpRequests: true,
    csrfPrevention: true,
    // main.ts owns SIGTERM/SIGINT: it stops the gateway, then logs out of SPP and exits.
    stopOnTerminationSignals: false,
    parseOptions: { maxTokens: limits.maxTokens },
    // Bounded by the documents' heap weight, not their JSON length (document-cache.ts).
    documentStore: documents,
    validationRules: validationRules(limits),
    // Field suggestions ("Did you mean ...?") reveal the schema when introspection is off.
    hideSchemaDetailsFromClientErrors: env.NODE_ENV === 'production',
    // Automatic persisted queries (Apollo's default) are kept, except when only trusted documents may run.
    // Registered APQ documents are shared by replicas when the state is shared (Redis).
    ...(options.allowArbitrary
      ? options.persistedQueries
        ? { persistedQueries: { cache: options.persistedQueries } }
        : {}
      : { persistedQueries: false as const }),
    plugins: [
      ...(documents ? [documents.plugin<RequestContext>()] : []),
      costLimitPlugin(limits, options.budget?.charger<RequestContext>()),
      ...(options.budget ? [options.budget.plugin<RequestContext>()] : []),
      operationTypePlugin(),
      partialErrorsPlugin(),
      graphqlMetricsPlugin<RequestContext>(options.metrics, 200, (context) => ({ consumer: context.consumer().consumer, client: clientOf(context.headers) })),
      ...options.plugins,
      // SPP often runs in isolated networks and job sessions name internal hosts: nothing is
      // reported to Apollo's cloud, even if APOLLO_KEY happens to be in the environment.
      ApolloServerPluginUsageReportingDisabled(),
      ApolloServerPluginSchemaReportingDisabled(),
      // Apollo's cache-control plugin hooks every resolved field (and so makes Apollo wrap every
      // resolver): the schema's @cacheControl hints are read from the document instead (http-caching.ts).
      ApolloServerPluginCacheControlDisabled(),
      // Off (HTTP_CACHE_HINTS=false): the HTTP front's no-store stands for every answer.
      ...(env.HTTP_CACHE_HINTS ? [httpCachingPlugin(options.schema)] : []),
      ApolloServerPluginDrainHttpServer({ httpServer: options.httpServer, stopGracePeriodMillis: env.SHUTDOWN_GRACE_MS }),
      // Apollo's landing page loads from a CDN; the offline explorer (src/http/explorer.ts) replaces it.
      ApolloServerPluginLandingPageDisabled(),
    ],
  });
  await apollo.start();
  return apollo;
}

/** The one executable schema: the SDL in schema/ with the resolvers of src/resolvers/, for Apollo (queries, mutations) and graphql-js `subscribe` (live updates). */
// Read relative to this module, so that dist/graphql/ and src/graphql/ both find ../../schema/.
export const typeDefs = readFileSync(fileURLToPath(new URL('../../schema/schema.graphql', import.meta.url)), 'utf8');

export function createSchema(): GraphQLSchema {
  return makeExecutableSchema<RequestContext>({ typeDefs, resolvers });
}
