/**
 * Property tests of the Relay paging engine (Paginator over readWindow) against the model
 * of an SPP list (model.ts): random lists, filters, orders, page sizes, walks in both
 * directions, changes to the list between pages, and SPP's quirks in every combination.
 *
 * The Paginator is the real engine, driven through its public `page` method; only SPP is
 * modelled. Each page is compared with what the Relay spec says it must be for the list as
 * it is at that moment, so the properties hold whatever the engine's read strategy.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CursorCodec } from '../../src/pagination/cursor.js';
import { Paginator, type Page, type PageArgs } from '../../src/pagination/paginator.js';
import { JOB_SESSIONS } from '../../src/lists/job-sessions.js';
import { createWindowReader } from '../../src/pagination/window.js';
import { translateFilter } from '../../src/translate/filter.js';
import { translateOrder } from '../../src/translate/order.js';
import type { JobSessionFilter, JobSessionOrder } from '../../src/__generated__/resolvers-types.js';
import type { SppJobSession } from '../../src/spp-api/types.js';
import { filterArb, listArb, mutationArb, orderArb, quirksArb, readerArb, runs, stepArb, type Mutation, type Quirks, type Step } from './arbitraries.js';
import { ModelList, compareUnder } from './model.js';

const codec = new CursorCodec(Buffer.from('property-test-cursor-secret'));
const LIMITS = { defaultSize: 10, maxSize: 1000 };

interface Setup {
  list: SppJobSession[];
  filter: JobSessionFilter | undefined;
  orderBy: JobSessionOrder[] | undefined;
  quirks: Quirks;
  reader: { pageSizeCap: number; concurrency: number };
  seed: number;
}

const setupArb: fc.Arbitrary<Setup> = fc.record({
  list: listArb(40),
  filter: filterArb,
  orderBy: orderArb,
  quirks: quirksArb,
  reader: readerArb,
  seed: fc.integer(),
});

function engine(setup: Setup) {
  const model = new ModelList(setup.list);
  const paginator = new Paginator(
    createWindowReader(model.fetcher(setup.quirks, setup.seed), setup.reader.pageSizeCap, setup.reader.concurrency),
    codec,
    LIMITS,
  );
  const { filter, empty } = translateFilter(setup.filter);
  const sort = translateOrder(setup.orderBy);
  const compare = compareUnder(sort);
  /** The record each cursor was returned for, so the oracle can place cursors whose record has gone. */
  const cursorRecords = new Map<string, SppJobSession>();
  return {
    model,
    compare,
    cursorRecords,
    current: () => model.query(filter, sort),
    async page(args: PageArgs): Promise<Page<SppJobSession>> {
      const page = await paginator.page(JOB_SESSIONS, args, { filter, sort, empty });
      for (const edge of page.edges) cursorRecords.set(edge.cursor, edge.node);
      return page;
    },
  };
}

type Engine = ReturnType<typeof engine>;

/** What the Relay spec says `page(args)` must return for the list `now`. */
function expectedPage(e: Engine, args: PageArgs) {
  const now = e.current();
  const after = args.after ? e.cursorRecords.get(args.after)! : undefined;
  const before = args.before ? e.cursorRecords.get(args.before)! : undefined;
  const inside = now.filter((r) => (!after || e.compare(r, after) > 0) && (!before || e.compare(r, before) < 0));
  if (args.last !== undefined && args.last !== null) {
    const n = args.last;
    return {
      ids: inside.slice(Math.max(0, inside.length - n)).map((r) => r.id),
      hasPreviousPage: inside.length > n,
      hasNextPage: before ? now.some((r) => e.compare(r, before) >= 0) : false,
      total: now.length,
    };
  }
  const n = args.first ?? LIMITS.defaultSize;
  return {
    ids: inside.slice(0, n).map((r) => r.id),
    hasNextPage: inside.length > n,
    hasPreviousPage: after ? now.some((r) => e.compare(r, after) <= 0) : false,
    total: now.length,
  };
}

async function checkPage(e: Engine, args: PageArgs): Promise<Page<SppJobSession>> {
  const want = expectedPage(e, args);
  const page = await e.page(args);
  const total = await page.totalCount();
  expect({
    ids: page.edges.map((edge) => edge.node.id),
    hasNextPage: page.pageInfo.hasNextPage,
    hasPreviousPage: page.pageInfo.hasPreviousPage,
  }).toEqual({ ids: want.ids, hasNextPage: want.hasNextPage, hasPreviousPage: want.hasPreviousPage });
  expect(page.pageInfo.startCursor).toBe(page.edges[0]?.cursor ?? null);
  expect(page.pageInfo.endCursor).toBe(page.edges.at(-1)?.cursor ?? null);
  // totalCount is right or null, never wrong.
  if (total !== null) expect(total).toBe(want.total);
  return page;
}

