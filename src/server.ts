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
import { createHttpHandler, createRoutesHandler, healthRoute, metricsRoute, sendBody, sendJsonResponse, type Route } from './server/http.js';
import { SppClient } from './upstream/spp-client.js';
import type { UpstreamIdentity } from './upstream/session.js';
import { CursorCodec } from './pagination/cursor.js';
import { createWindowReader, PageSizeMemory, readWindow } from './pagination/window.js';
import { JOB_SESSIONS } from './lists/job-sessions.js';
import { Authenticator } from './server/auth.js';
import { costLimitPlugin, validationRules } from './server/limits.js';
import { createDocumentStore, type DocumentCache } from './server/document-cache.js';
import { operationTypePlugin } from './server/identical-requests.js';
import { allowArbitraryOf, drainMsOf, type Env } from './config.js';
import { GatewayMetrics } from './server/metrics.js';
import { graphqlMetricsPlugin } from './server/graphql-metrics.js';
import { Readiness } from './server/readiness.js';
import { corsSettingsFor, createCorsHandler } from './server/cors.js';
import { createExplorer } from './server/explorer.js';
import { loadTrustedDocuments, type TrustedDocuments } from './server/trusted-documents.js';
import { setupTracing, type Tracing } from './server/tracing.js';
import type { SpanExporter } from '@opentelemetry/sdk-trace-base';
import { createSharedState, type SharedState } from './state/index.js';
import { Actions } from './actions/actions.js';

const UNTRACED_PATHS = new Set(['/healthz', '/readyz', '/metrics']);
import { makeExecutableSchema } from '@graphql-tools/schema';
import { InMemoryFeedRegistry } from './live/registry.js';
import { LiveMetrics } from './live/metrics.js';
import { LiveService } from './live/service.js';
import { createSubscriptionTransports } from './server/subscriptions.js';

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
  /** True in front of the embedded simulator (development): localhost origins may call by default. */
  embeddedSimulator?: boolean;
  /** Tests: where spans go (tracing is otherwise on only with OTEL_EXPORTER_OTLP_ENDPOINT). */
  spanExporter?: SpanExporter;
}

export interface Gateway {
  url: string;
  port: number;
  httpServer: http.Server;
  apollo: ApolloServer<GatewayContext>;
  spp: SppClient;
  auth: Authenticator;
  metrics: GatewayMetrics;
  readiness: Readiness;
  /** The port /metrics is served on when METRICS_PORT moves it off the main port. */
  metricsPort: number | undefined;
  /** Checks SPP and the service account once and logs the outcome (start-up); never throws. */
  checkUpstream(): Promise<boolean>;
  /** Apollo's store of parsed, validated documents (null when GRAPHQL_DOCUMENT_CACHE_MB=0). */
  documents: DocumentCache | null;
  /** What replicas share: memory (one process) or Redis (REDIS_URL), chosen here once. */
  state: SharedState;
  /** Live updates: the feeds behind subscriptions (tests wait on `live.registry.nextPolls()`). */
  live: LiveService;
  /** Stops accepting, lets in-flight requests finish, logs out of SPP, closes upstream sockets. */
  stop(): Promise<void>;
  /**
   * SIGTERM: /readyz turns 503 for SHUTDOWN_DRAIN_MS while requests are still served (load
   * balancers take the gateway out of rotation), then stop().
   */
  shutdown(): Promise<void>;
}

