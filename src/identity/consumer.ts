/**
 * The consumer: who a request is charged to and named after in logs, audit lines and metrics.
 * Budgets (src/graphql/budget.ts) and subscription limits (src/live/service.ts) count per
 * consumer: each gateway token, user, session or anonymous address is its own, even when they
 * all speak to SPP as one service account.
 *
 * `consumerOf` is the one place that derives it from the authentication outcome: the Caller's
 * key, consumer name and (for API keys) its own budget; anonymous callers are told apart by address.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { Actor, Authenticator } from './auth.js';
import { rolesKey } from './caller.js';

export interface Consumer {
  /** Separates budgets and subscription counts: one per key, user, session or address. Non-secret (a keyed hash or an address). */
  key: string;
  /** Shown in logs, audit lines and metrics: a key or user name, a token's fingerprint, or `anonymous`. */
  consumer: string;
  /** The caller's own budget, overriding QUOTA_POINTS and QUOTA_RESTORE_PER_S. */
  budget?: { points: number; restorePerSecond: number };
}

/** What the client says it is (Apollo's `apollographql-client-name` and `-version` headers). */
export interface ClientInfo {
  name?: string;
  version?: string;
}

/**
 * The consumer of a request: the authenticated actor, or, for anonymous callers and requests
 * whose credentials were refused, the client's address (`anonymous`), so one address cannot
 * spend another's budget.
 */
export function consumerOf(actor: Actor | undefined, address: string | undefined): Consumer {
  if (actor && !actor.anonymous) return { key: actor.key, consumer: actor.consumer, ...(actor.budget ? { budget: actor.budget } : {}) };
  return { key: `address:${normalAddress(address)}`, consumer: 'anonymous' };
}

/** The consumer of a request with these headers from `address` (the Authenticator keeps each request's outcome: asking again is free). */
export function requestConsumer(auth: Authenticator, headers: IncomingHttpHeaders, address: string | undefined): Consumer {
  const outcome = auth.authenticate(headers);
  return consumerOf('actor' in outcome ? outcome.actor : undefined, address);
}

/**
 * The key under which identical requests in flight share one execution (src/graphql/identical-requests.ts),
 * or undefined when they must not (no valid credentials): the upstream identity (what SPP answers),
 * the consumer (each pays its own cost) and the roles (what the gateway shows, `availableActions`).
 */
export function sharingKey(auth: Authenticator, headers: IncomingHttpHeaders, address: string | undefined): string | undefined {
  const outcome = auth.authenticate(headers);
  if (!('identity' in outcome)) return undefined;
  return [outcome.identity.key, requestConsumer(auth, headers, address).key, rolesKey(outcome.actor)].join('\u0000');
}

/** IPv4 clients on a dual-stack socket appear as `::ffff:a.b.c.d`: one client, one key. */
function normalAddress(address: string | undefined): string {
  if (!address) return 'unknown';
  return address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
}

const PRINTABLE = /^[\x21-\x7e][\x20-\x7e]{0,99}$/;

/** The client's name and version as sent, when printable and at most 100 characters (otherwise left out). */
export function clientOf(headers: IncomingHttpHeaders): ClientInfo {
  const read = (name: string) => {
    const value = headers[name];
    const text = typeof value === 'string' ? value.trim() : undefined;
    return text && PRINTABLE.test(text) ? text : undefined;
  };
  const name = read('apollographql-client-name');
  const version = read('apollographql-client-version');
  return { ...(name ? { name } : {}), ...(version ? { version } : {}) };
}
