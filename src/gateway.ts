/**
 * The composition root: builds each room from the configuration and wires what they export.
 * No logic of its own. `main.ts` runs it; tests build it the same way on port 0 against the
 * in-process simulator.
 */
import type http from 'node:http';
import type { ApolloServer } from '@apollo/server';
import type { SpanExporter } from '@opentelemetry/sdk-trace-base';
import type { Logger } from 'pino';
import { createActions } from './actions/index.js';
import { allowArbitraryOf, drainMsOf, type Env } from './config.js';
import { createSchema, startApollo, queryLimitsOf } from './graphql/apollo.js';
import { createContexts, type RequestContext } from './graphql/context.js';
import { createCostBudget } from './graphql/budget.js';
import { createDocumentStore, type DocumentCache } from './graphql/document-cache.js';
import { createErrorFormatter } from './graphql/error-masking.js';
import { loadTrustedDocuments } from './graphql/trusted-documents.js';
import { corsSettingsFor } from './http/cors.js';
import { readinessOver, type Readiness } from './http/readiness.js';
import { createHttpServer, serveHttp } from './http/server.js';
import { createAuthenticator, type Authenticator, type AuthSettings } from './identity/index.js';
import { createLiveService } from './live/index.js';
import type { LiveService } from './live/service.js';
import { setupObservability, type GatewayMetrics } from './observability/index.js';
import { PageSizeMemory } from './pagination/window.js';
import { createSharedState, type SharedState } from './state/index.js';
import { createSubscriptionTransports } from './transports/index.js';
import type { SppClient } from './upstream/index.js';
import { createSppServers, serverStates, type SppServerSettings } from './upstream/servers.js';

export { typeDefs } from './graphql/apollo.js';

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
  /** Several SPP servers in one graph (issue 21; SPP_SERVERS_FILE, SIM_SERVERS); without it, one server "default" at `sppUrl`. */
  servers?: SppServerSettings[];
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
  const secret = env.SESSION_SECRET ? Buffer.from(env.SESSION_SECRET, 'utf8') : undefined;
  // The one place that decides between one process and several replicas (src/state/).
  const stateMetrics = { errors: metrics.sharedStateErrors, degraded: metrics.sharedStateDegraded, flights: metrics.sharedFlights };
  const state = await createSharedState(env, { secret, logger: logger.child({ component: 'shared-state' }), metrics: stateMetrics });
  const hooks = tracing ? { extend: tracing.upstreamHooks } : {};
  const settings = options.servers ?? [{ name: 'default', url: options.sppUrl, ...(options.ca ? { ca: options.ca } : {}) }];
  const sppServers = createSppServers(env, settings, { metrics, shared: state, logger: logger.child({ component: 'spp-client' }), ...hooks });
  const spp = sppServers[0]!.spp;
  // One Authenticator: who calls is decided once; it speaks to each server as that server knows the caller.
  const auth = createAuthenticator(env, options.auth, { servers: sppServers, state, secret, logger });
  await auth.revocationsRead();
  const readiness = readinessOver(env, sppServers, (server) => auth.ensureServiceSession(server));
  metrics.watchServers(() => serverStates(sppServers));
  // One per server: a lower cap SPP shows to one query holds for every query and feed on that server.
  const several = sppServers.length > 1;
  const servers = sppServers.map((s) => ({
    ...{ ...s, pageSize: PageSizeMemory.logged(env.SPP_PAGE_SIZE_CAP, several ? logger.child({ server: s.name }) : logger) },
    actions: createActions(env, { spp: s.spp, state, ...(several ? { server: s.name } : {}) }),
  }));
  const context = createContexts(env, { auth, servers }, logger);
  const { live, metrics: liveMetrics } = createLiveService(env, { servers, state, registry: metrics.registry, logger: logger.child({ component: 'live' }) });

  const httpServer = createHttpServer(env);
  const cors = corsSettingsFor(env, options.embeddedSimulator ?? false, env.NODE_ENV === 'production');
  const limits = queryLimitsOf(env, servers.length);
  const documents = createDocumentStore(env.GRAPHQL_DOCUMENT_CACHE_MB * 2 ** 20, { maxTokens: limits.maxTokens });
  const schema = createSchema();
  const formatError = createErrorFormatter(logger);
  const budget = createCostBudget(env, state.budgets(), metrics);
  // One store of automatic persisted queries for queries and subscriptions (none where only trusted documents run).
  const persistedQueries = allowArbitrary ? state.persistedQueries() : undefined;
  const subscriptions = createSubscriptionTransports(httpServer, env, {
    persistedQueries,
    ...{ schema, auth, live, metrics: liveMetrics, queryLimits: limits, corsOrigins: cors.origins, context, formatError, trustedDocuments, budget },
    logger: logger.child({ component: 'subscriptions' }),
  });
  const plugins = [...(tracing ? [tracing.plugin<RequestContext>()] : []), subscriptions.plugin<RequestContext>()];
  const apollo = await startApollo({ env, schema, httpServer, limits, documents, formatError, metrics, persistedQueries, allowArbitrary, plugins, budget });
  const front = await serveHttp(httpServer, {
    ...{ env, apollo, logger, metrics, readiness, auth, tracing, trustedDocuments, cors, mode: options.auth.mode },
    context: async (req, requestId, log) => context(req.headers, requestId, log, auth.clientAddress(req)),
    eventStream: (req, res) => subscriptions.eventStream(req, res),
    multipart: subscriptions.multipart,
  });

  const stop = async () => {
    readiness.startDraining();
    await apollo.stop();
    await auth.close(env.SHUTDOWN_LOGOUT_MS);
    for (const s of servers) s.spp.close();
    await state.close();
    await front.close();
    await tracing?.shutdown().catch((error: unknown) => logger.warn({ err: error }, 'tracing: the last spans could not be exported'));
  };
  return {
    ...{ url: `http://${front.host}:${front.port}/graphql`, port: front.port, metricsPort: front.metricsPort },
    ...{ httpServer, apollo, spp, auth, metrics, documents, state, live, readiness, stop },
    checkUpstream: () => readiness.report(options.auth.mode === 'service-account', logger),
    shutdown: () => readiness.drain(drainMsOf(env), logger).then(stop),
  };
}
