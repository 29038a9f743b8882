/**
 * One Relay connection over the same list on several upstreams (issue 21): the engine of
 * paginator.ts with one position per upstream in the cursor, not a second engine.
 *
 * The merged order is the requested order with (upstream key, id) as the final tie-break:
 * keys…, then the upstream's key, then the id, the last two in the direction of the last key.
 * Upstreams are named by opaque keys (the caller's server names); paging knows no servers.
 *
 * A page asks each upstream, in parallel, for the records after its position (one window read
 * each, `size + 1` records: hasNextPage's extra record included), and merges them. Only
 * records up to the smallest "horizon" (the last record read of an upstream that has more)
 * are emitted, so a short or filtered answer never lets a later record overtake an unread
 * one; an upstream that limits the page is read again (bounded rounds).
 *
 * Positions: the cursor is an edge's place E in the merged order. Each upstream's records
 * "after E" follow from E alone (its key against E's upstream decides the tie), so live
 * inserts and expiry on any upstream behave as with one upstream. An upstream that failed
 * keeps its earlier position in the cursor (a "hold"), so its records are delivered once it
 * answers again: no client can skip them. An "anchor" (the upstream's last record at or before
 * its position: its offset and id) lets the next page read by offset, checked by id, instead of
 * by keyset from the position (one request per sort key).
 *
 * Every edge carries a cursor with all upstreams' anchors, so cursors are written compactly
 * (`packCursor`): arrays instead of named fields, upstreams by their index in the sorted key list
 * (the fingerprint binds that list), an anchor without sort-key values (a keyset read starts from
 * the position, which selects the same records), and an anchor that is the edge itself as its
 * offset alone. Named fields made a three-server cursor about 500 characters against 94 for one
 * server; HMAC, base64, the response's JSON and its compression grew with it (bench/multi-server.ts).
 */
import type { SppFilter, SppRecord, SppSort } from '../spp-api/types.js';
import { badUserInput } from '../errors.js';
import { queryFingerprint, type CursorCodec, type SortKeyValue } from './cursor.js';
import { compareValues, keysOf, levelsAfter, reverseSort } from './keyset.js';
import { isNullable, totalOrder, type ListDescription } from './list.js';
import { pageSize, type PageArgs, type PageLimits } from './paginator.js';
import { readWindow, type WindowReader } from './window.js';

/** A place in the merged order: sort-key values (id excluded), the upstream's key, the id. */
export interface MergedPosition {
  keys: SortKeyValue[];
  upstream: string;
  id: string;
}

/** An upstream's last record at or before its position (in the page's direction), with its offset in that order; 'none' when it has none. */
type Anchor = { offset: number; id: string } | 'none';

interface UpstreamState {
  /** Records after this position are the upstream's; null: from the start of the order. */
  position: MergedPosition | null;
  /** Undefined when unknown (read by keyset from `position`, which is then set). */
  anchor: Anchor | undefined;
}

/** A merged cursor, decoded. `direction`: the order its anchors and holds belong to. */
interface MergedCursor {
  at: MergedPosition;
  direction: 'forward' | 'backward';
  /** Per upstream: its anchor, and its own position when it differs from `at` (a hold). */
  upstreams: Record<string, { anchor?: Anchor; hold?: MergedPosition; fromStart?: boolean }>;
}

export interface MergedEdge<R extends SppRecord> {
  readonly cursor: string;
  readonly node: R;
  /** The key of the upstream the record came from. */
  readonly upstream: string;
}

/** An upstream whose records are missing from the page: its error, as it was thrown. */
export interface UpstreamFailure {
  upstream: string;
  error: unknown;
}

export interface MergedPage<R extends SppRecord> {
  edges: MergedEdge<R>[];
  pageInfo: { hasNextPage: boolean; hasPreviousPage: boolean; startCursor: string | null; endCursor: string | null };
  /** Upstreams that failed this page: their records resume on the next page from the cursor. */
  failures: UpstreamFailure[];
  /** The sum of the upstreams' totals; null with the reason when one is not trusted or failed. */
  totalCount: () => Promise<{ total: number | null; reason?: string; perUpstream: Record<string, number | null> }>;
}

export interface MergedQuery {
  filter: SppFilter[];
  sort: SppSort[];
  /** True when the filter can match nothing: the page is empty without an upstream call. */
  empty?: boolean;
}

