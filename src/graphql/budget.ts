/**
 * A cost budget per consumer, as GitHub's and Shopify's GraphQL APIs have: each consumer
 * (src/identity/consumer.ts) has a bucket of QUOTA_POINTS that refills QUOTA_RESTORE_PER_S points a
 * second (a key's own `budget` overrides both). An operation's cost, computed once by the cost
 * limit (limits.ts), is taken before execution; a bucket holding less answers 429 RATE_LIMITED
 * with `Retry-After`. Subscriptions pay their cost when they subscribe (src/transports/).
 *
 * Every GraphQL answer says where the caller stands, in Shopify's shape
 * (`extensions.cost { requestedQueryCost, throttleStatus { maximumAvailable, currentlyAvailable,
 * restoreRate } }`) and in the IETF's header fields, draft-ietf-httpapi-ratelimit-headers-10
 * (Structured Fields): `RateLimit-Policy: "cost";q=<points>;w=<seconds to refill from empty>`
 * and `RateLimit: "cost";r=<points left>;t=<seconds until full>`.
 *
 * The buckets live in the shared state (src/state/budgets.ts): with REDIS_URL one per consumer
 * for every replica, each replica's own while Redis is down.
 */
import type { ApolloServerPlugin, BaseContext } from '@apollo/server';
import type { Env } from '../config.js';
import { ErrorCode, gatewayError, rateLimited } from '../errors.js';
import type { Consumer } from '../identity/consumer.js';
import type { GatewayMetrics } from '../observability/metrics.js';
import type { BucketPolicy, BudgetStore, Taken } from '../state/index.js';

/** Where a consumer stands after a charge: what the cost extension and the headers report. */
export interface Throttle {
  cost: number;
  policy: BucketPolicy;
  taken: Taken;
}

/** A context that can name its consumer (RequestContext). */
export interface ConsumerContext extends BaseContext {
  consumer(): Consumer;
}

/** Counted per consumer (the label bounded by the caller): points charged and operations refused. */
export interface BudgetMetrics {
  charged(consumer: Consumer, cost: number): void;
  limited(consumer: Consumer): void;
}

export class CostBudget {
  /** The last charge of each request's context: read when the answer is sent. */
  private readonly charges = new WeakMap<object, Throttle>();

  constructor(
    private readonly store: BudgetStore,
    private readonly defaults: BucketPolicy,
    private readonly metrics?: BudgetMetrics,
  ) {}

  policyOf(consumer: Consumer): BucketPolicy {
    return consumer.budget ?? this.defaults;
  }

  /**
   * Takes `cost` from the consumer's bucket. Throws RATE_LIMITED when it holds less, and
   * QUERY_TOO_COMPLEX when the cost exceeds the whole bucket (waiting would never help).
   */
  async charge(consumer: Consumer, cost: number, holder?: object): Promise<Throttle> {
    const policy = this.policyOf(consumer);
    if (cost > policy.points) {
      throw gatewayError(
        ErrorCode.QUERY_TOO_COMPLEX,
        `The operation costs ${cost} points, more than this caller's whole budget of ${policy.points}: ask for fewer sessions (first/last) or fewer nested fields.`,
      );
    }
    const throttle: Throttle = { cost, policy, taken: await this.store.take(consumer.key, policy, cost) };
    if (holder) this.charges.set(holder, throttle);
    if (!throttle.taken.allowed) {
      this.metrics?.limited(consumer);
      throw rateLimited(cost, throttle.taken.available, retryAfterSeconds(throttle.taken));
    }
    this.metrics?.charged(consumer, cost);
    return throttle;
  }

  /** The consumer's bucket now, without taking anything. */
  async read(consumer: Consumer): Promise<Throttle> {
    const policy = this.policyOf(consumer);
    return { cost: 0, policy, taken: await this.store.take(consumer.key, policy, 0) };
  }

  /** For the cost limit (limits.ts): charges the request's consumer once its cost is known. */
  charger<T extends ConsumerContext>(): (context: T, cost: number) => Promise<void> {
    return async (context, cost) => {
      await this.charge(context.consumer(), cost, context);
    };
  }

  /** Puts `extensions.cost` and the RateLimit header fields (and `Retry-After` when refused) on every answer. */
  plugin<T extends ConsumerContext>(): ApolloServerPlugin<T> {
    return {
      requestDidStart: async () => ({
        willSendResponse: async ({ contextValue, response }) => {
          const throttle = this.charges.get(contextValue) ?? (await this.read(contextValue.consumer()));
          for (const [name, value] of rateLimitHeaders(throttle)) response.http.headers.set(name, value);
          if (response.body.kind === 'single') {
            const result = response.body.singleResult;
            result.extensions = { ...result.extensions, cost: costExtension(throttle) };
          }
        },
      }),
    };
  }
}

/** Whole seconds until the refused cost is available (HTTP's Retry-After has no fractions). */
export function retryAfterSeconds(taken: Taken): number {
  return Number.isFinite(taken.retryAfterMs) ? Math.max(1, Math.ceil(taken.retryAfterMs / 1000)) : 0;
}

/** Shopify's `extensions.cost`. */
export function costExtension({ cost, policy, taken }: Throttle) {
  return {
    requestedQueryCost: cost,
    throttleStatus: { maximumAvailable: policy.points, currentlyAvailable: Math.floor(taken.available), restoreRate: policy.restorePerSecond },
  };
}

/** draft-ietf-httpapi-ratelimit-headers-10: the policy, where the consumer stands, and Retry-After (RFC 9110) when refused. */
export function rateLimitHeaders({ policy, taken }: Throttle): Array<[string, string]> {
  const window = policy.restorePerSecond > 0 ? Math.ceil(policy.points / policy.restorePerSecond) : 0;
  const headers: Array<[string, string]> = [
    ['ratelimit-policy', `"cost";q=${policy.points}${window > 0 ? `;w=${window}` : ''}`],
    ['ratelimit', `"cost";r=${Math.floor(taken.available)}${Number.isFinite(taken.fullInMs) ? `;t=${Math.ceil(taken.fullInMs / 1000)}` : ''}`],
  ];
  if (!taken.allowed && Number.isFinite(taken.retryAfterMs)) headers.push(['retry-after', String(retryAfterSeconds(taken))]);
  return headers;
}

/** QUOTA_POINTS and QUOTA_RESTORE_PER_S; undefined when QUOTA_POINTS=0 (budgets off). Counted on /metrics per consumer. */
export function createCostBudget(env: Pick<Env, 'QUOTA_POINTS' | 'QUOTA_RESTORE_PER_S'>, store: BudgetStore, metrics: GatewayMetrics): CostBudget | undefined {
  if (env.QUOTA_POINTS === 0) return undefined;
  return new CostBudget(
    store,
    { points: env.QUOTA_POINTS, restorePerSecond: env.QUOTA_RESTORE_PER_S },
    {
      charged: (consumer, cost) => metrics.consumerCost.inc({ consumer: metrics.consumerLabels.of(consumer.consumer) }, cost),
      limited: (consumer) => metrics.rateLimited.inc({ consumer: metrics.consumerLabels.of(consumer.consumer) }),
    },
  );
}
