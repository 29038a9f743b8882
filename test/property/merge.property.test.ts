/**
 * Property tests of one Relay connection over several upstreams (MergedPaginator, issue 21)
 * against a model of N SPP lists: random server sets (ids repeat across servers, so the
 * (server, id) tie-break is exercised), ties in every key, nulls, SPP's quirks per server,
 * inserts and expiries on any server between pages, walks in both directions.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CursorCodec } from '../../src/pagination/cursor.js';
import { MergedPaginator, type MergedPage } from '../../src/pagination/merge.js';
import type { PageArgs } from '../../src/pagination/paginator.js';
import { totalOrder } from '../../src/pagination/list.js';
import { JOB_SESSIONS } from '../../src/lists/job-sessions.js';
import { createWindowReader, type WindowReader } from '../../src/pagination/window.js';
import { translateFilter } from '../../src/translate/filter.js';
import { translateOrder } from '../../src/translate/order.js';
import { compareSortValues } from '../../src/simulator/query.js';
import type { JobSessionFilter, JobSessionOrder } from '../../src/__generated__/resolvers-types.js';
import type { SppJobSession, SppSort } from '../../src/spp-api/types.js';
import { filterArb, listArb, mutationArb, orderArb, quirksArb, readerArb, runs, stepArb, type Mutation, type Quirks, type Step } from './arbitraries.js';
import { ModelList } from './model.js';

const codec = new CursorCodec(Buffer.from('property-test-cursor-secret'));
const LIMITS = { defaultSize: 10, maxSize: 1000 };

interface Server {
  name: string;
  list: SppJobSession[];
  quirks: Quirks;
  reader: { pageSizeCap: number; concurrency: number };
  seed: number;
}

interface Setup {
  servers: Server[];
  filter: JobSessionFilter | undefined;
  orderBy: JobSessionOrder[] | undefined;
}

const NAMES = ['athens', 'berlin', 'cairo', 'dublin'];

const setupArb: fc.Arbitrary<Setup> = fc.record({
  servers: fc
    .uniqueArray(fc.constantFrom(...NAMES), { minLength: 1, maxLength: 4 })
    .chain((names) =>
      fc.tuple(...names.map((name) => fc.record({ name: fc.constant(name), list: listArb(15), quirks: quirksArb, reader: readerArb, seed: fc.integer() }))),
    ),
  filter: filterArb,
  orderBy: orderArb,
});

interface Item {
  server: string;
  record: SppJobSession;
}

/** The merged order: the sort keys, then the server's name, then the id (both in the last key's direction). */
function mergedCompare(sort: readonly SppSort[]) {
  return (a: Item, b: Item): number => {
    for (const { property, direction } of sort.slice(0, -1)) {
      const c = compareSortValues(a.record[property], b.record[property]);
      if (c !== 0) return direction === 'DESC' ? -c : c;
    }
    const desc = sort[sort.length - 1]!.direction === 'DESC';
    const s = a.server < b.server ? -1 : a.server > b.server ? 1 : 0;
    const c = s !== 0 ? s : compareSortValues(a.record.id, b.record.id);
    return desc ? -c : c;
  };
}

const key = (i: Item) => `${i.server}/${i.record.id}`;

function engine(setup: Setup) {
  const models = new Map(setup.servers.map((s) => [s.name, new ModelList(s.list)]));
  const readers = new Map<string, WindowReader<SppJobSession>>(
    setup.servers.map((s) => [s.name, createWindowReader(models.get(s.name)!.fetcher(s.quirks, s.seed), s.reader.pageSizeCap, s.reader.concurrency)]),
  );
  const paginator = new MergedPaginator(codec, LIMITS);
  const { filter, empty } = translateFilter(setup.filter);
  const sort = translateOrder(setup.orderBy);
  const compare = mergedCompare(totalOrder(JOB_SESSIONS, sort));
  const cursorItems = new Map<string, Item>();
  return {
    models,
    compare,
    cursorItems,
    current: (): Item[] =>
      [...models].flatMap(([server, m]) => m.query(filter, totalOrder(JOB_SESSIONS, sort)).map((record) => ({ server, record }))).sort(compare),
    async page(args: PageArgs): Promise<MergedPage<SppJobSession>> {
      const page = await paginator.page(JOB_SESSIONS, readers, args, { filter, sort, empty });
      for (const edge of page.edges) cursorItems.set(edge.cursor, { server: edge.upstream, record: edge.node });
      return page;
    },
  };
}

type Engine = ReturnType<typeof engine>;

function expectedPage(e: Engine, args: PageArgs) {
  const now = e.current();
  const after = args.after ? e.cursorItems.get(args.after)! : undefined;
  const before = args.before ? e.cursorItems.get(args.before)! : undefined;
  const inside = now.filter((r) => (!after || e.compare(r, after) > 0) && (!before || e.compare(r, before) < 0));
  if (args.last !== undefined && args.last !== null) {
    const n = args.last;
    return {
      keys: inside.slice(Math.max(0, inside.length - n)).map(key),
      main: inside.length > n,
      other: before ? now.some((r) => e.compare(r, before) >= 0) : false,
      total: now.length,
    };
  }
  const n = args.first ?? LIMITS.defaultSize;
  return {
    keys: inside.slice(0, n).map(key),
    main: inside.length > n,
    other: after ? now.some((r) => e.compare(r, after) <= 0) : false,
    total: now.length,
  };
}