/** How many times one page may read an upstream again because it limited the merge. */
const MAX_ROUNDS = 4;

/** Compares merged positions under `sort` (its last entry is the id): keys, then upstream, then id. */
export function compareMerged(a: MergedPosition, b: MergedPosition, sort: readonly SppSort[]): number {
  for (let i = 0; i < sort.length - 1; i++) {
    const c = compareValues(a.keys[i] ?? null, b.keys[i] ?? null);
    if (c !== 0) return sort[i]!.direction === 'DESC' ? -c : c;
  }
  const desc = sort[sort.length - 1]!.direction === 'DESC';
  const u = a.upstream < b.upstream ? -1 : a.upstream > b.upstream ? 1 : 0;
  if (u !== 0) return desc ? -u : u;
  const c = compareValues(a.id, b.id);
  return desc ? -c : c;
}

/**
 * The AND-only filter sets whose concatenated results are `upstream`'s records strictly after
 * `at` in the merged order under `sort` (pure). With `at` of another upstream, the id does
 * not decide: equal keys sort wholly before or wholly after `at`, by the upstream keys.
 */
export function mergedLevelsAfter(at: MergedPosition, upstream: string, sort: readonly SppSort[], nullable: (property: string) => boolean): SppFilter[][] {
  const levels = levelsAfter(at, sort, false, nullable);
  if (upstream === at.upstream) return levels;
  // levels[0] is the id level: equal keys, id beyond at.id.
  const desc = sort[sort.length - 1]!.direction === 'DESC';
  const laterUpstream = desc ? upstream < at.upstream : upstream > at.upstream;
  const [idLevel, ...rest] = levels;
  return laterUpstream ? [idLevel!.slice(0, -1), ...rest] : rest;
}

interface Located<R> {
  record: R;
  pos: MergedPosition;
  /** Offset in the upstream's list in the page's order, when known. */
  offset: number | null;
}

interface UpstreamRead<R> {
  /** Records after the upstream's position, in order. */
  located: Located<R>[];
  /** The last record read, when the upstream may hold more after it: nothing beyond it is known. */
  horizon: Located<R> | null;
}

export class MergedPaginator {
  constructor(
    private readonly codec: CursorCodec,
    private readonly limits: PageLimits,
  ) {}

  /**
   * One page of `list` merged over `readers` (upstream key → that upstream's window reader).
   * Validates sizes and cursors before any upstream call.
   */
  async page<R extends SppRecord>(
    list: ListDescription<R>,
    readers: ReadonlyMap<string, WindowReader<R>>,
    args: PageArgs,
    query: MergedQuery,
  ): Promise<MergedPage<R>> {
    const { direction, size } = pageSize(args, this.limits);
    const sort = totalOrder(list, query.sort);
    const keys = [...readers.keys()].sort();
    const fingerprint = queryFingerprint({ list: list.endpoint, filter: query.filter, sort, upstreams: keys });
    const after = args.after ? this.decode(fingerprint, keys, args.after, 'after', list.name) : null;
    const before = args.before ? this.decode(fingerprint, keys, args.before, 'before', list.name) : null;
    const order = direction === 'forward' ? sort : reverseSort(sort);
    const from = direction === 'forward' ? after : before;
    const other = direction === 'forward' ? before : after;
    const states = new Map<string, UpstreamState>(keys.map((k) => [k, startState(from, direction, k)]));
    const totals = () => this.totals(list, readers, query.filter, sort);
    if (query.empty) return this.build([], false, false, [], fingerprint, direction, order, states, totals);

    const failures: UpstreamFailure[] = [];
    const reads = await Promise.all(
      keys.map(async (k) => {
        try {
          return await readUpstream(list, readers.get(k)!, k, order, query.filter, states.get(k)!, size + 1);
        } catch (error) {
          failures.push({ upstream: k, error });
          return undefined;
        }
      }),
    );
    // Every upstream failed: the page fails as with one upstream.
    if (failures.length === keys.length && keys.length > 0) throw failures[0]!.error;
    const live = new Map<string, UpstreamRead<R>>();
    keys.forEach((k, i) => reads[i] && live.set(k, reads[i]));
    const { safe, truncated } = await this.mergeRounds(list, readers, order, query.filter, live, states, size + 1);
    const merged = other ? safe.filter((l) => compareMerged(l.pos, other.at, order) < 0) : safe;
    // Unread records may remain when the rounds ran out before the page filled (and before `other`).
    const unread = truncated && merged.length === safe.length;
    const more = merged.length > size || failures.length > 0 || unread;
    const shown = merged.slice(0, size);
    const failed = new Set(failures.map((f) => f.upstream));
    return direction === 'forward'
      ? this.build(shown, more, after !== null, failures, fingerprint, direction, order, states, totals, failed)
      : this.build(shown, before !== null, more, failures, fingerprint, direction, order, states, totals, failed);
  }

