/**
 * Relay connections over SPP's offset-paged job-session list
 * (GraphQL Cursor Connections Specification, https://relay.dev/graphql/connections.htm).
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
import type { SppJobSession, SppSort } from '../upstream/types.js';
import type { CursorCodec, CursorPosition } from './cursor.js';
import { queryFingerprint } from './cursor.js';
import { comparePositions, keysOf, levelsAfter, reverseSort } from './keyset.js';
import { readWindow, type ListQuery, type WindowReader } from './window.js';
import { badUserInput } from '../errors.js';
import type { SppFilter } from '../upstream/types.js';

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

export interface JobSessionEdgeValue {
  /** Computed on first read: a cursor is an HMAC, and most queries select no cursor at all. */
  readonly cursor: string;
  node: SppJobSession;
}

/**
 * An edge whose cursor is made only when read (graphql-js's default resolver reads the
 * `cursor` property only when the field is selected): at 1000 rows the HMACs of unselected
 * cursors were 13 % of the gateway's CPU (issue 8).
 */
class Edge implements JobSessionEdgeValue {
  private made: string | undefined;

  constructor(
    readonly node: SppJobSession,
    private readonly offset: number | null,
    private readonly codec: CursorCodec,
    private readonly fingerprint: string,
    private readonly sort: readonly SppSort[],
  ) {}

  get cursor(): string {
    return (this.made ??= this.codec.encode(this.fingerprint, { offset: this.offset, keys: keysOf(this.node, this.sort), id: this.node.id }));
  }
}

/** What `jobSessions` resolves to (the codegen mapper of JobSessionConnection). */
export interface JobSessionPage {
  edges: JobSessionEdgeValue[];
  pageInfo: { hasNextPage: boolean; hasPreviousPage: boolean; startCursor: string | null; endCursor: string | null };
  /** SPP's total for the filter, or null when it contradicts the records (read lazily: costs a call only when asked). */
  totalCount: () => Promise<number | null>;
}

/** A record with its 0-based index in the forward order, when known. */
interface Located {
  record: SppJobSession;
  offset: number | null;
}

interface Read {
  located: Located[];
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
  constructor(
    private readonly reader: WindowReader,
    private readonly codec: CursorCodec,
    private readonly limits: PageLimits,
  ) {}

  /**
   * Reads one page. Validates everything (sizes, cursors) before the first upstream call,
   * so bad input costs SPP nothing.
   */
  async page(args: PageArgs, filter: SppFilter[], sort: SppSort[], empty = false): Promise<JobSessionPage> {
    const { direction, size } = pageSize(args, this.limits);
    const fingerprint = queryFingerprint({ filter, sort });
    const after = args.after ? this.codec.decode(fingerprint, args.after, 'after') : null;
    const before = args.before ? this.codec.decode(fingerprint, args.before, 'before') : null;
    const base: ListQuery = { filter, sort };

    if (empty) return this.build([], false, false, fingerprint, 0, base);

    if (direction === 'forward') {
      let { located, total, beyond } = after ? await this.readAfter(base, after, size + 1) : await this.readFromStart(base, size + 1);
      if (before) located = located.filter((l) => comparePositions(position(l.record, sort), before, sort) < 0);
      // Spec: with `first`, hasNextPage is whether more than `first` edges remain after both cursors
      // apply; hasPreviousPage, with `after`, whether anything lies at or before it.
      return this.build(located.slice(0, size), located.length > size, beyond === true, fingerprint, total, base);
    }

    let { located, total, beyond } = before ? await this.readBefore(base, before, size + 1) : await this.readFromEnd(base, size + 1);
    if (after) located = located.filter((l) => comparePositions(position(l.record, sort), after, sort) > 0);
    const hasPreviousPage = located.length > size;
    return this.build(located.slice(Math.max(0, located.length - size)), beyond === true, hasPreviousPage, fingerprint, total, base);
  }

  private build(
    located: Located[],
    hasNextPage: boolean,
    hasPreviousPage: boolean,
    fingerprint: string,
    total: number | null | undefined,
    base: ListQuery,
  ): JobSessionPage {
    const edges = located.map(({ record, offset }) => new Edge(record, offset, this.codec, fingerprint, base.sort));
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
        counted ??= readWindow(this.reader, base, 0, 1).then((w) => w.total);
        return counted;
      },
    };
  }

  private async readFromStart(base: ListQuery, count: number): Promise<Read> {
    const window = await readWindow(this.reader, base, 0, count);
    return { located: window.records.map((record, i) => ({ record, offset: i })), total: window.total };
  }

  /** The last `count` records, read as the first ones of the reversed order. */
  private async readFromEnd(base: ListQuery, count: number): Promise<Read> {
    const reversed = { filter: base.filter, sort: reverseSort(base.sort) };
    const window = await readWindow(this.reader, reversed, 0, count);
    const total = window.total;
    const located = window.records.map((record, i) => ({ record, offset: total === null ? null : total - 1 - i })).reverse();
    return { located, total };
  }

  /** Up to `count` records strictly after `cursor`. */
  private async readAfter(base: ListQuery, cursor: CursorPosition, count: number): Promise<Read> {
    if (cursor.offset !== null) {
      const window = await readWindow(this.reader, base, cursor.offset, count + 1);
      if (window.records[0]?.id === cursor.id) {
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
  private async readBefore(base: ListQuery, cursor: CursorPosition, count: number): Promise<Read> {
    if (cursor.offset !== null) {
      const start = Math.max(0, cursor.offset - count);
      const window = await readWindow(this.reader, base, start, cursor.offset - start + 1);
      if (window.records[cursor.offset - start]?.id === cursor.id) {
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
  private async keysetRead(base: ListQuery, sort: SppSort[], cursor: CursorPosition, count: number, inclusive = false): Promise<{ records: SppJobSession[]; levelTotal: number | null }> {
    const levels = levelsAfter(cursor, sort, inclusive);
    const windows = await Promise.all(levels.map((level) => readWindow(this.reader, { filter: [...base.filter, ...level], sort }, 0, count)));
    const records = windows.flatMap((w) => w.records).slice(0, count);
    const levelTotal = windows.every((w) => w.total !== null) ? windows.reduce((sum, w) => sum + w.total!, 0) : null;
    return { records, levelTotal };
  }
}


function position(record: SppJobSession, sort: readonly SppSort[]): { keys: ReturnType<typeof keysOf>; id: string } {
  return { keys: keysOf(record, sort), id: record.id };
}
