/**
 * Builds the gateway: Apollo Server over the SPP client, behind a node:http server.
 * `main.ts` runs it; tests build it the same way on port 0 against the in-process simulator.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import {
  ApolloServerPluginCacheControlDisabled,
  ApolloServerPluginLandingPageDisabled,
  ApolloServerPluginSchemaReportingDisabled,
  ApolloServerPluginUsageReportingDisabled,
} from '@apollo/server/plugin/disabled';
import type { Logger } from 'pino';
import { resolvers } from './resolvers/index.js';
import { createContext, type GatewayContext } from './server/context.js';
import { createErrorFormatter } from './server/error-masking.js';
import { createHttpHandler } from './server/http.js';
import { SppClient } from './upstream/spp-client.js';
import { CursorCodec } from './pagination/cursor.js';
import { Authenticator } from './server/auth.js';
import { costLimitPlugin, validationRules } from './server/limits.js';
import { operationTypePlugin } from './server/identical-requests.js';
import type { Env } from './config.js';
import { GatewayMetrics } from './server/metrics.js';

export const typeDefs = readFileSync(fileURLToPath(new URL('../schema/schema.graphql', import.meta.url)), 'utf8');

export interface GatewayOptions {
  env: Env;
  /** SPP's base URL, e.g. https://spp.example.com (no /api). */
  sppUrl: string;
  /** How callers authenticate and as whom the gateway speaks to SPP (see src/server/auth.ts). */
  auth:
    | { mode: 'service-account'; serviceAccount: { username: string; password: string }; tokens: string[]; allowAnonymous: boolean }
    | { mode: 'pass-through' };
  logger: Logger;
  /** PEM text of SPP's CA (read from SPP_CA_FILE by the caller). */
  ca?: string | Buffer;
}

export interface Gateway {
  url: string;
  port: number;
  httpServer: http.Server;
  apollo: ApolloServer<GatewayContext>;
  spp: SppClient;
  auth: Authenticator;
  metrics: GatewayMetrics;
  /** Stops accepting, lets in-flight requests finish, logs out of SPP, closes upstream sockets. */
  stop(): Promise<void>;
}