  /** Merges the reads, reading again from an upstream whose horizon limits the page (bounded rounds). */
  private async mergeRounds<R extends SppRecord>(
    list: ListDescription<R>,
    readers: ReadonlyMap<string, WindowReader<R>>,
    order: SppSort[],
    filter: SppFilter[],
    live: Map<string, UpstreamRead<R>>,
    states: ReadonlyMap<string, UpstreamState>,
    wanted: number,
  ): Promise<{ safe: Located<R>[]; truncated: boolean }> {
    for (let round = 0; ; round++) {
      const all = [...live.values()].flatMap((r) => r.located).sort((a, b) => compareMerged(a.pos, b.pos, order));
      let limiting: [string, UpstreamRead<R>] | undefined;
      for (const entry of live) {
        const h = entry[1].horizon;
        if (h && (!limiting || compareMerged(h.pos, limiting[1].horizon!.pos, order) < 0)) limiting = entry;
      }
      const safe = limiting ? all.filter((l) => compareMerged(l.pos, limiting[1].horizon!.pos, order) <= 0) : all;
      if (safe.length >= wanted || !limiting || round >= MAX_ROUNDS) return { safe, truncated: safe.length < wanted && limiting !== undefined };
      const [k, read] = limiting;
      const h = read.horizon!;
      const next = await readUpstream(
        list,
        readers.get(k)!,
        k,
        order,
        filter,
        { position: h.pos, anchor: h.offset === null ? undefined : { offset: h.offset, id: h.pos.id } },
        wanted,
      );
      // Records at or before the upstream's own position (inserted since) stay out, as in the first read.
      const own = states.get(k)!.position;
      const kept = own ? next.located.filter((l) => compareMerged(l.pos, own, order) > 0) : next.located;
      live.set(k, { located: [...read.located, ...kept], horizon: next.horizon });
    }
  }

  private build<R extends SppRecord>(
    shown: Located<R>[],
    hasNext: boolean,
    hasPrevious: boolean,
    failures: UpstreamFailure[],
    fingerprint: string,
    direction: 'forward' | 'backward',
    order: SppSort[],
    states: Map<string, UpstreamState>,
    totals: MergedPage<R>['totalCount'],
    failed: ReadonlySet<string> = new Set(),
  ): MergedPage<R> {
    const keys = [...states.keys()];
    // Anchors per edge: the upstream's last record at or before the edge (in the page's order).
    const anchors = new Map([...states].map(([k, s]) => [k, s.anchor]));
    const made = shown.map((l) => {
      anchors.set(l.pos.upstream, l.offset === null ? undefined : { offset: l.offset, id: l.pos.id });
      const upstreams: MergedCursor['upstreams'] = {};
      for (const [k, s] of states) {
        const anchor = anchors.get(k);
        // A failed upstream keeps its position; another keeps the later of its own and the edge's.
        const own = s.position && (failed.has(k) || compareMerged(s.position, l.pos, order) > 0) ? s.position : undefined;
        const held = failed.has(k) && !s.position ? null : own;
        upstreams[k] = { ...(anchor !== undefined ? { anchor } : {}), ...(held ? { hold: held } : {}), ...(held === null ? { fromStart: true } : {}) };
      }
      return { l, cursor: { at: l.pos, direction, upstreams } satisfies MergedCursor };
    });
    const ordered = direction === 'forward' ? made : [...made].reverse();
    const codec = this.codec;
    const edges: MergedEdge<R>[] = ordered.map(({ l, cursor }) => {
      let text: string | undefined;
      return {
        node: l.record,
        upstream: l.pos.upstream,
        get cursor() {
          return (text ??= codec.encodeData(fingerprint, packCursor(cursor, keys)));
        },
      };
    });
    let counted: ReturnType<MergedPage<R>['totalCount']> | undefined;
    return {
      edges,
      failures,
      pageInfo: {
        hasNextPage: hasNext,
        hasPreviousPage: hasPrevious,
        get startCursor() {
          return edges[0]?.cursor ?? null;
        },
        get endCursor() {
          return edges[edges.length - 1]?.cursor ?? null;
        },
      },
      totalCount: () => (counted ??= totals()),
    };
  }

