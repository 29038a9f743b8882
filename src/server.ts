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
import { ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import type { Logger } from 'pino';
import { resolvers } from './resolvers/index.js';
import { createContext, type GatewayContext } from './server/context.js';
import { createErrorFormatter } from './server/error-masking.js';
import { createHttpHandler } from './server/http.js';
import { SppClient } from './upstream/spp-client.js';
import { LoginSession, loginIdentity, type UpstreamIdentity } from './upstream/session.js';
import { CursorCodec } from './pagination/cursor.js';
import type { Env } from './config.js';

export const typeDefs = readFileSync(fileURLToPath(new URL('../schema/schema.graphql', import.meta.url)), 'utf8');

export interface GatewayOptions {
  env: Env;
  /** SPP's base URL, e.g. https://spp.example.com (no /api). */
  sppUrl: string;
  /** The service account the gateway logs in with. */
  serviceAccount: { username: string; password: string };
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
  /** Stops accepting, lets in-flight requests finish, logs out of SPP, closes upstream sockets. */
  stop(): Promise<void>;
}

export async function createGateway(options: GatewayOptions): Promise<Gateway> {
  const { env, logger } = options;

  const spp = new SppClient({
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

  const { username, password } = options.serviceAccount;
  const serviceSession = new LoginSession(async () => (await spp.login(username, password)).sessionid);
  const serviceIdentity: UpstreamIdentity = loginIdentity('service-account', serviceSession);

  const httpServer = http.createServer();
  const apollo = new ApolloServer<GatewayContext>({
    typeDefs,
    resolvers,
    formatError: createErrorFormatter(logger),
    includeStacktraceInErrorResponses: false,
    introspection: env.GRAPHQL_INTROSPECTION ?? env.NODE_ENV !== 'production',
    allowBatchedHttpRequests: true,
    csrfPrevention: true,
    plugins: [
      ApolloServerPluginDrainHttpServer({ httpServer, stopGracePeriodMillis: env.SHUTDOWN_GRACE_MS }),
      ...((env.GRAPHQL_LANDING_PAGE ?? env.NODE_ENV !== 'production') ? [] : [ApolloServerPluginLandingPageDisabled()]),
    ],
  });
  await apollo.start();

  const contextDeps = {
    spp,
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
      limits: { maxBodyBytes: Math.max(env.MAX_DOCUMENT_BYTES * 4, 64_000), maxBatch: env.MAX_BATCH },
      context: async (_req, requestId, log) => createContext(contextDeps, serviceIdentity, requestId, log),
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
    async stop() {
      await apollo.stop();
      const sessionId = serviceSession.peek();
      if (sessionId) await spp.logout(sessionId);
      spp.close();
    },
  };
}