export async function createGateway(options: GatewayOptions): Promise<Gateway> {
  const { env, logger } = options;

  const metrics = new GatewayMetrics();
  const spp = new SppClient({
    metrics,
    baseUrl: options.sppUrl,
    connectTimeoutMs: env.SPP_CONNECT_TIMEOUT_MS,
    responseTimeoutMs: env.SPP_RESPONSE_TIMEOUT_MS,
    retryLimit: env.SPP_RETRY_LIMIT,
    maxRetryAfterMs: env.SPP_MAX_RETRY_AFTER_MS,
    maxSockets: env.SPP_MAX_SOCKETS,
    ca: options.ca,
    tlsInsecure: env.SPP_TLS_INSECURE,
    cacheTtlMs: env.SPP_CACHE_TTL_MS,
    cacheMaxEntries: env.SPP_CACHE_MAX_ENTRIES,
    logger: logger.child({ component: 'spp-client' }),
  });

  const secret = env.CURSOR_SECRET ? Buffer.from(env.CURSOR_SECRET, 'utf8') : randomBytes(32);
  if (!env.CURSOR_SECRET) {
    logger.warn('CURSOR_SECRET is not set: cursors are signed with a random per-process key, so they do not survive a restart or work across replicas.');
  }
  const codec = new CursorCodec(secret);

  const auth = new Authenticator({ ...options.auth, spp, sppSessionIdleMs: env.SPP_SESSION_IDLE_MS });
  if (options.auth.mode === 'service-account' && options.auth.allowAnonymous) {
    logger.warn('GATEWAY_ALLOW_ANONYMOUS: callers need no token; anyone who reaches this port reads SPP job sessions as the service account.');
  }

  const limits = {
    maxDepth: env.MAX_DEPTH,
    maxAliases: env.MAX_ALIASES,
    maxCost: env.MAX_COST,
    // A GraphQL token is at least one byte, so this bounds parsing work by the document size.
    maxTokens: env.MAX_DOCUMENT_BYTES,
    defaultPageSize: env.PAGE_DEFAULT_SIZE,
  };

  // Each connection holds a socket and a file descriptor, so a client that sends slowly
  // (slowloris) must not hold one for long: headers must arrive within HTTP_HEADERS_TIMEOUT_MS
  // (10 s: a real client sends them at once), the whole request, body included, within
  // HTTP_REQUEST_TIMEOUT_MS (30 s: MAX_BODY_BYTES at modem speed); answering may take longer
  // (SPP's own budgets apply). Idle keep-alive sockets close after HTTP_KEEP_ALIVE_TIMEOUT_MS,
  // 65 s, longer than the 60 s idle timeout of common load balancers, so the balancer closes
  // first and never sends on a socket the gateway is closing. Node checks these every
  // connectionsCheckingInterval (30 s by default, far coarser than the budgets): 1 s here.
  const httpServer = http.createServer({
    headersTimeout: env.HTTP_HEADERS_TIMEOUT_MS,
    requestTimeout: env.HTTP_REQUEST_TIMEOUT_MS,
    connectionsCheckingInterval: 1_000,
  });
  httpServer.keepAliveTimeout = env.HTTP_KEEP_ALIVE_TIMEOUT_MS;
  const apollo = new ApolloServer<GatewayContext>({
    typeDefs,
    resolvers,
    formatError: createErrorFormatter(logger),
    includeStacktraceInErrorResponses: false,
    introspection: env.GRAPHQL_INTROSPECTION ?? env.NODE_ENV !== 'production',
    allowBatchedHttpRequests: true,
    csrfPrevention: true,
    // main.ts owns SIGTERM/SIGINT: it stops the gateway, then logs out of SPP and exits.
    stopOnTerminationSignals: false,
    parseOptions: { maxTokens: limits.maxTokens },
    validationRules: validationRules(limits),
    // Field suggestions ("Did you mean ...?") reveal the schema when introspection is off.
    hideSchemaDetailsFromClientErrors: env.NODE_ENV === 'production',
    plugins: [
      costLimitPlugin(limits),
      operationTypePlugin(),
      // SPP often runs in isolated networks and job sessions name internal hosts: nothing is
      // reported to Apollo's cloud, even if APOLLO_KEY happens to be in the environment.
      ApolloServerPluginUsageReportingDisabled(),
      ApolloServerPluginSchemaReportingDisabled(),
      // No cache hints in this schema: the plugin's per-field hook would only cost time.
      ApolloServerPluginCacheControlDisabled(),
      ApolloServerPluginDrainHttpServer({ httpServer, stopGracePeriodMillis: env.SHUTDOWN_GRACE_MS }),
      ...((env.GRAPHQL_LANDING_PAGE ?? env.NODE_ENV !== 'production') ? [] : [ApolloServerPluginLandingPageDisabled()]),
    ],
  });
  await apollo.start();

  const contextDeps = {
    spp,
    auth,
    codec,
    pageSizeCap: env.SPP_PAGE_SIZE_CAP,
    fanoutConcurrency: env.SPP_FANOUT_CONCURRENCY,
    defaultPageSize: env.PAGE_DEFAULT_SIZE,
    maxPageSize: env.PAGE_MAX_SIZE,
  };

  httpServer.on(
    'request',
    createHttpHandler({
      apollo,
      logger,
      metrics: metrics.registry,
      identityOf: (req) => {
        const outcome = auth.authenticate(req.headers);
        return 'identity' in outcome ? outcome.identity.key : undefined;
      },
      onJoin: () => metrics.requestsJoined.inc(),
      limits: { maxDocumentBytes: env.MAX_DOCUMENT_BYTES, maxBodyBytes: env.MAX_BODY_BYTES, maxBatch: env.MAX_BATCH },
      context: async (req, requestId, log) => createContext(contextDeps, req.headers, requestId, log),
    }),
  );
  await new Promise<void>((resolve, reject) => {
    httpServer.once('error', reject);
    httpServer.listen(env.PORT, env.HOST, () => resolve());
  });
  const { port } = httpServer.address() as AddressInfo;
  const host = env.HOST === '0.0.0.0' || env.HOST === '::' ? 'localhost' : env.HOST;

  return {
    url: `http://${host}:${port}/graphql`,
    port,
    httpServer,
    apollo,
    spp,
    auth,
    metrics,
    async stop() {
      await apollo.stop();
      await auth.close();
      spp.close();
    },
  };
}