/** Runs a walk, checking every page against the spec for the list as it is then. */
async function walk(setup: Setup, steps: Step[]): Promise<void> {
  const e = engine(setup);
  let last: Page<SppJobSession> | undefined;
  for (const step of steps) {
    switch (step.kind) {
      case 'mutate':
        e.model.apply(step.mutation);
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

/**
 * Walks in one direction to the end, changing the list between pages; returns the records
 * seen, in the order of the list, and the ids that were in the list throughout. Each mutation
 * applies once, after the page of its index.
 */
async function walkToEnd(setup: Setup, size: number, direction: 'forward' | 'backward', mutations: Mutation[]) {
  const e = engine(setup);
  const touched = new Set<string>();
  const initial = e.current().map((r) => r.id);
  const seen: SppJobSession[] = [];
  let cursor: string | null = null;
  const budget = initial.length + mutations.reduce((n, m) => n + m.insert.length, 0) + 2;
  for (let i = 0; ; i++) {
    if (i > budget) throw new Error(`the walk did not end within ${budget} pages`);
    const page: Page<SppJobSession> = await e.page(direction === 'forward' ? { first: size, after: cursor } : { last: size, before: cursor });
    const edges = direction === 'forward' ? page.edges : [...page.edges].reverse();
    seen.push(...edges.map((edge) => edge.node));
    const more = direction === 'forward' ? page.pageInfo.hasNextPage : page.pageInfo.hasPreviousPage;
    if (!more) break;
    cursor = direction === 'forward' ? page.pageInfo.endCursor : page.pageInfo.startCursor;
    const mutation = mutations[i];
    if (mutation) {
      const { inserted, expired } = e.model.apply(mutation);
      for (const id of [...inserted, ...expired]) touched.add(id);
    }
  }
  const stable = initial.filter((id) => !touched.has(id));
  // A backward walk collects the last page first: put what it saw back in the list's order.
  return { e, seen: direction === 'forward' ? seen : seen.reverse(), stable };
}

describe('Paginator (property-based, against a model of SPP)', () => {
  it('returns, for every page of any walk, exactly the Relay page of the list as it is then, whatever SPP quirks are on', async () => {
    await fc.assert(
      fc.asyncProperty(setupArb, fc.array(stepArb, { minLength: 1, maxLength: 12 }), async (setup, steps) => walk(setup, steps)),
      { numRuns: runs(150) },
    );
  });

  it.each(['forward', 'backward'] as const)(
    'returns every record that existed throughout a %s walk exactly once and in order, while sessions start and expire',
    async (direction) => {
      await fc.assert(
        fc.asyncProperty(setupArb, fc.integer({ min: 1, max: 9 }), fc.array(mutationArb, { maxLength: 4 }), async (setup, size, mutations) => {
          const { e, seen, stable } = await walkToEnd(setup, size, direction, mutations);
          const ids = seen.map((r) => r.id);
          expect(new Set(ids).size).toBe(ids.length);
          for (let i = 1; i < seen.length; i++) expect(e.compare(seen[i - 1]!, seen[i]!)).toBeLessThan(0);
          expect(ids.filter((id) => stable.includes(id))).toEqual(stable);
        }),
        { numRuns: runs(100) },
      );
    },
  );

  it('refuses bad sizes and altered or foreign cursors with BAD_USER_INPUT before any call to SPP', async () => {
    await fc.assert(
      fc.asyncProperty(
        setupArb,
        fc.integer({ min: 1, max: 5 }),
        fc.oneof(
          fc.record({ first: fc.oneof(fc.integer({ max: -1 }), fc.integer({ min: LIMITS.maxSize + 1 })) }),
          fc.record({ last: fc.oneof(fc.integer({ max: -1 }), fc.integer({ min: LIMITS.maxSize + 1 })) }),
          fc.record({ first: fc.nat({ max: 5 }), last: fc.nat({ max: 5 }) }),
          fc.constant('altered' as const),
          fc.constant('foreign' as const),
        ),
        fc.nat(),
        async (setup, size, bad, at) => {
          const e = engine({
            ...setup,
            list:
              setup.list.length > 0 ? setup.list : [{ ...setup.list[0], id: '1', start: 0, jobName: 'x', jobId: '1', status: 'COMPLETED', type: 'catalog' }],
          });
          let args: PageArgs;
          if (bad === 'altered' || bad === 'foreign') {
            const page = await e.page({ first: size });
            const cursor = page.pageInfo.endCursor;
            if (cursor === null) return;
            if (bad === 'altered') {
              const i = at % cursor.length;
              const flipped = cursor.slice(0, i) + String.fromCharCode(cursor.charCodeAt(i) ^ (1 << (at % 5))) + cursor.slice(i + 1);
              args = { first: size, after: flipped };
            } else {
              args = { first: size, after: cursor };
            }
          } else {
            args = bad;
          }
          e.model.calls.length = 0;
          const other = bad === 'foreign' ? engine({ ...setup, filter: { ...setup.filter, hasCatalog: !setup.filter?.hasCatalog } }) : e;
          await expect(other.page(args)).rejects.toMatchObject({ extensions: { code: 'BAD_USER_INPUT' } });
          expect([...e.model.calls, ...other.model.calls]).toEqual([]);
        },
      ),
      { numRuns: runs(100) },
    );
  });

  it('costs SPP nothing when the filter can match nothing', async () => {
    await fc.assert(
      fc.asyncProperty(setupArb, async (setup) => {
        const e = engine({ ...setup, filter: { ...setup.filter, status: [] } });
        const page = await e.page({ first: 5 });
        expect(page.edges).toEqual([]);
        expect(await page.totalCount()).toBe(0);
        expect(e.model.calls).toEqual([]);
      }),
      { numRuns: runs(20) },
    );
  });
});

/** Counterexamples the generators found, kept as they were shrunk (see the closing note of issue 15). */
describe('Paginator regressions found by the property tests', () => {
  const session = (id: string, jobName: string): SppJobSession => ({
    id,
    start: 1_760_000_000_000,
    jobName,
    jobId: '1001',
    status: 'COMPLETED',
    type: 'protection',
    subType: null,
    serviceId: 'serviceprovider.protection.hypervisor',
    subPolicyType: null,
    hasCatalog: false,
    duration: null,
    end: null,
  });
  const plain: Quirks = { totalZero: false, ignorePageSize: false, serverMax: undefined, shortAnswers: false };
  const { id: _id, ...fieldsOf9 } = session('', '9');

  it('orders job names that are numbers before the others, so a keyset read after "2024" still finds "10_daily" (seed 309910122)', async () => {
    const setup: Setup = {
      list: [session('1700000000000', '2024'), session('1700000007919', '10_daily')],
      filter: undefined,
      orderBy: [{ field: 'JOB_NAME', direction: 'ASC' }],
      quirks: { ...plain, totalZero: true },
      reader: { pageSizeCap: 1, concurrency: 1 },
      seed: 0,
    };
    const { seen } = await walkToEnd(setup, 1, 'backward', []);
    expect(seen.map((r) => r.jobName)).toEqual(['2024', '10_daily']);
  });

  it('walks forward over a job named "9" inserted before the cursor and returns the rest in order (seed 1640577354)', async () => {
    const setup: Setup = {
      list: [session('1700000000000', '10_daily'), session('1700000007919', 'vmware_gold')],
      filter: undefined,
      orderBy: [
        { field: 'JOB_NAME', direction: 'ASC' },
        { field: 'START', direction: 'ASC' },
      ],
      quirks: plain,
      reader: { pageSizeCap: 1, concurrency: 1 },
      seed: 0,
    };
    const { e, seen } = await walkToEnd(setup, 1, 'forward', [{ insert: [fieldsOf9], expire: [] }]);
    expect(seen.map((r) => r.jobName)).toEqual(['10_daily', 'vmware_gold']);
    expect(e.compare(seen[0]!, seen[1]!)).toBeLessThan(0);
  });

  it('answers hasPreviousPage exactly before a cursor whose record moved behind a numeric job name (seed -2017902776)', async () => {
    const setup: Setup = {
      list: [session('1700000000000', '10_daily')],
      filter: undefined,
      orderBy: [
        { field: 'JOB_NAME', direction: 'ASC' },
        { field: 'START', direction: 'ASC' },
      ],
      quirks: plain,
      reader: { pageSizeCap: 1, concurrency: 1 },
      seed: 0,
    };
    await walk(setup, [
      { kind: 'last', size: 1 },
      { kind: 'mutate', mutation: { insert: [fieldsOf9], expire: [] } },
      { kind: 'previous', size: 0 },
      { kind: 'first', size: 1 },
    ]);
  });
});