  /** Each upstream's total for the filter (one one-record read each, in parallel) and their sum when all are trusted. */
  private async totals<R extends SppRecord>(list: ListDescription<R>, readers: ReadonlyMap<string, WindowReader<R>>, filter: SppFilter[], sort: SppSort[]) {
    const perUpstream: Record<string, number | null> = {};
    const reasons: string[] = [];
    await Promise.all(
      [...readers].map(async ([k, reader]) => {
        try {
          perUpstream[k] = (await readWindow(reader, { filter, sort }, 0, 1)).total;
          if (perUpstream[k] === null) reasons.push(`${k}'s total contradicts its records`);
        } catch {
          perUpstream[k] = null;
          reasons.push(`${k} did not answer`);
        }
      }),
    );
    const values = Object.values(perUpstream);
    if (reasons.length > 0) return { total: null, reason: reasons.sort().join('; '), perUpstream };
    return { total: values.reduce<number>((sum, v) => sum + v!, 0), perUpstream };
  }

  private decode(fingerprint: string, keys: readonly string[], text: string, argumentName: 'after' | 'before', listName: string): MergedCursor {
    const data = unpackCursor(this.codec.decodeData(fingerprint, text, argumentName, listName), keys);
    if (!data) {
      throw badUserInput(`Argument "${argumentName}" is not a valid cursor: expected a cursor returned by ${listName}.`, argumentName);
    }
    return data;
  }
}

/** Where an upstream's reading starts, from the cursor the page continues (pure). */
function startState(cursor: MergedCursor | null, direction: 'forward' | 'backward', upstream: string): UpstreamState {
  if (!cursor) return { position: null, anchor: 'none' };
  // Anchors and holds belong to the order of the page that made the cursor; in the other
  // direction the cursor is only its place.
  if (cursor.direction !== direction) return { position: cursor.at, anchor: undefined };
  const own = cursor.upstreams[upstream];
  if (own?.fromStart) return { position: null, anchor: 'none' };
  return { position: own?.hold ?? cursor.at, anchor: own?.anchor };
}

/**
 * Up to `count` records of one upstream after its position in `order`: by offset from its
 * anchor (checked by id), from the start, or by keyset; records at or before the position
 * (inserted since) are dropped.
 */
async function readUpstream<R extends SppRecord>(
  list: ListDescription<R>,
  reader: WindowReader<R>,
  upstream: string,
  order: SppSort[],
  filter: SppFilter[],
  state: UpstreamState,
  count: number,
): Promise<UpstreamRead<R>> {
  const locate = (record: R, offset: number | null): Located<R> => ({
    record,
    offset,
    pos: { keys: keysOf(record, order), upstream, id: String(record[list.id]) },
  });
  let located: Located<R>[] | undefined;
  let more = false;
  const { anchor, position } = state;
  if (anchor === 'none') {
    const w = await readWindow(reader, { filter, sort: order }, 0, count);
    located = w.records.map((r, i) => locate(r, i));
    more = w.records.length >= count && !w.ended;
  } else if (anchor && anchor.offset !== null) {
    const w = await readWindow(reader, { filter, sort: order }, anchor.offset, count + 1);
    if (w.records[0] && String(w.records[0][list.id]) === anchor.id) {
      located = w.records.slice(1).map((r, i) => locate(r, anchor.offset + 1 + i));
      more = w.records.length >= count + 1 && !w.ended;
    }
  }
  if (!located) {
    // Keyset from the position: with no anchor, or one that moved, it is set (see UpstreamState).
    const nullable = (p: string) => isNullable(list, p);
    const levels = mergedLevelsAfter(position!, upstream, order, nullable);
    const windows = await Promise.all(levels.map((level) => readWindow(reader, { filter: [...filter, ...level], sort: order }, 0, count)));
    const records = windows.flatMap((w) => w.records);
    located = records.slice(0, count).map((r) => locate(r, null));
    more = records.length >= count;
  }
  const horizon = more ? located[located.length - 1]! : null;
  const kept = position ? located.filter((l) => compareMerged(l.pos, position, order) > 0) : located;
  return { located: kept, horizon };
}

