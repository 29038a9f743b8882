/**
 * A plain in-memory model of one SPP job-session list, and an SPP-shaped PageFetcher over it
 * with SPP's quirks. Filter and sort follow the simulator's own semantics (src/simulator/query.ts,
 * the product's definition of what SPP does), so the model is the reference the paging engine
 * is checked against; the quirks live here, never in the engine under test.
 */
import { compileFilters, compareSortValues } from '../../src/simulator/query.js';
import { mulberry32 } from '../../src/simulator/rng.js';
import type { PageFetcher } from '../../src/pagination/window.js';
import type { SppFilter, SppJobSession, SppSort } from '../../src/spp-api/types.js';
import { idFor, type Mutation, type Quirks } from './arbitraries.js';

/** Compares two records under an SPP sort whose last key is the id tie-breaker. */
export function compareUnder(sort: readonly SppSort[]) {
  return (a: SppJobSession, b: SppJobSession): number => {
    for (const { property, direction } of sort) {
      const c = compareSortValues(a[property], b[property]);
      if (c !== 0) return direction === 'DESC' ? -c : c;
    }
    return 0;
  };
}

export class ModelList {
  records: SppJobSession[];
  private nextId: number;
  /** Every upstream call made through `fetcher`, for call-count assertions. */
  readonly calls: Array<{ pageStartIndex: number; pageSize: number; filter: SppFilter[]; sort: SppSort[] }> = [];

  constructor(records: SppJobSession[]) {
    this.records = [...records];
    this.nextId = records.length;
  }

  /** The filtered, ordered list SPP would page through right now. */
  query(filter: readonly SppFilter[], sort: readonly SppSort[]): SppJobSession[] {
    const compiled = compileFilters(filter);
    return this.records.filter((r) => compiled.test(r)).sort(compareUnder(sort));
  }

  apply(mutation: Mutation): { inserted: string[]; expired: string[] } {
    const expired: string[] = [];
    for (const index of mutation.expire) {
      if (this.records.length === 0) break;
      expired.push(this.records.splice(index % this.records.length, 1)[0]!.id);
    }
    const inserted = mutation.insert.map((fields) => {
      const record = { ...fields, id: idFor(this.nextId++) } as SppJobSession;
      this.records.push(record);
      return record.id;
    });
    return { inserted, expired };
  }

  /** SPP's `GET /api/endeavour/jobsession` over this list, with `quirks`. */
  fetcher(quirks: Quirks, seed: number): PageFetcher<SppJobSession> {
    const rng = mulberry32(seed);
    return async ({ pageStartIndex, pageSize, filter, sort }) => {
      this.calls.push({ pageStartIndex, pageSize, filter, sort });
      // Answer on a later turn, as a socket would: callers in parallel interleave.
      await Promise.resolve();
      const list = this.query(filter, sort);
      let size = quirks.ignorePageSize ? 100 : pageSize;
      if (quirks.serverMax !== undefined) size = Math.min(size, quirks.serverMax);
      const available = Math.max(0, list.length - pageStartIndex);
      if (quirks.shortAnswers && available > 1 && size > 1 && rng() < 0.4) size = 1 + Math.floor(rng() * (size - 1));
      return { total: quirks.totalZero ? 0 : list.length, records: list.slice(pageStartIndex, pageStartIndex + size) };
    };
  }
}