export async function createGateway(options: GatewayOptions): Promise<Gateway> {
  const { env, logger } = options;

  const metrics = new GatewayMetrics();
  const tracing: Tracing | undefined = setupTracing({ serviceName: env.OTEL_SERVICE_NAME, endpoint: env.OTEL_EXPORTER_OTLP_ENDPOINT, exporter: options.spanExporter });
  if (tracing && env.OTEL_EXPORTER_OTLP_ENDPOINT) logger.info({ endpoint: env.OTEL_EXPORTER_OTLP_ENDPOINT }, 'tracing: spans are exported over OTLP/HTTP');
  const allowArbitrary = allowArbitraryOf(env);
  let trustedDocuments: TrustedDocuments | undefined;
  if (env.PERSISTED_DOCUMENTS_FILE) {
    trustedDocuments = loadTrustedDocuments(env.PERSISTED_DOCUMENTS_FILE, allowArbitrary);
    logger.info({ file: env.PERSISTED_DOCUMENTS_FILE, operations: trustedDocuments.size, allowArbitraryOperations: allowArbitrary }, allowArbitrary ? 'trusted documents loaded; other operations run too' : 'trusted documents loaded; only they run');
  }
  const sessionSecret = env.SESSION_SECRET ? Buffer.from(env.SESSION_SECRET, 'utf8') : undefined;
  // The one place that decides between one process and several replicas (design.md "state/").
  const state = await createSharedState({
    redisUrl: env.REDIS_URL,
    prefix: env.REDIS_KEY_PREFIX,
    // config.ts refuses REDIS_URL without SESSION_SECRET; memory never seals anything.
    secret: sessionSecret ?? randomBytes(32),
    leaseMs: env.REDIS_LEASE_MS,
    timeoutMs: env.REDIS_TIMEOUT_MS,
    logger: logger.child({ component: 'shared-state' }),
    metrics: { errors: metrics.sharedStateErrors, degraded: metrics.sharedStateDegraded, flights: metrics.sharedFlights },
  });
  const spp = new SppClient({
    metrics,
    shared: state,
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
    ...(tracing ? { extend: tracing.upstreamHooks } : {}),
  });

  const secret = env.CURSOR_SECRET ? Buffer.from(env.CURSOR_SECRET, 'utf8') : randomBytes(32);
  if (!env.CURSOR_SECRET) {
    logger.warn('CURSOR_SECRET is not set: cursors are signed with a random per-process key, so they do not survive a restart or work across replicas.');
  }
  const codec = new CursorCodec(secret);

  const auth = new Authenticator({
    ...options.auth,
    spp,
    state,
    ...(sessionSecret ? { secret: sessionSecret } : {}),
    sppSessionIdleMs: env.SPP_SESSION_IDLE_MS,
    logger: logger.child({ component: 'auth' }),
  });
  if (!sessionSecret && options.auth.mode === 'pass-through') {
    logger.warn('SESSION_SECRET is not set: createSession tokens are sealed with a random per-process key, so they do not survive a restart or work across replicas.');
  }
  const readiness = new Readiness({
    ping: () => spp.ping(Math.min(env.SPP_CONNECT_TIMEOUT_MS + env.SPP_RESPONSE_TIMEOUT_MS, 5_000)),
    ensureLoggedIn: () => auth.ensureServiceSession(),
    maxAgeMs: env.READY_MAX_AGE_MS,
  });

  if (options.auth.mode === 'service-account' && env.GATEWAY_ALLOW_MUTATIONS) {
    logger.warn('GATEWAY_ALLOW_MUTATIONS: every bearer-token holder may start, cancel, rerun and expire jobs as the SPP service account (anonymous callers never may).');
  }
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
    maxPageSize: env.PAGE_MAX_SIZE,
  };

  const persistedQueries = state.persistedQueries();
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
  const corsSettings = corsSettingsFor(env, options.embeddedSimulator ?? false, env.NODE_ENV === 'production');
  const documents = createDocumentStore(env.GRAPHQL_DOCUMENT_CACHE_MB * 2 ** 20, { maxTokens: limits.maxTokens });
  // One executable schema for Apollo (queries, mutations) and graphql-js `subscribe` (live updates).
  const schema = makeExecutableSchema<GatewayContext>({ typeDefs, resolvers });
  const liveMetrics = new LiveMetrics(metrics.registry);
  const live = new LiveService(
    new InMemoryFeedRegistry({
      window: env.SUBSCRIPTION_WINDOW,
      intervalMs: env.SUBSCRIPTION_POLL_MS,
      idleIntervalMs: env.SUBSCRIPTION_IDLE_POLL_MS,
      maxBackoffMs: env.SUBSCRIPTION_MAX_BACKOFF_MS,
      maxFeeds: env.SUBSCRIPTION_MAX_POLLERS,
      readerFor: (identity) => {
        // Several replicas: each runs its own feed for its own subscribers (its own diff, replays
        // and history, so a replica that dies takes no one else's events with it), but their
        // polls share one upstream read per SUBSCRIPTION_POLL_MS slot through the shared state:
        // the first replica to poll in a slot reads SPP, the others read its answer. One process
        // has one feed per key, so the slot changes nothing there.
        const slotted = (): UpstreamIdentity => ({
          key: `${identity.key} poll ${Math.floor(Date.now() / env.SUBSCRIPTION_POLL_MS)}`,
          sessionId: () => identity.sessionId(),
          renew: (stale) => identity.renew(stale),
        });
        // The page size SPP was seen to cap at is shared with queries (contextDeps, read when a feed starts).
        const reader = createWindowReader((params) => spp.listPage(slotted(), JOB_SESSIONS, params, { keepMs: env.SUBSCRIPTION_POLL_MS }), contextDeps.pageSize, env.SPP_FANOUT_CONCURRENCY);
        return (query, offset, count) => readWindow(reader, query, offset, count);
      },
      onPoll: (outcome) => liveMetrics.polls.inc({ outcome }),
      onSizeChange: (size) => liveMetrics.pollers.set(size),
      logger: logger.child({ component: 'live' }),
    }),
    { perIdentity: env.SUBSCRIPTIONS_PER_IDENTITY, buffer: env.SUBSCRIPTION_BUFFER },
    liveMetrics,
  );
  const formatError = createErrorFormatter(logger);
  const subscriptions = createSubscriptionTransports(httpServer, {
    schema,
    auth,
    live,
    metrics: liveMetrics,
    logger: logger.child({ component: 'subscriptions' }),
    limits: {
      ...limits,
      maxDocumentBytes: env.MAX_DOCUMENT_BYTES,
      perConnection: env.SUBSCRIPTIONS_PER_CONNECTION,
      maxConnections: env.SUBSCRIPTION_MAX_CONNECTIONS,
      maxPayloadBytes: env.MAX_BODY_BYTES,
    },
    allowedOrigins: env.SUBSCRIPTION_ALLOWED_ORIGINS ?? corsSettings.origins,
    // Called per subscription, once the server listens (contextDeps is declared below, as for queries).
    context: (headers, requestId, log) => createContext(contextDeps, headers, requestId, log),
    formatError,
    path: '/graphql',
    trustedDocuments,
  });

  const apollo = new ApolloServer<GatewayContext>({
    schema,
    formatError,
    includeStacktraceInErrorResponses: false,
    introspection: env.GRAPHQL_INTROSPECTION ?? env.NODE_ENV !== 'production',
    allowBatchedHttpRequests: true,
    csrfPrevention: true,
    // main.ts owns SIGTERM/SIGINT: it stops the gateway, then logs out of SPP and exits.
    stopOnTerminationSignals: false,
    parseOptions: { maxTokens: limits.maxTokens },
    // Bounded by the documents' heap weight, not their JSON length (src/server/document-cache.ts).
    documentStore: documents,
    validationRules: validationRules(limits),
    // Field suggestions ("Did you mean ...?") reveal the schema when introspection is off.
    hideSchemaDetailsFromClientErrors: env.NODE_ENV === 'production',
    // Automatic persisted queries (Apollo's default) are kept, except when only trusted documents may run.
    // Registered APQ documents are shared by replicas when the state is shared (Redis).
    ...(allowArbitrary ? (persistedQueries ? { persistedQueries: { cache: persistedQueries } } : {}) : { persistedQueries: false as const }),
    plugins: [
      ...(documents ? [documents.plugin<GatewayContext>()] : []),
      costLimitPlugin(limits),
      operationTypePlugin(),
      graphqlMetricsPlugin(metrics),
      ...(tracing ? [tracing.plugin<GatewayContext>()] : []),
      subscriptions.plugin(),
      // SPP often runs in isolated networks and job sessions name internal hosts: nothing is
      // reported to Apollo's cloud, even if APOLLO_KEY happens to be in the environment.
      ApolloServerPluginUsageReportingDisabled(),
      ApolloServerPluginSchemaReportingDisabled(),
      // No cache hints in this schema: the plugin's per-field hook would only cost time.
      ApolloServerPluginCacheControlDisabled(),
      ApolloServerPluginDrainHttpServer({ httpServer, stopGracePeriodMillis: env.SHUTDOWN_GRACE_MS }),
      // Apollo's landing page loads from a CDN; the offline explorer (src/server/explorer.ts) replaces it.
      ApolloServerPluginLandingPageDisabled(),
    ],
  });
  await apollo.start();

  const contextDeps = {
    spp,
    auth,
    codec,
    pageSize: new PageSizeMemory(env.SPP_PAGE_SIZE_CAP, (cap, max) =>
      logger.warn({ cap, max }, `SPP answered ${cap} records where more were asked and exist: it caps pages at ${cap}, so larger windows are read as parallel pages of ${cap} from now on.`),
    ),
    fanoutConcurrency: env.SPP_FANOUT_CONCURRENCY,
    defaultPageSize: env.PAGE_DEFAULT_SIZE,
    maxPageSize: env.PAGE_MAX_SIZE,
    actions: new Actions({
      spp,
      // Shared by every replica with REDIS_URL (src/state/).
      store: state.idempotency(),
      mode: options.auth.mode,
      allowMutations: env.GATEWAY_ALLOW_MUTATIONS,
      windowMs: env.IDEMPOTENCY_WINDOW_MS,
      sessionWaitMs: env.ACTION_SESSION_WAIT_MS,
    }),
  };

  const explorerOn = env.GRAPHQL_LANDING_PAGE ?? env.NODE_ENV !== 'production';
  const cors = createCorsHandler(corsSettings);
  const routes = new Map<string, Route>([
    [
      '/readyz',
      async (_req, res) => {
        const state = await readiness.check();
        sendJsonResponse(res, state.ready ? 200 : 503, state.ready ? { status: 'ready', checkedAt: state.checkedAt } : { status: 'not ready', reason: state.reason, ...(state.code ? { code: state.code } : {}) });
      },
    ],
  ]);
  const metricsOnOwnPort = env.METRICS_PORT !== undefined;
  httpServer.on(
    'request',
    createHttpHandler({
      apollo,
      logger,
      ...(metricsOnOwnPort ? {} : { metrics: metrics.registry }),
      ...(env.METRICS_TOKEN ? { metricsToken: env.METRICS_TOKEN } : {}),
      routes,
      ...(cors ? { cors } : {}),
      ...(explorerOn ? { explorer: createExplorer('/graphql', (req, res, status, body) => sendBody(req, res, status, body, env.COMPRESSION_THRESHOLD_BYTES)) } : {}),
      ...(trustedDocuments ? { trustedDocuments } : {}),
      compressionThresholdBytes: env.COMPRESSION_THRESHOLD_BYTES,
      wwwAuthenticate: options.auth.mode === 'service-account' ? 'Bearer realm="spp-jobsession-gateway"' : 'Basic realm="spp-jobsession-gateway", Bearer realm="spp-jobsession-gateway"',
      // Probes and scrapes arrive every few seconds from machines: traces are for callers' requests.
      ...(tracing ? { around: (req: http.IncomingMessage, res: http.ServerResponse, handle: () => Promise<void>) => (UNTRACED_PATHS.has((req.url ?? '/').split('?')[0]!) ? handle() : tracing.around(req, res, handle)) } : {}),
      identityOf: (req) => {
        const outcome = auth.authenticate(req.headers);
        return 'identity' in outcome ? outcome.identity.key : undefined;
      },
      onJoin: () => metrics.requestsJoined.inc(),
      onRefused: (code) => {
        metrics.graphqlRequests.inc({ operation: '(invalid)', type: 'unknown', outcome: 'error' });
        metrics.graphqlErrors.inc({ operation: '(invalid)', code });
      },
      limits: { maxDocumentBytes: env.MAX_DOCUMENT_BYTES, maxBodyBytes: env.MAX_BODY_BYTES, maxBatch: env.MAX_BATCH },
      context: async (req, requestId, log) => createContext(contextDeps, req.headers, requestId, log),
      eventStream: subscriptions.eventStream,
    }),
  );
  await new Promise<void>((resolve, reject) => {
    httpServer.once('error', reject);
    httpServer.listen(env.PORT, env.HOST, () => resolve());
  });
  const { port } = httpServer.address() as AddressInfo;
  const host = env.HOST === '0.0.0.0' || env.HOST === '::' ? 'localhost' : env.HOST;

  let metricsServer: http.Server | undefined;
  if (metricsOnOwnPort) {
    // Only /metrics (and /healthz) on this port: it can stay inside the cluster while the main port is public.
    metricsServer = http.createServer(
      createRoutesHandler(
        new Map([
          ['/metrics', metricsRoute(metrics.registry, env.METRICS_TOKEN)],
          ['/healthz', healthRoute],
        ]),
        logger,
      ),
    );
    await new Promise<void>((resolve, reject) => {
      metricsServer!.once('error', reject);
      metricsServer!.listen(env.METRICS_PORT, env.HOST, () => resolve());
    });
  }

  const stop = async () => {
    readiness.startDraining();
    await apollo.stop();
    await auth.close(env.SHUTDOWN_LOGOUT_MS);
    spp.close();
    await state.close();
    if (metricsServer) {
      metricsServer.closeAllConnections();
      await new Promise((resolve) => metricsServer!.close(resolve));
    }
    await tracing?.shutdown().catch((error: unknown) => logger.warn({ err: error }, 'tracing: the last spans could not be exported'));
  };

  return {
    url: `http://${host}:${port}/graphql`,
    port,
    httpServer,
    apollo,
    spp,
    auth,
    metrics,
    documents,
    state,
    live,
    readiness,
    metricsPort: metricsServer ? (metricsServer.address() as AddressInfo).port : undefined,
    async checkUpstream() {
      const state = await readiness.check();
      if (state.ready) logger.info(options.auth.mode === 'service-account' ? 'SPP answered and the service account is logged in' : 'SPP answered');
      else if (state.code === 'UPSTREAM_MISCONFIGURED') logger.error({ reason: state.reason }, 'SPP refuses the gateway: fix SPP_URL, SPP_USERNAME or SPP_PASSWORD; /readyz answers 503 and callers get UPSTREAM_MISCONFIGURED until then');
      else logger.warn({ reason: state.reason }, 'SPP is not answering yet; the gateway runs and /readyz answers 503 until it does');
      return state.ready;
    },
    stop,
    async shutdown() {
      readiness.startDraining();
      const drainMs = drainMsOf(env);
      if (drainMs > 0) {
        logger.info({ drainMs }, 'draining: /readyz answers 503 while requests are still served');
        await new Promise((resolve) => setTimeout(resolve, drainMs));
      }
      await stop();
    },
  };
}