/**
 * The compact wire form of a merged cursor (pure; see the header): `[keys, upstream index, id,
 * 0 forward | 1 backward, per upstream in key order: [anchor] or [anchor, hold]]`, where an
 * anchor is null (unknown), 0 ('none'), `[offset]` (the cursor's own record) or `[offset, id]`,
 * and a hold is 1 (from the start) or `[keys, upstream index, id]`.
 */
type PackedPosition = [SortKeyValue[], number, string];
type PackedAnchor = null | 0 | [number] | [number, string];
type PackedCursor = [SortKeyValue[], number, string, 0 | 1, Array<[PackedAnchor] | [PackedAnchor, 1 | PackedPosition]>];

function packCursor(cursor: MergedCursor, keys: readonly string[]): PackedCursor {
  const { at } = cursor;
  const position = (p: MergedPosition): PackedPosition => [p.keys, keys.indexOf(p.upstream), p.id];
  const anchorOf = (k: string, a: Anchor | undefined): PackedAnchor =>
    a === undefined ? null : a === 'none' ? 0 : k === at.upstream && a.id === at.id ? [a.offset] : [a.offset, a.id];
  const upstreams = keys.map((k): [PackedAnchor] | [PackedAnchor, 1 | PackedPosition] => {
    const u = cursor.upstreams[k];
    const anchor = anchorOf(k, u?.anchor);
    if (u?.fromStart) return [anchor, 1];
    return u?.hold ? [anchor, position(u.hold)] : [anchor];
  });
  return [at.keys, keys.indexOf(at.upstream), at.id, cursor.direction === 'forward' ? 0 : 1, upstreams];
}

/** A packed cursor read back against the page's sorted upstream keys; null when it is not one (pure). */
function unpackCursor(data: unknown, keys: readonly string[]): MergedCursor | null {
  const position = (v: unknown): MergedPosition | null => {
    if (!Array.isArray(v) || v.length !== 3) return null;
    const [k, index, id] = v as unknown[];
    if (!Array.isArray(k) || !k.every(isKeyValue) || typeof index !== 'number' || keys[index] === undefined || typeof id !== 'string') return null;
    return { keys: k, upstream: keys[index], id };
  };
  if (!Array.isArray(data) || data.length !== 5) return null;
  const at = position(data.slice(0, 3));
  const [, , , direction, entries] = data as unknown[];
  if (!at || (direction !== 0 && direction !== 1) || !Array.isArray(entries) || entries.length !== keys.length) return null;
  const upstreams: MergedCursor['upstreams'] = {};
  for (const [i, entry] of (entries as unknown[]).entries()) {
    if (!Array.isArray(entry) || entry.length < 1 || entry.length > 2) return null;
    const [a, h] = entry as unknown[];
    let anchor: Anchor | undefined;
    if (a === 0) anchor = 'none';
    else if (Array.isArray(a) && isOffset(a[0]) && a.length === 1 && keys[i] === at.upstream) anchor = { offset: a[0], id: at.id };
    else if (Array.isArray(a) && isOffset(a[0]) && a.length === 2 && typeof a[1] === 'string') anchor = { offset: a[0], id: a[1] };
    else if (a !== null) return null;
    const hold = h === undefined || h === 1 ? undefined : position(h);
    if (h !== undefined && h !== 1 && !hold) return null;
    upstreams[keys[i]!] = { ...(anchor !== undefined ? { anchor } : {}), ...(hold ? { hold } : {}), ...(h === 1 ? { fromStart: true } : {}) };
  }
  return { at, direction: direction === 0 ? 'forward' : 'backward', upstreams };
}

function isOffset(v: unknown): v is number {
  return Number.isInteger(v) && (v as number) >= 0;
}

function isKeyValue(v: unknown): v is SortKeyValue {
  return v === null || typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean';
}
