/**
 * Readiness (`GET /readyz`), as load balancers and orchestrators use it: 200 only when SPP
 * answered recently and, in service-account mode, the service account is logged in; 503 with
 * a JSON reason otherwise. `/healthz` stays liveness (the process answers), so an SPP outage
 * takes the gateway out of rotation without getting it restarted.
 *
 * A probe runs when the last success is older than `maxAgeMs`, one at a time however many
 * probes arrive: a busy health checker never multiplies SPP traffic. On SIGTERM the gateway
 * first drains: /readyz answers 503 while requests are still served, so the load balancer
 * stops sending traffic before the port closes.
 */
import type { GraphQLError } from 'graphql';
import type { Logger } from 'pino';
import type { Env } from '../config.js';
import { ErrorCode } from '../errors.js';
import type { SppServer } from '../upstream/servers.js';

export interface ReadinessOptions {
  /** Resolves when SPP answers (GET /api/lifecycle/ping). */
  ping: () => Promise<void>;
  /** Resolves when the service account holds an SPP session (logs in if needed); a no-op in pass-through mode. */
  ensureLoggedIn: () => Promise<void>;
  /** A success younger than this answers without a new probe. */
  maxAgeMs: number;
  now?: () => number;
}

export type ReadinessState = { ready: true; checkedAt: string } | { ready: false; reason: string; code?: string };

export class Readiness {
  private lastOk = Number.NEGATIVE_INFINITY;
  private probe: Promise<ReadinessState> | undefined;
  private drainingSince: number | undefined;
  private readonly now: () => number;

  constructor(private readonly options: ReadinessOptions) {
    this.now = options.now ?? Date.now;
  }

  /** From now on /readyz answers 503 (shutdown has begun); requests are still served. */
  startDraining(): void {
    this.drainingSince ??= this.now();
  }

  get draining(): boolean {
    return this.drainingSince !== undefined;
  }

  async check(): Promise<ReadinessState> {
    if (this.draining) return { ready: false, reason: 'draining: the gateway is shutting down and finishes the requests it has' };
    if (this.now() - this.lastOk < this.options.maxAgeMs) return { ready: true, checkedAt: new Date(this.lastOk).toISOString() };
    this.probe ??= this.runProbe().finally(() => (this.probe = undefined));
    return this.probe;
  }

  private async runProbe(): Promise<ReadinessState> {
    try {
      await this.options.ping();
      await this.options.ensureLoggedIn();
      this.lastOk = this.now();
      return { ready: true, checkedAt: new Date(this.lastOk).toISOString() };
    } catch (error) {
      const code = (error as GraphQLError).extensions?.code as string | undefined;
      const reason =
        code === ErrorCode.UPSTREAM_MISCONFIGURED
          ? "SPP rejected the gateway's service account (or SPP_URL does not point at SPP)"
          : code === ErrorCode.UPSTREAM_TIMEOUT
            ? 'SPP did not answer in time'
            : code === ErrorCode.UPSTREAM_UNAVAILABLE
              ? 'SPP is unreachable'
              : 'SPP answered with an error';
      return { ready: false, reason, ...(code ? { code } : {}) };
    }
  }

  /** Checks SPP (and the service account) once at start-up and logs the outcome for the operator; never throws. */
  async report(serviceAccount: boolean, logger: Logger): Promise<boolean> {
    const state = await this.check();
    if (state.ready) logger.info(serviceAccount ? 'SPP answered and the service account is logged in' : 'SPP answered');
    else if (state.code === 'UPSTREAM_MISCONFIGURED')
      logger.error(
        { reason: state.reason },
        'SPP refuses the gateway: fix SPP_URL, SPP_USERNAME or SPP_PASSWORD; /readyz answers 503 and callers get UPSTREAM_MISCONFIGURED until then',
      );
    else logger.warn({ reason: state.reason }, 'SPP is not answering yet; the gateway runs and /readyz answers 503 until it does');
    return state.ready;
  }

  /** SIGTERM: 503 from now on, then wait `drainMs` while requests are still served (load balancers take the gateway out of rotation). */
  async drain(drainMs: number, logger: Logger): Promise<void> {
    this.startDraining();
    if (drainMs <= 0) return;
    logger.info({ drainMs }, 'draining: /readyz answers 503 while requests are still served');
    await new Promise((resolve) => setTimeout(resolve, drainMs));
  }
}

/**
 * One readiness probe over several SPP servers (issue 21): with `need` 'any', ready while at
 * least one server answers (and logs in); with 'all', only while every one does. The error of
 * a failed probe is the first failure's.
 */
export function probeServers(servers: ReadonlyArray<{ name: string; probe: () => Promise<void> }>, need: 'any' | 'all'): () => Promise<void> {
  return async () => {
    const outcomes = await Promise.allSettled(servers.map((s) => s.probe()));
    const failed = outcomes.flatMap((o, i) => (o.status === 'rejected' ? [{ name: servers[i]!.name, error: o.reason as unknown }] : []));
    if (failed.length === 0 || (need === 'any' && failed.length < servers.length)) return;
    // The first failure's error: its code says why (unreachable, refused, timed out).
    throw failed[0]!.error;
  };
}

/**
 * Readiness over the gateway's SPP servers (issue 21): each is pinged (recording its health) and,
 * in service-account mode, logged in to; READY_SERVERS says whether any or all must pass.
 */
export function readinessOver(env: Env, servers: readonly SppServer[], ensureLoggedIn: (server: string) => Promise<void>): Readiness {
  const pingMs = Math.min(env.SPP_CONNECT_TIMEOUT_MS + env.SPP_RESPONSE_TIMEOUT_MS, 5_000);
  const probes = servers.map((s) => ({ name: s.name, probe: () => s.health.probe(s.spp, pingMs, () => ensureLoggedIn(s.name)) }));
  return new Readiness({ ping: probeServers(probes, env.READY_SERVERS), ensureLoggedIn: () => Promise.resolve(), maxAgeMs: env.READY_MAX_AGE_MS });
}
