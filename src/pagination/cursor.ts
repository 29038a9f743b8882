/**
 * Opaque, tamper-evident Relay cursors.
 *
 * A cursor names one record of one ordered list: its offset in that list when known (SPP
 * pages by `pageStartIndex`), and its sort-key values and id, so that when the list moved
 * underneath (live data: new sessions at the head, maintenance expiring old ones) the
 * record can be found again by keyset instead of trusting a stale offset.
 *
 * Cursors are bound to the query they came from (the translated filter and sort) and
 * signed with HMAC-SHA256, so a cursor from another query, a hand-edited one or garbage
 * is refused with BAD_USER_INPUT before any upstream call.
 *
 * Wire format: base64url(JSON [version, queryFingerprint, offset|null, keys, id]) "." base64url(mac[0..16]).
 */
import { createHash, createHmac, createSecretKey, timingSafeEqual, type KeyObject } from 'node:crypto';
import { badUserInput } from '../errors.js';

export type SortKeyValue = string | number | boolean | null;

export interface CursorPosition {
  /** 0-based index in the ordered, filtered list when the cursor was made; null when it was not known. */
  offset: number | null;
  /** The record's values of the sort keys, in `orderBy` order (the id tie-breaker excluded). */
  keys: SortKeyValue[];
  /** The record's SPP id: the final tie-breaker. */
  id: string;
}

const VERSION = 1;
const DATA_VERSION = 2;
const MAC_BYTES = 16;

/** A short, stable fingerprint of a query: a canonical JSON of the upstream filter and sort. */
export function queryFingerprint(query: unknown): string {
  return createHash('sha256').update(JSON.stringify(query)).digest('base64url').slice(0, 12);
}

export class CursorCodec {
  /** A KeyObject spares each of the page's HMACs from importing the raw key again. */
  private readonly key: KeyObject;

  constructor(secret: Buffer) {
    this.key = createSecretKey(secret);
  }

  encode(fingerprint: string, position: CursorPosition): string {
    const payload = Buffer.from(JSON.stringify([VERSION, fingerprint, position.offset, position.keys, position.id])).toString('base64url');
    return `${payload}.${this.mac(payload)}`;
  }

  /**
   * Reads a cursor that must belong to the query with `fingerprint`.
   * Throws BAD_USER_INPUT naming `argumentName` when it is malformed, altered, or from another query.
   */
  decode(fingerprint: string, cursor: string, argumentName: 'after' | 'before', listName = 'jobSessions'): CursorPosition {
    const { parsed, notOurs } = this.open(cursor, VERSION, 2_048, argumentName, listName);
    const [, print, offset, keys, id] = parsed as [number, unknown, unknown, unknown, unknown];
    if (print !== fingerprint) {
      throw badUserInput(
        `Argument "${argumentName}" is a cursor from a ${listName} query with another filter or orderBy (or from another list): a cursor is only valid with the filter and orderBy it was returned for.`,
        argumentName,
      );
    }
    if ((offset !== null && !(Number.isInteger(offset) && (offset as number) >= 0)) || !Array.isArray(keys) || typeof id !== 'string') {
      throw notOurs();
    }
    return { offset: offset as number | null, keys: keys as SortKeyValue[], id };
  }

  /**
   * A cursor of any JSON shape (the merged cursors of several upstreams, merge.ts), signed and
   * bound to `fingerprint` like the one-upstream cursors; version 2, so neither kind is taken for the other.
   */
  encodeData(fingerprint: string, data: unknown): string {
    const payload = Buffer.from(JSON.stringify([DATA_VERSION, fingerprint, data])).toString('base64url');
    return `${payload}.${this.mac(payload)}`;
  }

  /** Reads a cursor made by encodeData for `fingerprint`; throws BAD_USER_INPUT as decode does. */
  decodeData(fingerprint: string, cursor: string, argumentName: 'after' | 'before', listName: string): unknown {
    const { parsed } = this.open(cursor, DATA_VERSION, 8_192, argumentName, listName);
    if (parsed[1] !== fingerprint) {
      throw badUserInput(
        `Argument "${argumentName}" is a cursor from a ${listName} query with another filter, orderBy or server set (or from another list): a cursor is only valid with the query it was returned for.`,
        argumentName,
      );
    }
    return parsed[2];
  }

  /**
   * The JSON array a cursor of `version` carries, once its MAC is checked; BAD_USER_INPUT naming
   * `argumentName` when it is malformed, too long, altered or of another version.
   */
  private open(cursor: string, version: number, maxLength: number, argumentName: 'after' | 'before', listName: string) {
    const notOurs = () =>
      badUserInput(
        `Argument "${argumentName}" is not a valid cursor: expected a cursor returned by ${listName} (an opaque string), got ${describe(cursor)}.`,
        argumentName,
      );
    const dot = cursor.indexOf('.');
    if (dot <= 0 || cursor.length > maxLength) throw notOurs();
    const payload = cursor.slice(0, dot);
    // Compared as text, not as decoded bytes: base64url decoding ignores the spare bits of the
    // last character (and stray characters), so a cursor with a flipped bit there would pass
    // (property-test seed -1563557430).
    const given = Buffer.from(cursor.slice(dot + 1), 'utf8');
    const expected = Buffer.from(this.mac(payload), 'utf8');
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw notOurs();
    let parsed: unknown;
    try {
      parsed = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
    } catch {
      throw notOurs();
    }
    if (!Array.isArray(parsed) || parsed[0] !== version) throw notOurs();
    return { parsed: parsed as unknown[], notOurs };
  }

  private mac(payload: string): string {
    return createHmac('sha256', this.key).update(payload).digest().subarray(0, MAC_BYTES).toString('base64url');
  }
}

function describe(value: string): string {
  return value.length > 40 ? `a ${value.length}-character string` : JSON.stringify(value);
}