async function checkPage(e: Engine, args: PageArgs): Promise<MergedPage<SppJobSession>> {
  const want = expectedPage(e, args);
  const page = await e.page(args);
  const backward = args.last !== undefined && args.last !== null;
  const main = backward ? page.pageInfo.hasPreviousPage : page.pageInfo.hasNextPage;
  const other = backward ? page.pageInfo.hasNextPage : page.pageInfo.hasPreviousPage;
  expect({ keys: page.edges.map((edge) => `${edge.upstream}/${edge.node.id}`), main }).toEqual({ keys: want.keys, main: want.main });
  // The flag of the cursor's side is true whenever records lie there (it may say true after they expired).
  if (want.other) expect(other).toBe(true);
  expect(page.failures).toEqual([]);
  const { total } = await page.totalCount();
  if (total !== null) expect(total).toBe(want.total);
  return page;
}

function mutate(e: Engine, server: number, mutation: Mutation): string[] {
  const names = [...e.models.keys()];
  const name = names[server % names.length]!;
  const { inserted, expired } = e.models.get(name)!.apply(mutation);
  return [...inserted, ...expired].map((id) => `${name}/${id}`);
}

async function walk(setup: Setup, steps: Array<Step & { server?: number }>): Promise<void> {
  const e = engine(setup);
  let last: MergedPage<SppJobSession> | undefined;
  for (const step of steps) {
    switch (step.kind) {
      case 'mutate':
        mutate(e, step.server ?? 0, step.mutation);
        break;
      case 'first':
        last = await checkPage(e, { first: step.size });
        break;
      case 'last':
        last = await checkPage(e, { last: step.size });
        break;
      case 'next':
        last = await checkPage(e, { first: step.size, after: last?.pageInfo.endCursor ?? null });
        break;
      case 'previous':
        last = await checkPage(e, { last: step.size, before: last?.pageInfo.startCursor ?? null });
        break;
      case 'between': {
        const [after, before] = [last?.pageInfo.startCursor ?? null, last?.pageInfo.endCursor ?? null];
        last = await checkPage(e, step.direction === 'forward' ? { first: step.size, after, before } : { last: step.size, after, before });
        break;
      }
    }
  }
}

const mergedStepArb = fc.tuple(stepArb, fc.nat({ max: 3 })).map(([step, server]) => ({ ...step, server }));

describe('MergedPaginator (property-based, against a model of several SPP servers)', () => {
  it('returns, for every page of any walk over any server set, exactly the Relay page of the merged list as it is then', async () => {
    await fc.assert(
      fc.asyncProperty(setupArb, fc.array(mergedStepArb, { minLength: 1, maxLength: 12 }), async (setup, steps) => walk(setup, steps)),
      { numRuns: runs(150) },
    );
  });

  it.each(['forward', 'backward'] as const)(
    'returns every record that existed throughout a %s walk exactly once and in the merged order, while sessions start and expire on any server',
    async (direction) => {
      await fc.assert(
        fc.asyncProperty(
          setupArb,
          fc.integer({ min: 1, max: 9 }),
          fc.array(fc.tuple(mutationArb, fc.nat({ max: 3 })), { maxLength: 4 }),
          async (setup, size, mutations) => {
            const e = engine(setup);
            const initial = e.current().map(key);
            const touched = new Set<string>();
            const seen: Item[] = [];
            let cursor: string | null = null;
            for (let i = 0; ; i++) {
              if (i > initial.length + 20) throw new Error('the walk did not end');
              const page: MergedPage<SppJobSession> = await e.page(direction === 'forward' ? { first: size, after: cursor } : { last: size, before: cursor });
              const edges = direction === 'forward' ? page.edges : [...page.edges].reverse();
              seen.push(...edges.map((edge) => ({ server: edge.upstream, record: edge.node })));
              if (!(direction === 'forward' ? page.pageInfo.hasNextPage : page.pageInfo.hasPreviousPage)) break;
              cursor = direction === 'forward' ? page.pageInfo.endCursor : page.pageInfo.startCursor;
              const m = mutations[i];
              if (m) for (const k of mutate(e, m[1], m[0])) touched.add(k);
            }
            const ordered = direction === 'forward' ? seen : seen.reverse();
            const keys = ordered.map(key);
            expect(new Set(keys).size).toBe(keys.length);
            for (let i = 1; i < ordered.length; i++) expect(e.compare(ordered[i - 1]!, ordered[i]!)).toBeLessThan(0);
            const stable = initial.filter((k) => !touched.has(k));
            expect(keys.filter((k) => stable.includes(k))).toEqual(stable);
          },
        ),
        { numRuns: runs(100) },
      );
    },
  );
});

