/**
 * The composition root: builds each room from the configuration and wires what they export.
 * No logic of its own. `main.ts` runs it; tests build it the same way on port 0 against the
 * in-process simulator.
 */
import type http from 'node:http';
import { randomBytes } from 'node:crypto';
import type { ApolloServer } from '@apollo/server';
import type { SpanExporter } from '@opentelemetry/sdk-trace-base';
import type { Logger } from 'pino';
import { Actions } from './actions/actions.js';
import { allowArbitraryOf, drainMsOf, type Env } from './config.js';
import { startApollo, queryLimitsOf } from './graphql/apollo.js';
import { createContext, type ContextDeps, type RequestContext } from './graphql/context.js';
import { createDocumentStore, type DocumentCache } from './graphql/document-cache.js';
import { createErrorFormatter } from './graphql/error-masking.js';
import { createSchema } from './graphql/schema.js';
import { loadTrustedDocuments } from './graphql/trusted-documents.js';
import { corsSettingsFor } from './http/cors.js';
import { Readiness } from './http/readiness.js';
import { createHttpServer, serveHttp } from './http/server.js';
import { createAuthenticator, type Authenticator, type AuthSettings } from './identity/index.js';
import { createLiveService } from './live/index.js';
import type { LiveService } from './live/service.js';
import { setupObservability, type GatewayMetrics } from './observability/index.js';
import { CursorCodec } from './pagination/cursor.js';
import { PageSizeMemory } from './pagination/window.js';
import { createSharedState, type SharedState } from './state/index.js';
import { createSubscriptionTransports, subscriptionLimitsOf } from './transports/index.js';
import { createSppClient, type SppClient } from './upstream/index.js';

export { typeDefs } from './graphql/schema.js';

export interface GatewayOptions {
  env: Env;
  /** SPP's base URL, e.g. https://spp.example.com (no /api). */
  sppUrl: string;
  /** How callers authenticate and as whom the gateway speaks to SPP (see src/identity/auth.ts). */
  auth: AuthSettings;
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
  apollo: ApolloServer<RequestContext>;
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
  /** SIGTERM: /readyz turns 503 for SHUTDOWN_DRAIN_MS while requests are still served (load balancers take the gateway out of rotation), then stop(). */
  shutdown(): Promise<void>;
}

