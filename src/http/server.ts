/**
 * The gateway's node:http servers: the main port (GraphQL, event streams, probes, the explorer,
 * /metrics unless METRICS_PORT moves it) and, with METRICS_PORT, a second port for /metrics alone.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ApolloServer } from '@apollo/server';
import type { Logger } from 'pino';
import { introspectionOf, type Env } from '../config.js';
import type { OperationTypeHolder } from '../graphql/identical-requests.js';
import type { TrustedDocuments } from '../graphql/trusted-documents.js';
import type { Authenticator, AuthSettings } from '../identity/index.js';
import { clientOf, requestConsumer, sharingKey } from '../identity/consumer.js';
import type { GatewayMetrics, Tracing } from '../observability/index.js';
import type { CorsSettings } from './cors.js';
import { createAuthRoutes } from './auth-routes.js';
import { createCorsHandler } from './cors.js';
import { createExplorer } from './explorer.js';
import {
  createHttpHandler,
  createRoutesHandler,
  healthRoute,
  metricsRoute,
  sendBody,
  sendJsonResponse,
  type HttpHandlerOptions,
  type Route,
} from './handler.js';
import type { Readiness } from './readiness.js';
import { schemaRoute } from './schema-route.js';
import { typeDefs } from '../graphql/apollo.js';

const UNTRACED_PATHS = new Set(['/healthz', '/readyz', '/metrics']);

/**
 * Each connection holds a socket and a file descriptor, so a client that sends slowly
 * (slowloris) must not hold one for long: headers must arrive within HTTP_HEADERS_TIMEOUT_MS
 * (10 s: a real client sends them at once), the whole request, body included, within
 * HTTP_REQUEST_TIMEOUT_MS (30 s: MAX_BODY_BYTES at modem speed); answering may take longer
 * (SPP's own budgets apply). Idle keep-alive sockets close after HTTP_KEEP_ALIVE_TIMEOUT_MS,
 * 65 s, longer than the 60 s idle timeout of common load balancers, so the balancer closes
 * first and never sends on a socket the gateway is closing. Node checks these every
 * connectionsCheckingInterval (30 s by default, far coarser than the budgets): 1 s here.
 */
export function createHttpServer(env: Env): http.Server {
  const server = http.createServer({
    headersTimeout: env.HTTP_HEADERS_TIMEOUT_MS,
    requestTimeout: env.HTTP_REQUEST_TIMEOUT_MS,
    connectionsCheckingInterval: 1_000,
  });
  server.keepAliveTimeout = env.HTTP_KEEP_ALIVE_TIMEOUT_MS;
  return server;
}

export interface FrontOptions<TContext extends OperationTypeHolder> {
  env: Env;
  apollo: ApolloServer<TContext>;
  logger: Logger;
  readiness: Readiness;
  cors: CorsSettings;
  trustedDocuments: TrustedDocuments | undefined;
  auth: Authenticator;
  mode: AuthSettings['mode'];
  metrics: GatewayMetrics;
  tracing: Tracing | undefined;
  context: HttpHandlerOptions<TContext>['context'];
  eventStream: NonNullable<HttpHandlerOptions<TContext>['eventStream']>;
  multipart?: HttpHandlerOptions<TContext>['multipart'];
}

export interface Front {
  /** The host and port callers reach, as started. */
  host: string;
  port: number;
  metricsPort: number | undefined;
  /** Closes the metrics port (the main port is drained by Apollo's plugin). */
  close(): Promise<void>;
}

