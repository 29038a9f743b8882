/**
 * Prometheus metrics (prom-client), served at GET /metrics: what the gateway asks of SPP
 * and how much of it shared upstream work saved. Each gateway has its own registry, so
 * several gateways in one process (tests) do not mix their figures.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { BoundedLabels } from './labels.js';

export class GatewayMetrics {
  readonly registry = new Registry();
  /** Requests sent to SPP (retries included), by endpoint and outcome, and by server when there are several (issue 21). */
  readonly upstreamRequests: Counter<'endpoint' | 'outcome' | 'server'>;
  readonly upstreamDuration: Histogram<'endpoint' | 'server'>;
  /** GETs answered by joining an identical request already in flight (single flight). */
  readonly upstreamCoalesced: Counter;
  /** GETs answered from the short-lived answer cache (SPP_CACHE_TTL_MS). */
  readonly upstreamCacheHits: Counter;
  /** GraphQL requests answered with the response of an identical one in flight. */
  readonly requestsJoined: Counter;
  /** SPP logins, by outcome: a rising `ok` count means sessions keep expiring. */
  readonly upstreamLogins: Counter<'outcome'>;
  /** GraphQL operations executed, by operation name, type and outcome (`ok`, `error`: any error in the response). */
  readonly graphqlRequests: Counter<'operation' | 'type' | 'outcome'>;
  readonly graphqlDuration: Histogram<'operation' | 'type'>;
  /** GraphQL errors sent, by operation name and `extensions.code`. */
  readonly graphqlErrors: Counter<'operation' | 'code'>;
  /** Shared state (REDIS_URL): Redis operations that failed and fell back to per-process behaviour. */
  readonly sharedStateErrors: Counter<'operation'>;
  /** 1 while Redis is unreachable (each replica on its own). */
  readonly sharedStateDegraded: Gauge;
  /** Cross-replica single flights by outcome: led, joined, kept, local. */
  readonly sharedFlights: Counter<'outcome'>;
  /** GraphQL operations by consumer (key or user name, token fingerprint, `anonymous`) and outcome. */
  readonly consumerRequests: Counter<'consumer' | 'outcome'>;
  /** GraphQL operations by `apollographql-client-name` and `-version` (`(none)` when not sent). */
  readonly clientRequests: Counter<'client' | 'client_version'>;
  /** Cost points taken from each consumer's budget (docs/security.md "Budgets"). */
  readonly consumerCost: Counter<'consumer'>;
  /** Operations refused because the consumer's budget held less than their cost (429 RATE_LIMITED). */
  readonly rateLimited: Counter<'consumer'>;
  /** Consumer labels: at most 200 distinct, the rest `(other)`. */
  readonly consumerLabels = new BoundedLabels(200);
  /** Client name and version labels: at most 50 distinct each. */
  readonly clientLabels = new BoundedLabels(50);
  readonly clientVersionLabels = new BoundedLabels(50);

  constructor(options: { collectDefaults?: boolean } = {}) {
    if (options.collectDefaults ?? true) collectDefaultMetrics({ register: this.registry });
    this.upstreamRequests = new Counter({
      name: 'spp_upstream_requests_total',
      help: 'Requests sent to SPP, retries included.',
      labelNames: ['endpoint', 'outcome', 'server'],
      registers: [this.registry],
    });
    this.upstreamDuration = new Histogram({
      name: 'spp_upstream_request_duration_seconds',
      help: 'Time from sending a request to SPP to having its parsed answer, retries included.',
      labelNames: ['endpoint', 'server'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: [this.registry],
    });
    this.upstreamCoalesced = new Counter({
      name: 'spp_upstream_coalesced_total',
      help: 'GETs that joined an identical GET already in flight.',
      registers: [this.registry],
    });
    this.upstreamCacheHits = new Counter({ name: 'spp_upstream_cache_hits_total', help: 'GETs answered from the answer cache.', registers: [this.registry] });
    this.requestsJoined = new Counter({
      name: 'graphql_requests_joined_total',
      help: 'Requests answered with the response of an identical request in flight.',
      registers: [this.registry],
    });
    this.upstreamLogins = new Counter({ name: 'spp_upstream_logins_total', help: 'Logins to SPP.', labelNames: ['outcome'], registers: [this.registry] });
    this.graphqlRequests = new Counter({
      name: 'graphql_requests_total',
      help: 'GraphQL operations executed (identical requests that joined one in flight are counted in graphql_requests_joined_total).',
      labelNames: ['operation', 'type', 'outcome'],
      registers: [this.registry],
    });
    this.graphqlDuration = new Histogram({
      name: 'graphql_request_duration_seconds',
      help: 'Time from receiving a GraphQL operation to having its response, by operation.',
      labelNames: ['operation', 'type'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: [this.registry],
    });
    this.sharedStateErrors = new Counter({
      name: 'shared_state_errors_total',
      help: 'Redis operations that failed or timed out; each fell back to per-process behaviour.',
      labelNames: ['operation'],
      registers: [this.registry],
    });
    this.sharedStateDegraded = new Gauge({
      name: 'shared_state_degraded',
      help: '1 while Redis (REDIS_URL) is unreachable and each replica works on its own.',
      registers: [this.registry],
    });
    this.sharedFlights = new Counter({
      name: 'shared_flights_total',
      help: "Upstream GETs and logins through the cross-replica single flight, by outcome: led (this replica called SPP), joined (another replica's answer), kept (a stored answer), local (Redis unavailable or the leader failed).",
      labelNames: ['outcome'],
      registers: [this.registry],
    });
    this.consumerRequests = new Counter({
      name: 'graphql_consumer_requests_total',
      help: 'GraphQL operations by consumer (API key or user name, gateway-token fingerprint, anonymous; at most 200 distinct, the rest (other)) and outcome.',
      labelNames: ['consumer', 'outcome'],
      registers: [this.registry],
    });
    this.clientRequests = new Counter({
      name: 'graphql_client_requests_total',
      help: 'GraphQL operations by apollographql-client-name and -version ((none) when not sent; at most 50 distinct of each, the rest (other)).',
      labelNames: ['client', 'client_version'],
      registers: [this.registry],
    });
    this.consumerCost = new Counter({
      name: 'graphql_consumer_cost_points_total',
      help: "Cost points taken from each consumer's budget (queries and subscriptions).",
      labelNames: ['consumer'],
      registers: [this.registry],
    });
    this.rateLimited = new Counter({
      name: 'graphql_rate_limited_total',
      help: "Operations refused with RATE_LIMITED because the consumer's budget held less than their cost.",
      labelNames: ['consumer'],
      registers: [this.registry],
    });
    this.graphqlErrors = new Counter({
      name: 'graphql_errors_total',
      help: 'GraphQL errors sent to clients, by extensions.code.',
      labelNames: ['operation', 'code'],
      registers: [this.registry],
    });
  }

  /**
   * Each SPP server's state (issue 21), read at every scrape: `spp_server_up{server}` (1 UP,
   * 0 DOWN or MISCONFIGURED), `spp_server_status{server,status}` (1 for the current status) and
   * `spp_server_last_contact_timestamp_seconds{server}` (when it last answered, even with a refusal).
   * A server the gateway has not contacted yet has no series (a scrape sends SPP nothing).
   */
  watchServers(read: () => ReadonlyArray<{ name: string; status: string; lastContact: number | null }>): void {
    const registers = [this.registry];
    new Gauge({
      name: 'spp_server_up',
      help: 'Whether each SPP server answers as it should: 1 UP, 0 DOWN or MISCONFIGURED (as sppServers shows).',
      labelNames: ['server'],
      registers,
      collect() {
        for (const s of read()) this.set({ server: s.name }, s.status === 'UP' ? 1 : 0);
      },
    });
    new Gauge({
      name: 'spp_server_status',
      help: "Each SPP server's status: 1 for the status it has now (UP, DOWN, MISCONFIGURED), 0 for the others.",
      labelNames: ['server', 'status'],
      registers,
      collect() {
        for (const s of read()) for (const status of SERVER_STATUSES) this.set({ server: s.name, status }, s.status === status ? 1 : 0);
      },
    });
    new Gauge({
      name: 'spp_server_last_contact_timestamp_seconds',
      help: 'When each SPP server last answered (Unix time, seconds); absent while it never has.',
      labelNames: ['server'],
      registers,
      collect() {
        for (const s of read()) if (s.lastContact !== null) this.set({ server: s.name }, s.lastContact / 1000);
      },
    });
  }
}

const SERVER_STATUSES = ['UP', 'DOWN', 'MISCONFIGURED'] as const;
