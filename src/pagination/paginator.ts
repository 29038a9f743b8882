/**
 * Relay connections over any offset-paged SPP list (job sessions, job log entries, jobs),
 * described by a ListDescription (GraphQL Cursor Connections Specification,
 * https://relay.dev/graphql/connections.htm).
 *
 * Use: one Paginator per request (it holds that request's readers), then
 * `paginator.page(list, args, { filter, sort })` per connection field: `args` are the field's
 * first/after/last/before, `filter` SPP's filter array, `sort` the requested order (the id
 * tie-breaker is added when missing). The answer is the connection: edges with signed
 * cursors, exact pageInfo, and a lazy totalCount.
 *
 * - `first`/`after` read forward, `last`/`before` read backward; `last` without `before`
 *   reads the reversed order from its start, so the end of the list is found without
 *   trusting `total` (APAR IT45897).
 * - One record more than asked is read, so hasNextPage/hasPreviousPage are exact.
 * - A cursor's offset is checked against its record: the window is read from the cursor's
 *   own position, and when the record is no longer there (sessions started or expired
 *   since) it is found again by keyset, and reading continues right after it (or where it
 *   would have been, when it is gone).
 */
import type { SppFilter, SppRecord, SppSort } from '../spp-api/types.js';
import type { CursorCodec, CursorPosition } from './cursor.js';
import { queryFingerprint } from './cursor.js';
import { comparePositions, keysOf, levelsAfter, reverseSort } from './keyset.js';
import { readWindow, type ListQuery, type WindowReader } from './window.js';
import { isNullable, totalOrder, type ListDescription } from './list.js';
import { withLocalCondition, type LocalCondition } from './local.js';
import { badUserInput } from '../errors.js';

export type { LocalCondition } from './local.js';

export interface PageArgs {
  first?: number | null;
  after?: string | null;
  last?: number | null;
  before?: string | null;
}

export interface PageLimits {
  defaultSize: number;
  maxSize: number;
}

export interface Edge<R extends SppRecord> {
  /** Computed on first read: a cursor is an HMAC, and most queries select no cursor at all. */
  readonly cursor: string;
  readonly node: R;
}

/**
 * An edge whose cursor is made only when read (graphql-js's default resolver reads the
 * `cursor` property only when the field is selected): at 1000 rows the HMACs of unselected
 * cursors were 13 % of the gateway's CPU (issue 8).
 */
class LazyEdge<R extends SppRecord> implements Edge<R> {
  private made: string | undefined;

  constructor(
    readonly node: R,
    private readonly offset: number | null,
    private readonly id: string,
    private readonly codec: CursorCodec,
    private readonly fingerprint: string,
    private readonly sort: readonly SppSort[],
  ) {}

  get cursor(): string {
    return (this.made ??= this.codec.encode(this.fingerprint, { offset: this.offset, keys: keysOf(this.node, this.sort), id: this.id }));
  }
}

/** One page of a list: what a connection field resolves to (the codegen mapper of each *Connection). */
export interface Page<R extends SppRecord> {
  edges: Edge<R>[];
  pageInfo: { hasNextPage: boolean; hasPreviousPage: boolean; startCursor: string | null; endCursor: string | null };
  /** SPP's total for the filter, or null when it contradicts the records (read lazily: costs a call only when asked). */
  totalCount: () => Promise<number | null>;
}

/** A list's filter and requested order. */
export interface PageQuery<R extends SppRecord = SppRecord> {
  filter: SppFilter[];
  /** The requested order; the list's default when empty; the id tie-breaker is added when it is not the last key. */
  sort: SppSort[];
  /** True when the filter can match nothing (e.g. an empty IN list): the page is empty without an upstream call. */
  empty?: boolean;
  /** A condition SPP ignores, applied by the gateway over the whole filtered list (local.ts). */
  local?: LocalCondition<R>;
}

/** The window reader of a list, for this request (the context binds the caller's identity and the list's endpoint). */
export type ReaderFactory = <R extends SppRecord>(list: ListDescription<R>) => WindowReader<R>;

/** A record with its 0-based index in the forward order, when known. */
interface Located<R extends SppRecord> {
  record: R;
  offset: number | null;
}

interface Read<R extends SppRecord> {
  located: Located<R>[];
  /** SPP's total for the base filter, when an answer to it was seen and consistent. */
  total: number | null | undefined;
  /** Whether a record exists on the far side of the cursor (at it or beyond); undefined without a cursor. */
  beyond?: boolean;
}