describe('MergedPaginator with a server that stops answering', () => {
  it("returns the others' records with the failure named, then delivers the stopped server's records once it answers: nobody skipped or repeated", async () => {
    await fc.assert(
      fc.asyncProperty(
        setupArb,
        fc.integer({ min: 1, max: 6 }),
        fc.nat({ max: 3 }),
        fc.array(fc.boolean(), { minLength: 1, maxLength: 6 }),
        async (setup, size, which, downs) => {
          const models = new Map(setup.servers.map((s) => [s.name, new ModelList(s.list)]));
          const victim = setup.servers[which % setup.servers.length]!.name;
          let down = false;
          const readers = new Map<string, WindowReader<SppJobSession>>(
            setup.servers.map((s) => {
              const fetch = models.get(s.name)!.fetcher(s.quirks, s.seed);
              return [
                s.name,
                createWindowReader<SppJobSession>(
                  async (req) => {
                    if (down && s.name === victim) throw new Error(`${s.name} is down`);
                    return fetch(req);
                  },
                  s.reader.pageSizeCap,
                  s.reader.concurrency,
                ),
              ];
            }),
          );
          const paginator = new MergedPaginator(codec, LIMITS);
          const { filter, empty } = translateFilter(setup.filter);
          const sort = translateOrder(setup.orderBy);
          const compare = mergedCompare(totalOrder(JOB_SESSIONS, sort));
          const all = [...models]
            .flatMap(([server, m]) => m.query(filter, totalOrder(JOB_SESSIONS, sort)).map((record) => ({ server, record })))
            .sort(compare)
            .map(key);
          const seen: string[] = [];
          let cursor: string | null = null;
          for (let i = 0; ; i++) {
            if (i > all.length + downs.length + 5) throw new Error('the walk did not end');
            // Never down for every server at once: that page fails as a whole (checked below).
            down = setup.servers.length > 1 && (downs[i] ?? false);
            const page: MergedPage<SppJobSession> = await paginator.page(JOB_SESSIONS, readers, { first: size, after: cursor }, { filter, sort, empty });
            seen.push(...page.edges.map((e) => `${e.upstream}/${e.node.id}`));
            if (down && !empty) {
              expect(page.failures.map((f) => f.upstream)).toEqual([victim]);
              expect(page.edges.every((e) => e.upstream !== victim)).toBe(true);
              expect(page.pageInfo.hasNextPage).toBe(true);
            }
            if (!page.pageInfo.hasNextPage) break;
            cursor = page.pageInfo.endCursor ?? cursor;
          }
          expect([...seen].sort()).toEqual([...all].sort());
          // Each server's own records arrive in the merged order.
          for (const server of models.keys()) expect(seen.filter((k) => k.startsWith(`${server}/`))).toEqual(all.filter((k) => k.startsWith(`${server}/`)));
        },
      ),
      { numRuns: runs(100) },
    );
  });

  it('fails the page as one server would when every server fails', async () => {
    const reader = createWindowReader<SppJobSession>(() => Promise.reject(new Error('down')), 100, 1);
    const readers = new Map([
      ['a', reader],
      ['b', reader],
    ]);
    await expect(new MergedPaginator(codec, LIMITS).page(JOB_SESSIONS, readers, { first: 5 }, { filter: [], sort: [] })).rejects.toThrow('down');
  });
});

describe('MergedPaginator upstream requests', () => {
  it('reads a 25-row page over three servers with one request per server, first page and next page alike', async () => {
    const sessions = (n: number, base: number) =>
      Array.from({ length: n }, (_, i) => ({
        id: String(1_700_000_000_000 + i),
        start: base + i * 1000,
        jobName: 'j',
        jobId: '1',
        status: 'COMPLETED',
        type: 'catalog',
        end: null,
        duration: null,
      }));
    const models = [new ModelList(sessions(60, 1)), new ModelList(sessions(80, 2)), new ModelList(sessions(70, 3))];
    const quirks = { totalZero: false, ignorePageSize: false, serverMax: undefined, shortAnswers: false };
    const readers = new Map(models.map((m, i) => [`s${i}`, createWindowReader(m.fetcher(quirks, 1), 100, 4)]));
    const paginator = new MergedPaginator(codec, LIMITS);
    const first = await paginator.page(JOB_SESSIONS, readers, { first: 25 }, { filter: [], sort: [] });
    expect(models.map((m) => m.calls.length)).toEqual([1, 1, 1]);
    const next = await paginator.page(JOB_SESSIONS, readers, { first: 25, after: first.pageInfo.endCursor }, { filter: [], sort: [] });
    expect(models.map((m) => m.calls.length)).toEqual([2, 2, 2]);
    expect(first.edges.length + next.edges.length).toBe(50);
    expect(await next.totalCount()).toEqual({ total: 210, perUpstream: { s0: 60, s1: 80, s2: 70 } });
  });
});
