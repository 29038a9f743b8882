/**
 * Cursors of `jobSessionEvents`: an event's id in the shared event log (src/state/event-log.ts),
 * signed like list cursors (src/pagination/cursor.ts) and bound to the filter, so a cursor from
 * another filter, an edited one or garbage is refused with BAD_USER_INPUT. The id is the same on
 * every replica (Redis makes it); the signature is too when replicas share CURSOR_SECRET.
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
  };
}