/** Validates `first`/`last` (pure): the direction and the number of records to return. */
export function pageSize(args: PageArgs, limits: PageLimits): { direction: 'forward' | 'backward'; size: number } {
  const check = (name: 'first' | 'last', value: number) => {
    if (value < 0) throw badUserInput(`Argument "${name}" must be a non-negative integer, got ${value}.`, name);
    if (value > limits.maxSize) throw badUserInput(`Argument "${name}" must be at most ${limits.maxSize}, got ${value}.`, name);
  };
  const hasFirst = args.first !== null && args.first !== undefined;
  const hasLast = args.last !== null && args.last !== undefined;
  if (hasFirst && hasLast) throw badUserInput('Pass either "first" or "last", not both.', 'last');
  if (hasLast) {
    check('last', args.last!);
    return { direction: 'backward', size: args.last! };
  }
  if (hasFirst) check('first', args.first!);
  return { direction: 'forward', size: hasFirst ? args.first! : limits.defaultSize };
}

export class Paginator {
  private readonly readerFor: ReaderFactory;

  /**
   * `readers`: the window reader of each list for this request (the context binds identity and
   * endpoint), or one WindowReader that serves every list (a one-list caller, a unit test).
   */
  constructor(
    readers: ReaderFactory | WindowReader<SppRecord>,
    private readonly codec: CursorCodec,
    private readonly limits: PageLimits,
  ) {
    this.readerFor = typeof readers === 'function' ? readers : ((() => readers) as ReaderFactory);
  }

  /**
   * Reads one page of `list`. Validates everything (sizes, cursors) before the first upstream
   * call, so bad input costs SPP nothing.
   */
  async page<R extends SppRecord>(list: ListDescription<R>, args: PageArgs, query: PageQuery<R>): Promise<Page<R>> {
    const { direction, size } = pageSize(args, this.limits);
    const { filter } = query;
    const sort = totalOrder(list, query.sort);
    // The endpoint is part of the fingerprint: a cursor of one list is refused by another.
    const fingerprint = fingerprintOf(list, { filter, sort, ...(query.local ? { local: query.local } : {}) });
    const after = args.after ? this.codec.decode(fingerprint, args.after, 'after', list.name) : null;
    const before = args.before ? this.codec.decode(fingerprint, args.before, 'before', list.name) : null;
    const base: ListQuery = { filter, sort };
    const reader = this.readerFor(list);
    const at = new ListReader(query.local ? withLocalCondition(reader, query.local) : reader, list);

    if (query.empty) return this.build(list, [], false, false, fingerprint, 0, base, at);

    if (direction === 'forward') {
      const read = after ? await at.readAfter(base, after, size + 1) : await at.readFromStart(base, size + 1);
      const { total, beyond } = read;
      let { located } = read;
      if (before) located = located.filter((l) => comparePositions(position(l.record, sort, list), before, sort) < 0);
      // Spec: with `first`, hasNextPage is whether more than `first` edges remain after both cursors
      // apply; hasPreviousPage, with `after`, whether anything lies at or before it.
      return this.build(list, located.slice(0, size), located.length > size, beyond === true, fingerprint, total, base, at);
    }

    const read = before ? await at.readBefore(base, before, size + 1) : await at.readFromEnd(base, size + 1);
    const { total, beyond } = read;
    let { located } = read;
    if (after) located = located.filter((l) => comparePositions(position(l.record, sort, list), after, sort) > 0);
    const hasPreviousPage = located.length > size;
    return this.build(list, located.slice(Math.max(0, located.length - size)), beyond === true, hasPreviousPage, fingerprint, total, base, at);
  }

  /**
   * How many records of `list` match `filter`, from SPP's total of a one-record read; null
   * when that total contradicts the records (APAR IT45897 builds answer 0).
   */
  async count<R extends SppRecord>(list: ListDescription<R>, filter: SppFilter[]): Promise<number | null> {
    const window = await readWindow(this.readerFor(list), { filter, sort: totalOrder(list, []) }, 0, 1);
    return window.total;
  }

  private build<R extends SppRecord>(
    list: ListDescription<R>,
    located: Located<R>[],
    hasNextPage: boolean,
    hasPreviousPage: boolean,
    fingerprint: string,
    total: number | null | undefined,
    base: ListQuery,
    at: ListReader<R>,
  ): Page<R> {
    const edges = located.map(({ record, offset }) => new LazyEdge(record, offset, idOf(record, list), this.codec, fingerprint, base.sort));
    let counted: Promise<number | null> | undefined;
    return {
      edges,
      pageInfo: {
        hasNextPage,
        hasPreviousPage,
        get startCursor() {
          return edges[0]?.cursor ?? null;
        },
        get endCursor() {
          return edges[edges.length - 1]?.cursor ?? null;
        },
      },
      totalCount: () => {
        if (total !== undefined) return Promise.resolve(total);
        counted ??= readWindow(at.reader, base, 0, 1).then((w) => w.total);
        return counted;
      },
    };
  }
}

/** The reads of one page of one list: forward, backward, and by keyset around a cursor. */
class ListReader<R extends SppRecord> {
  constructor(
    readonly reader: WindowReader<R>,
    private readonly list: ListDescription<R>,
  ) {}

