/**
 * Cursors of `jobSessionEvents`: an event's id in the shared event log (src/state/event-log.ts),
 * signed like list cursors (src/pagination/cursor.ts) and bound to the filter, so a cursor from
 * another filter, an edited one or garbage is refused with BAD_USER_INPUT. The id is the same on
 * every replica (Redis makes it); the signature is too when replicas share CURSOR_SECRET.
 *
 * Over several SPP servers (issue 21) each server's feed has its own log, so a cursor carries
 * one position per server: the log id after which that server's events continue for the
 * subscriber (`across`). It is bound to the filter and the server set as well.
 */
import type { SppFilter } from '../spp-api/types.js';
import { badUserInput } from '../errors.js';
import { queryFingerprint, type CursorCodec } from '../pagination/cursor.js';
import { isLogId } from '../state/index.js';

/** Filter objects in a canonical form, so `[A, B]` and `[B, A]` share one poller. */
export function canonicalFilter(filter: readonly SppFilter[]): string {
  const normal = filter.map((f) => ({ property: f.property, op: f.op ?? '=', value: Array.isArray(f.value) ? [...f.value].map(String).sort() : f.value }));
  normal.sort((a, b) => (JSON.stringify(a) < JSON.stringify(b) ? -1 : 1));
  return JSON.stringify(normal);
}

export interface EventCursors {
  encode(filter: readonly SppFilter[], id: string): string;
  /** The log id in `cursor`; BAD_USER_INPUT when it is not a cursor of this filter's events. */
  decode(filter: readonly SppFilter[], cursor: string): string;
  /** Several servers: each server's position (a server missing: none known yet), signed and bound to filter and servers. */
  across: {
    encode(filter: readonly SppFilter[], servers: readonly string[], positions: ReadonlyMap<string, string>): string;
    /** The positions in `cursor`; BAD_USER_INPUT when it is not a cursor of this filter's events over these servers. */
    decode(filter: readonly SppFilter[], servers: readonly string[], cursor: string): Map<string, string>;
  };
}

export function eventCursors(codec: CursorCodec): EventCursors {
  const fingerprints = new Map<string, string>();
  const fingerprint = (filter: readonly SppFilter[]) => {
    const canonical = canonicalFilter(filter);
    let print = fingerprints.get(canonical);
    if (print === undefined) {
      print = queryFingerprint(['jobSessionEvents', canonical]);
      if (fingerprints.size > 10_000) fingerprints.clear();
      fingerprints.set(canonical, print);
    }
    return print;
  };
  return {
    encode: (filter, id) => codec.encode(fingerprint(filter), { offset: null, keys: [], id }),
    decode(filter, cursor) {
      const { id } = codec.decode(fingerprint(filter), cursor, 'after', 'jobSessionEvents');
      if (!isLogId(id)) throw badUserInput('Argument "after" is not a cursor of jobSessionEvents: pass the `cursor` of an event.', 'after');
      return id;
    },
    across: {
      encode: (filter, servers, positions) =>
        codec.encodeData(fingerprintAcross(filter, servers), Object.fromEntries([...positions].sort(([a], [b]) => (a < b ? -1 : 1)))),
      decode(filter, servers, cursor) {
        const data = codec.decodeData(fingerprintAcross(filter, servers), cursor, 'after', 'jobSessionEvents');
        const entries = typeof data === 'object' && data !== null && !Array.isArray(data) ? Object.entries(data as Record<string, unknown>) : [];
        if (entries.length === 0 || !entries.every(([server, id]) => typeof id === 'string' && isLogId(id) && servers.includes(server))) {
          throw badUserInput('Argument "after" is not a cursor of jobSessionEvents: pass the `cursor` of an event.', 'after');
        }
        return new Map(entries as Array<[string, string]>);
      },
    },
  };
}

/** A cursor over several servers is bound to the set, whatever order `servers:` named them in. */
const fingerprintAcross = (filter: readonly SppFilter[], servers: readonly string[]) =>
  queryFingerprint(['jobSessionEvents', canonicalFilter(filter), [...servers].sort()]);
