/**
 * Property tests of the filter/order translation and of the keyset levels: what the gateway
 * sends SPP, applied with the simulator's own semantics (src/simulator/query.ts), selects and
 * orders exactly what the GraphQL arguments mean, written here directly.
 */
import { JOB_SESSIONS } from '../../src/lists/job-sessions.js';
import { isNullable } from '../../src/pagination/list.js';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { keysOf, levelsAfter } from '../../src/pagination/keyset.js';
import { translateFilter } from '../../src/translate/filter.js';
import { translateOrder } from '../../src/translate/order.js';
import { compileFilters, sortSessions } from '../../src/simulator/query.js';
import type { JobSessionFilter, JobSessionOrder } from '../../src/__generated__/resolvers-types.js';
import type { SppJobSession } from '../../src/spp-api/types.js';
import { filterArb, listArb, orderArb, runs } from './arbitraries.js';
import { ModelList } from './model.js';

/** `*` matches any run of characters; everything else literally (a plain backtracking matcher). */
function glob(pattern: string, text: string): boolean {
  if (pattern === '') return text === '';
  if (pattern[0] === '*') return glob(pattern.slice(1), text) || (text !== '' && glob(pattern, text.slice(1)));
  return text !== '' && pattern[0] === text[0] && glob(pattern.slice(1), text.slice(1));
}

/** What a JobSessionFilter means, read straight from the schema's descriptions. */
function matches(f: JobSessionFilter | undefined, r: SppJobSession): boolean {
  if (!f) return true;
  const anyOf = (values: readonly string[] | null | undefined, value: unknown) => values === null || values === undefined || values.includes(value as string);
  const status = r.status === 'CANCELLED' ? 'CANCELED' : r.status;
  return (
    anyOf(f.status, status) &&
    anyOf(f.jobId, r.jobId) &&
    (f.jobName === null || f.jobName === undefined || glob(f.jobName, r.jobName)) &&
    anyOf(f.type, r.type) &&
    anyOf(f.subType, r.subType) &&
    anyOf(f.serviceId, r.serviceId) &&
    anyOf(f.subPolicyType, r.subPolicyType) &&
    (f.start?.gt == null || r.start > f.start.gt) &&
    (f.start?.gte == null || r.start >= f.start.gte) &&
    (f.start?.lt == null || r.start < f.start.lt) &&
    (f.start?.lte == null || r.start <= f.start.lte) &&
    (f.hasCatalog == null || r.hasCatalog === f.hasCatalog)
  );
}

const FIELD = { START: 'start', END: 'end', DURATION: 'duration', JOB_NAME: 'jobName', STATUS: 'status', TYPE: 'type' } as const;

/** What an orderBy means: nulls first, numbers (and numeric names) before other text, then the id. */
function orderedDirectly(records: SppJobSession[], orderBy: JobSessionOrder[] | undefined): string[] {
  const keys = orderBy && orderBy.length > 0 ? orderBy : [{ field: 'START' as const, direction: 'DESC' as const }];
  // Sort keys of job sessions are numbers, strings or null.
  const rank = (v: unknown): [number, number | string] => {
    if (v === null || v === undefined) return [0, 0];
    if (typeof v === 'number') return [1, v];
    const text = typeof v === 'string' ? v : JSON.stringify(v);
    return /^-?\d+(\.\d+)?$/.test(text) ? [1, Number(text)] : [2, text];
  };
  const cmp = (a: unknown, b: unknown) => {
    const [ra, va] = rank(a);
    const [rb, vb] = rank(b);
    return ra !== rb ? ra - rb : va < vb ? -1 : va > vb ? 1 : 0;
  };
  const sign = (d: string | null | undefined) => (d === 'DESC' ? -1 : 1);
  return [...records]
    .sort((a, b) => {
      for (const { field, direction } of keys) {
        const c = cmp(a[FIELD[field]], b[FIELD[field]]);
        if (c !== 0) return c * sign(direction);
      }
      return cmp(a.id, b.id) * sign(keys[keys.length - 1]!.direction);
    })
    .map((r) => r.id);
}

describe('filter and order translation (property-based)', () => {
  it('selects, through SPP filter semantics, exactly the sessions the GraphQL filter describes', () => {
    fc.assert(
      fc.property(filterArb, listArb(30), (input, list) => {
        const { filter, empty } = translateFilter(input);
        const compiled = compileFilters(filter);
        expect(compiled.ignored).toBe(0);
        expect(list.filter((r) => compiled.test(r)).map((r) => r.id)).toEqual(list.filter((r) => matches(input, r)).map((r) => r.id));
        if (empty) expect(list.filter((r) => compiled.test(r))).toEqual([]);
      }),
      { numRuns: runs(400) },
    );
  });

  it('orders, through SPP sort semantics, exactly as the GraphQL orderBy describes, in a total order', () => {
    fc.assert(
      fc.property(orderArb, listArb(30), fc.integer(), (orderBy, list, shuffleSeed) => {
        const sort = translateOrder(orderBy);
        const sorted = sortSessions(list, sort).map((r) => r.id);
        expect(sorted).toEqual(orderedDirectly(list, orderBy));
        // Total: the input's order does not matter.
        const shuffled = [...list].sort((a, b) => ((Number(a.id) * 31 + shuffleSeed) % 97) - ((Number(b.id) * 31 + shuffleSeed) % 97));
        expect(sortSessions(shuffled, sort).map((r) => r.id)).toEqual(sorted);
      }),
      { numRuns: runs(400) },
    );
  });

  it('expresses "after this record" as keyset levels whose concatenated results are exactly the records after it', () => {
    fc.assert(
      fc.property(
        orderArb,
        filterArb,
        listArb(30).filter((l) => l.length > 0),
        fc.nat(),
        fc.boolean(),
        (orderBy, input, list, pick, inclusive) => {
          const sort = translateOrder(orderBy);
          const { filter } = translateFilter(input);
          const model = new ModelList(list);
          const ordered = model.query(filter, sort);
          // The cursor's record need not match the filter (or still exist): any record of the list.
          const at = list[pick % list.length]!;
          const position = { keys: keysOf(at, sort), id: at.id };
          // Which keys may be null comes from the job-session list's description, as the engine reads it.
          const viaLevels = levelsAfter(position, sort, inclusive, (property) => isNullable(JOB_SESSIONS, property)).flatMap((level) =>
            model.query([...filter, ...level], sort),
          );
          const all = model.query([], sort);
          const index = all.findIndex((r) => r.id === at.id);
          const after = new Set(all.slice(inclusive ? index : index + 1).map((r) => r.id));
          expect(viaLevels.map((r) => r.id)).toEqual(ordered.filter((r) => after.has(r.id)).map((r) => r.id));
        },
      ),
      { numRuns: runs(400) },
    );
  });
});