export async function createGateway(options: GatewayOptions): Promise<Gateway> {
  const { env, logger } = options;
  const { metrics, tracing } = setupObservability(env, logger, options.spanExporter);
  const allowArbitrary = allowArbitraryOf(env);
  const trustedDocuments = env.PERSISTED_DOCUMENTS_FILE ? loadTrustedDocuments(env.PERSISTED_DOCUMENTS_FILE, allowArbitrary, logger) : undefined;
  const sessionSecret = env.SESSION_SECRET ? Buffer.from(env.SESSION_SECRET, 'utf8') : undefined;
  // The one place that decides between one process and several replicas (src/state/).
  const state = await createSharedState(env, {
    secret: sessionSecret,
    logger: logger.child({ component: 'shared-state' }),
    metrics: { errors: metrics.sharedStateErrors, degraded: metrics.sharedStateDegraded, flights: metrics.sharedFlights },
  });
  const spp = createSppClient(env, {
    baseUrl: options.sppUrl,
    ca: options.ca,
    metrics,
    shared: state,
    logger: logger.child({ component: 'spp-client' }),
    ...(tracing ? { extend: tracing.upstreamHooks } : {}),
  });
  if (!env.CURSOR_SECRET)
    logger.warn('CURSOR_SECRET is not set: cursors are signed with a random per-process key, so they do not survive a restart or work across replicas.');
  const codec = new CursorCodec(env.CURSOR_SECRET ? Buffer.from(env.CURSOR_SECRET, 'utf8') : randomBytes(32));
  const auth = createAuthenticator(env, options.auth, { spp, state, secret: sessionSecret, logger });
  const readiness = new Readiness({
    ping: () => spp.ping(Math.min(env.SPP_CONNECT_TIMEOUT_MS + env.SPP_RESPONSE_TIMEOUT_MS, 5_000)),
    ensureLoggedIn: () => auth.ensureServiceSession(),
    maxAgeMs: env.READY_MAX_AGE_MS,
  });
  const limits = queryLimitsOf(env);
  const pageSize = new PageSizeMemory(env.SPP_PAGE_SIZE_CAP, (cap, max) =>
    logger.warn(
      { cap, max },
      `SPP answered ${cap} records where more were asked and exist: it caps pages at ${cap}, so larger windows are read as parallel pages of ${cap} from now on.`,
    ),
  );
  const actions = new Actions({
    spp,
    store: state.idempotency(),
    mode: options.auth.mode,
    allowMutations: env.GATEWAY_ALLOW_MUTATIONS,
    windowMs: env.IDEMPOTENCY_WINDOW_MS,
    sessionWaitMs: env.ACTION_SESSION_WAIT_MS,
  });
  const contextDeps: ContextDeps = {
    spp,
    auth,
    codec,
    pageSize,
    fanoutConcurrency: env.SPP_FANOUT_CONCURRENCY,
    defaultPageSize: env.PAGE_DEFAULT_SIZE,
    maxPageSize: env.PAGE_MAX_SIZE,
    actions,
  };
  const { live, metrics: liveMetrics } = createLiveService(env, { spp, pageSize, registry: metrics.registry, logger: logger.child({ component: 'live' }) });

  const httpServer = createHttpServer(env);
  const corsSettings = corsSettingsFor(env, options.embeddedSimulator ?? false, env.NODE_ENV === 'production');
  const documents = createDocumentStore(env.GRAPHQL_DOCUMENT_CACHE_MB * 2 ** 20, { maxTokens: limits.maxTokens });
  const schema = createSchema();
  const formatError = createErrorFormatter(logger);
  const subscriptions = createSubscriptionTransports(httpServer, {
    schema,
    auth,
    live,
    metrics: liveMetrics,
    logger: logger.child({ component: 'subscriptions' }),
    limits: subscriptionLimitsOf(env, limits),
    allowedOrigins: env.SUBSCRIPTION_ALLOWED_ORIGINS ?? corsSettings.origins,
    context: (headers, requestId, log) => createContext(contextDeps, headers, requestId, log),
    formatError,
    path: '/graphql',
    trustedDocuments,
  });
  const plugins = [...(tracing ? [tracing.plugin<RequestContext>()] : []), subscriptions.plugin<RequestContext>()];
  const apollo = await startApollo({
    env,
    schema,
    httpServer,
    limits,
    documents,
    formatError,
    metrics,
    persistedQueries: state.persistedQueries(),
    allowArbitrary,
    plugins,
  });
  const front = await serveHttp(httpServer, {
    ...{ env, apollo, logger, metrics, readiness, auth, tracing, trustedDocuments, cors: corsSettings, mode: options.auth.mode },
    context: async (req, requestId, log) => createContext(contextDeps, req.headers, requestId, log),
    eventStream: subscriptions.eventStream,
  });

  const stop = async () => {
    readiness.startDraining();
    await apollo.stop();
    await auth.close(env.SHUTDOWN_LOGOUT_MS);
    spp.close();
    await state.close();
    await front.close();
    await tracing?.shutdown().catch((error: unknown) => logger.warn({ err: error }, 'tracing: the last spans could not be exported'));
  };
  return {
    url: `http://${front.host}:${front.port}/graphql`,
    port: front.port,
    ...{ httpServer, apollo, spp, auth, metrics, documents, state, live, readiness },
    metricsPort: front.metricsPort,
    checkUpstream: () => readiness.report(options.auth.mode === 'service-account', logger),
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
