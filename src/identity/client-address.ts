/**
 * The client's address: anonymous callers' budgets, their share of identical requests and their
 * open subscriptions are keyed by it (./consumer.ts).
 *
 * Without TRUSTED_PROXIES it is the TCP peer's. Behind a proxy (an ingress controller, nginx, a
 * cloud load balancer) that peer is the proxy for every client: all anonymous callers would share
 * one budget, and one caller's SUBSCRIPTION_CONNECTIONS_PER_CALLER would be everyone's.
 *
 * With TRUSTED_PROXIES, X-Forwarded-For is read from the right, one entry per proxy in front of
 * the gateway and no further (TRUSTED_PROXY_HOPS, default 1): each proxy appends the address it
 * saw, so the entry written by the first proxy is the client, and everything to its left is what
 * the client itself sent. Walking on while the next address is in a trusted range (proxy-addr's
 * default, Express's "trust proxy" with ranges) would let a client in such a range, e.g. any
 * user on a 10/8 office network before an on-premises ingress, pick its address by writing
 * X-Forwarded-For itself. A request whose peer is not a trusted proxy is keyed by that peer, and
 * an entry that is not an IP address (a proxy that passed the client's header on without
 * appending) gives the peer too.
 */
import { isIP } from 'node:net';
import type { IncomingMessage } from 'node:http';
import proxyaddr from 'proxy-addr';

/** The client's address of a request (undefined when its socket has none, e.g. already closed). */
export type AddressOf = (req: IncomingMessage) => string | undefined;

/**
 * `trusted` as in TRUSTED_PROXIES (validated by src/config.ts): addresses, CIDR ranges, loopback,
 * linklocal, uniquelocal. `hops`: how many of them stand in a row before the gateway.
 */
export function clientAddressOf(trusted: readonly string[] | undefined, hops = 1, untrustedForward?: (peer: string | undefined) => void): AddressOf {
  if (!trusted || trusted.length === 0) {
    // A proxy in front that nobody named: said once (a deployment that forgot TRUSTED_PROXIES), then silent.
    let told = !untrustedForward;
    return (req) => {
      if (!told && req.headers['x-forwarded-for'] !== undefined) {
        told = true;
        untrustedForward!(req.socket.remoteAddress);
      }
      return req.socket.remoteAddress;
    };
  }
  const isProxy = proxyaddr.compile([...trusted]);
  // proxy-addr asks about each address from the TCP peer (hop 0) leftwards through X-Forwarded-For.
  const trust = (address: string, hop: number) => hop < hops && isProxy(address, hop);
  // Asked several times per request (sharing key, context, log line): the header is read once.
  const known = new WeakMap<IncomingMessage, string | undefined>();
  return (req) => {
    if (known.has(req)) return known.get(req);
    const peer = req.socket.remoteAddress;
    const forwarded = peer === undefined ? undefined : proxyaddr(req, trust);
    const address = forwarded !== undefined && isIP(forwarded) ? forwarded : peer;
    known.set(req, address);
    return address;
  };
}
