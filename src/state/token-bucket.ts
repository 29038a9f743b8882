/**
 * Token-bucket arithmetic for cost budgets (GitHub's and Shopify's GraphQL APIs work this way):
 * a bucket holds at most `points` and refills `restorePerSecond` points a second, continuously;
 * an operation takes its cost, or is refused when the bucket holds less. Pure: the memory store
 * calls it, and the Redis script (redis-budget.ts) does the same arithmetic on Redis's clock.
 */

/** A bucket's size and refill rate (QUOTA_POINTS, QUOTA_RESTORE_PER_S, or a key's own budget). */
export interface BucketPolicy {
  points: number;
  restorePerSecond: number;
}

/** What a bucket held at a moment (ms since the epoch). A bucket never seen is full. */
export interface BucketState {
  available: number;
  at: number;
}

/** The outcome of taking `cost` from a bucket. */
export interface Taken {
  allowed: boolean;
  /** Points left after the take (before it, when refused). */
  available: number;
  /** When refused: milliseconds until the bucket holds `cost` (Infinity when `cost` exceeds its size); 0 when allowed. */
  retryAfterMs: number;
  /** Milliseconds until the bucket is full again. */
  fullInMs: number;
  state: BucketState;
}

/** The bucket's content at `now`: what it held, plus what refilled since, up to its size. */
export function refill(state: BucketState | undefined, policy: BucketPolicy, now: number): number {
  if (!state) return policy.points;
  const elapsed = Math.max(0, now - state.at);
  return Math.min(policy.points, state.available + (elapsed * policy.restorePerSecond) / 1000);
}

/**
 * Refills are fractions of a point summed in floating point: after waiting exactly the
 * `retryAfterMs` a refusal named, a bucket can hold `cost` minus 1e-13. This much below counts as
 * enough, so a client that waits as told is never refused again (found by the property test).
 */
const ROUNDING = 1e-9;

/** Takes `cost` points at `now` (a cost of 0 only reads the bucket). */
export function take(state: BucketState | undefined, policy: BucketPolicy, cost: number, now: number): Taken {
  const before = refill(state, policy, now);
  const allowed = cost <= before + ROUNDING;
  return outcome(allowed, allowed ? Math.max(0, before - cost) : before, cost, policy, now);
}

/** The waits that follow from a take's result (also for the Redis script's answer). */
export function outcome(allowed: boolean, available: number, cost: number, policy: BucketPolicy, now: number): Taken {
  const msFor = (missing: number) =>
    missing <= 0 ? 0 : policy.restorePerSecond > 0 ? Math.ceil((missing * 1000) / policy.restorePerSecond) : Number.POSITIVE_INFINITY;
  return {
    allowed,
    available,
    retryAfterMs: allowed ? 0 : cost > policy.points ? Number.POSITIVE_INFINITY : msFor(cost - available),
    fullInMs: msFor(policy.points - available),
    state: { available, at: now },
  };
}
