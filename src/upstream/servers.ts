/**
 * The SPP servers of one gateway (issue 21): one SppClient each, with its own timeouts, page
 * cap, retries, logins, single flight and cache, and what the gateway last saw of it.
 */
import type { Logger } from 'pino';
import type { Env } from '../config.js';
import { codeOf } from '../errors.js';
import type { SharedState } from '../state/index.js';
import { createSppClient } from './index.js';
import type { SppClient, SppClientOptions, UpstreamMetrics } from './spp-client.js';

export interface SppServerSettings {
  name: string;
  url: string;
  ca?: string | Buffer;
  tlsInsecure?: boolean;
  labels?: Record<string, string>;
  /** Service-account mode: this server's account (SPP_SERVERS_FILE); without it, SPP_USERNAME's. */
  serviceAccount?: { username: string; password: string };
}

export type ServerStatus = 'UP' | 'DOWN' | 'MISCONFIGURED';

/** What the gateway last saw of a server: answers record UP, failures DOWN or MISCONFIGURED. */
export class ServerHealth {
  status: ServerStatus = 'DOWN';
  lastContact: number | null = null;
  version: string | null = null;
  private seen = false;

  constructor(private readonly now: () => number = Date.now) {}

  /** Whether anything was recorded yet (sppServers pings a server it never heard of). */
  get known(): boolean {
    return this.seen;
  }

  ok(): void {
    this.seen = true;
    this.status = 'UP';
    this.lastContact = this.now();
  }

  failed(error: unknown): void {
    this.seen = true;
    const code = codeOf(error as { extensions?: Record<string, unknown> });
    // SPP answered, but refused who we are: a configuration fault, not an outage.
    if (code === 'UNAUTHENTICATED' || code === 'FORBIDDEN' || code === 'UPSTREAM_MISCONFIGURED') {
      this.status = 'MISCONFIGURED';
      this.lastContact = this.now();
    } else if (code === 'UPSTREAM_UNAVAILABLE' || code === 'UPSTREAM_TIMEOUT' || code === 'UNKNOWN') {
      this.status = 'DOWN';
    }
  }

  /**
   * Pings the server (recording its version), then runs `login` there (the service account's,
   * a no-op in pass-through mode), recording both outcomes; rejects with the first failure.
   * Readiness and `sppServers` ask the same question this way.
   */
  async probe(spp: SppClient, timeoutMs: number, login: () => Promise<void>): Promise<void> {
    let version: string | null;
    try {
      version = await spp.ping(timeoutMs);
    } catch (error) {
      this.failed(error);
      throw error;
    }
    // A ping proves SPP answers, not that it accepts the gateway: a MISCONFIGURED server stays so until a login succeeds.
    if (this.status === 'MISCONFIGURED') this.lastContact = this.now();
    else this.ok();
    if (version !== null) this.version = version;
    await this.track(login());
  }

  /** Records the outcome of `task` and passes it on. */
  track<T>(task: Promise<T>): Promise<T> {
    return task.then(
      (value) => {
        this.ok();
        return value;
      },
      (error: unknown) => {
        this.failed(error);
        throw error;
      },
    );
  }
}

export interface SppServer {
  readonly name: string;
  /** Host and port only: what sppServers shows. */
  readonly host: string;
  readonly spp: SppClient;
  readonly health: ServerHealth;
  readonly labels: Readonly<Record<string, string>>;
  readonly serviceAccount?: { username: string; password: string };
}

/** One SppClient per server, each with the SPP_* settings of the environment (tlsInsecure per server). */
export function createSppServers(
  env: Env,
  servers: readonly SppServerSettings[],
  deps: { metrics: UpstreamMetrics; shared: SharedState; logger: Logger; extend?: SppClientOptions['extend'] },
): SppServer[] {
  return servers.map((s) => ({
    name: s.name,
    host: new URL(s.url).host,
    labels: s.labels ?? {},
    health: new ServerHealth(),
    ...(s.serviceAccount ? { serviceAccount: s.serviceAccount } : {}),
    spp: createSppClient(
      { ...env, SPP_TLS_INSECURE: s.tlsInsecure ?? env.SPP_TLS_INSECURE },
      s.url,
      // The first server logs as `spp-client` (as with one server); the others name themselves.
      // Several servers: every server's requests carry its name in the metrics, and replicas share
      // answers per SPP server (by its URL, whatever a gateway names it); one server keeps its keys.
      servers.length > 1
        ? { ...deps, ca: s.ca, logger: deps.logger.child({ server: s.name }), metrics: labelled(deps.metrics, s.name), sharedScope: `${s.url} ` }
        : { ...deps, ca: s.ca, logger: deps.logger },
    ),
  }));
}

/** `metrics` with the request series labelled by `server`. */
function labelled(metrics: UpstreamMetrics, server: string): UpstreamMetrics {
  return {
    ...metrics,
    upstreamRequests: { inc: (labels) => metrics.upstreamRequests.inc({ ...labels, server }) },
    upstreamDuration: { startTimer: (labels) => metrics.upstreamDuration.startTimer({ ...labels, server }) },
  };
}

/**
 * The state of each server the gateway has heard from (metrics): a scrape sends SPP nothing, so a
 * server not contacted yet (start-up check, readiness probe, any request) is left out until it is.
 */
export function serverStates(servers: readonly SppServer[]): Array<{ name: string; status: ServerStatus; lastContact: number | null }> {
  return servers.filter((s) => s.health.known).map((s) => ({ name: s.name, status: s.health.status, lastContact: s.health.lastContact }));
}