  async readFromStart(base: ListQuery, count: number): Promise<Read<R>> {
    const window = await readWindow(this.reader, base, 0, count);
    return { located: window.records.map((record, i) => ({ record, offset: i })), total: window.total };
  }

  /** The last `count` records, read as the first ones of the reversed order. */
  async readFromEnd(base: ListQuery, count: number): Promise<Read<R>> {
    const reversed = { filter: base.filter, sort: reverseSort(base.sort) };
    const window = await readWindow(this.reader, reversed, 0, count);
    const total = window.total;
    const located = window.records.map((record, i) => ({ record, offset: total === null ? null : total - 1 - i })).reverse();
    return { located, total };
  }

  /** Up to `count` records strictly after `cursor`. */
  async readAfter(base: ListQuery, cursor: CursorPosition, count: number): Promise<Read<R>> {
    if (cursor.offset !== null) {
      const window = await readWindow(this.reader, base, cursor.offset, count + 1);
      if (window.records[0] && idOf(window.records[0], this.list) === cursor.id) {
        const located = window.records.slice(1).map((record, i) => ({ record, offset: cursor.offset! + 1 + i }));
        // The cursor's own record is there, before the page.
        return { located, total: window.total, beyond: true };
      }
    }
    // The record moved or is gone: read after its keys, and at the same time look behind it,
    // which tells whether anything precedes the page and, from SPP's totals, the page's offset.
    const [ahead, behind] = await Promise.all([
      this.keysetRead(base, base.sort, cursor, count),
      this.keysetRead(base, reverseSort(base.sort), cursor, 1, true),
    ]);
    const start = behind.levelTotal;
    const located = ahead.records.map((record, i) => ({ record, offset: start === null ? null : start + i }));
    return { located, total: undefined, beyond: behind.records.length > 0 };
  }

  /** Up to `count` records strictly before `cursor`, in forward order. */
  async readBefore(base: ListQuery, cursor: CursorPosition, count: number): Promise<Read<R>> {
    if (cursor.offset !== null) {
      const start = Math.max(0, cursor.offset - count);
      const window = await readWindow(this.reader, base, start, cursor.offset - start + 1);
      const atCursor = window.records[cursor.offset - start];
      if (atCursor && idOf(atCursor, this.list) === cursor.id) {
        const located = window.records.slice(0, cursor.offset - start).map((record, i) => ({ record, offset: start + i }));
        return { located, total: window.total, beyond: true };
      }
    }
    const [behind, ahead] = await Promise.all([
      this.keysetRead(base, reverseSort(base.sort), cursor, count),
      this.keysetRead(base, base.sort, cursor, 1, true),
    ]);
    // `behind.levelTotal` counts every record before the cursor: the last of them has that offset minus one.
    const before = behind.levelTotal;
    const records = [...behind.records].reverse();
    const located = records.map((record, i) => ({ record, offset: before === null ? null : before - records.length + i }));
    return { located, total: undefined, beyond: ahead.records.length > 0 };
  }

  /**
   * Records strictly after `cursor` under `sort` (the base order or its reverse; with
   * `inclusive`, the cursor's own record too), found by keyset: one AND-only query per level,
   * in parallel, concatenated. `levelTotal` is how many records all levels hold, when every
   * answer's total was consistent (APAR IT45897 builds answer 0: then null).
   */
  private async keysetRead(
    base: ListQuery,
    sort: SppSort[],
    cursor: CursorPosition,
    count: number,
    inclusive = false,
  ): Promise<{ records: R[]; levelTotal: number | null }> {
    const levels = levelsAfter(cursor, sort, inclusive, (property) => isNullable(this.list, property));
    const windows = await Promise.all(levels.map((level) => readWindow(this.reader, { filter: [...base.filter, ...level], sort }, 0, count)));
    const records = windows.flatMap((w) => w.records).slice(0, count);
    const levelTotal = windows.every((w) => w.total !== null) ? windows.reduce((sum, w) => sum + w.total!, 0) : null;
    return { records, levelTotal };
  }
}

/** What a cursor is bound to: the list, its filter, its total order and any local condition. */
export function fingerprintOf(list: ListDescription<SppRecord>, query: { filter: SppFilter[]; sort: SppSort[]; local?: { key: string } }): string {
  return queryFingerprint({
    list: list.endpoint,
    filter: query.filter,
    sort: totalOrder(list, query.sort),
    ...(query.local ? { local: query.local.key } : {}),
  });
}

/** The record's id under the list's id property (validated to a digit string by the list's parse). */
function idOf(record: SppRecord, list: ListDescription<SppRecord>): string {
  return String(record[list.id]);
}

function position(record: SppRecord, sort: readonly SppSort[], list: ListDescription<SppRecord>): { keys: ReturnType<typeof keysOf>; id: string } {
  return { keys: keysOf(record, sort), id: idOf(record, list) };
}
