/**
 * The client's address: anonymous callers' budgets, their share of identical requests and their
 * open subscriptions are keyed by it (./consumer.ts).
 *
 * Without TRUSTED_PROXIES it is the TCP peer's. Behind a proxy (an ingress controller, nginx, a
 * cloud load balancer) that peer is the proxy for every client: all anonymous callers would share
 * one budget, and one caller's SUBSCRIPTION_CONNECTIONS_PER_CALLER would be everyone's. With
 * TRUSTED_PROXIES the address is read from X-Forwarded-For right to left, one hop at a time while
 * the address that handed the request on is trusted (proxy-addr, the rule of Express's "trust
 * proxy"): the first untrusted address is the client. A client that sends its own
 * X-Forwarded-For only adds hops to the left of what a trusted proxy saw, so it cannot choose its
 * address; a request from an untrusted peer is keyed by that peer, whatever it sends.
 */
import type { IncomingMessage } from 'node:http';
import proxyaddr from 'proxy-addr';

/** The client's address of a request (undefined when its socket has none, e.g. already closed). */
export type AddressOf = (req: IncomingMessage) => string | undefined;

/** `trusted` as in TRUSTED_PROXIES (validated by src/config.ts): addresses, CIDR ranges, loopback, linklocal, uniquelocal. */
export function clientAddressOf(trusted: readonly string[] | undefined): AddressOf {
  if (!trusted || trusted.length === 0) return (req) => req.socket.remoteAddress;
  const trust = proxyaddr.compile([...trusted]);
  return (req) => (req.socket.remoteAddress === undefined ? undefined : proxyaddr(req, trust));
}