/** Attaches the request handler to `server`, listens on HOST:PORT (and METRICS_PORT). */
export async function serveHttp<TContext extends OperationTypeHolder>(server: http.Server, options: FrontOptions<TContext>): Promise<Front> {
  const { env, logger, readiness, auth, metrics, tracing } = options;
  const registry = metrics.registry;
  const routes = new Map<string, Route>([
    [
      '/readyz',
      async (_req, res) => {
        const state = await readiness.check();
        sendJsonResponse(
          res,
          state.ready ? 200 : 503,
          state.ready
            ? { status: 'ready', checkedAt: state.checkedAt }
            : { status: 'not ready', reason: state.reason, ...(state.code ? { code: state.code } : {}) },
        );
      },
    ],
  ]);
  const signIn = createAuthRoutes(auth, options.cors.origins);
  for (const [path, route] of signIn.routes) routes.set(path, route);
  if (env.NODE_ENV === 'production' && !env.METRICS_TOKEN && env.METRICS_PORT === undefined) {
    logger.warn(
      '/metrics is public: anyone who reaches this port reads the gateway metrics (consumer names, operation names, SPP endpoints). Set METRICS_TOKEN, or METRICS_PORT to serve them on a port that stays inside the cluster.',
    );
  }
  routes.set(
    '/schema.graphql',
    schemaRoute({
      sdl: typeDefs,
      introspection: introspectionOf(env),
      token: env.SCHEMA_TOKEN,
      compressionThresholdBytes: env.COMPRESSION_THRESHOLD_BYTES,
    }),
  );
  const explorerOn = env.GRAPHQL_LANDING_PAGE ?? env.NODE_ENV !== 'production';
  const metricsOnOwnPort = env.METRICS_PORT !== undefined;
  const cors = createCorsHandler(options.cors);
  const handler = createHttpHandler({
    apollo: options.apollo,
    logger,
    ...(metricsOnOwnPort ? {} : { metrics: registry }),
    ...(env.METRICS_TOKEN ? { metricsToken: env.METRICS_TOKEN } : {}),
    routes,
    ...(cors ? { cors } : {}),
    ...(explorerOn
      ? { explorer: createExplorer('/graphql', (req, res, status, body) => sendBody(req, res, status, body, env.COMPRESSION_THRESHOLD_BYTES)) }
      : {}),
    ...(options.trustedDocuments ? { trustedDocuments: options.trustedDocuments } : {}),
    compressionThresholdBytes: env.COMPRESSION_THRESHOLD_BYTES,
    // RFC 9110 §11.6.1: the schemes a 401 accepts.
    wwwAuthenticate:
      options.mode === 'service-account'
        ? 'Bearer realm="spp-jobsession-gateway"'
        : 'Basic realm="spp-jobsession-gateway", Bearer realm="spp-jobsession-gateway"',
    // Probes and scrapes arrive every few seconds from machines: traces are for callers' requests.
    ...(tracing ? { around: (req, res, handle) => (UNTRACED_PATHS.has((req.url ?? '/').split('?')[0]!) ? handle() : tracing.around(req, res, handle)) } : {}),
    admit: signIn.admit,
    // Identical requests share one execution only within one consumer and its roles (issue 22, item 6).
    identityOf: (req) => sharingKey(auth, req.headers, auth.clientAddress(req)),
    describe: (req) => {
      const client = clientOf(req.headers);
      const address = auth.clientAddress(req);
      return {
        consumer: requestConsumer(auth, req.headers, address).consumer,
        // Behind TRUSTED_PROXIES the client's, not the proxy's: what an operator looks for in the log.
        ...(address ? { address } : {}),
        ...(client.name ? { client: client.name } : {}),
        ...(client.version ? { clientVersion: client.version } : {}),
      };
    },
    verified: (req) => auth.verified(req.headers),
    onJoin: () => metrics.requestsJoined.inc(),
    onRefused: (code) => {
      metrics.graphqlRequests.inc({ operation: '(invalid)', type: 'unknown', outcome: 'error' });
      metrics.graphqlErrors.inc({ operation: '(invalid)', code });
    },
    limits: { maxDocumentBytes: env.MAX_DOCUMENT_BYTES, maxBodyBytes: env.MAX_BODY_BYTES, maxBatch: env.MAX_BATCH },
    context: options.context,
    eventStream: options.eventStream,
    multipart: options.multipart,
  });
  // The handler answers its own errors; this catches only what escapes it (e.g. the tracing span).
  server.on('request', (req, res) => {
    handler(req, res).catch((error: unknown) => logger.error({ err: error }, 'unexpected error around the HTTP handler'));
  });
  const port = await listen(server, env.PORT, env.HOST);
  let metricsServer: http.Server | undefined;
  if (metricsOnOwnPort) {
    // Only /metrics (and /healthz) on this port: it can stay inside the cluster while the main port is public.
    metricsServer = http.createServer(
      createRoutesHandler(
        new Map([
          ['/metrics', metricsRoute(registry, env.METRICS_TOKEN)],
          ['/healthz', healthRoute],
        ]),
        logger,
      ),
    );
  }
  const metricsPort = metricsServer ? await listen(metricsServer, env.METRICS_PORT!, env.HOST) : undefined;
  return {
    host: env.HOST === '0.0.0.0' || env.HOST === '::' ? 'localhost' : env.HOST,
    port,
    metricsPort,
    async close() {
      if (!metricsServer) return;
      metricsServer.closeAllConnections();
      await new Promise((resolve) => metricsServer.close(resolve));
    },
  };
}

function listen(server: http.Server, port: number, host: string): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve((server.address() as AddressInfo).port));
  });
}
