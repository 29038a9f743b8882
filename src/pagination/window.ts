/**
 * Reading a window of SPP's offset-paged list: records [offset, offset + count) under one
 * filter and sort, however SPP pages, in as few upstream requests as SPP allows.
 *
 * Every upstream request costs SPP a query and the gateway about half a millisecond of CPU
 * in the client alone, so a window is asked for in ONE request, up to `maxPageSize`
 * (SPP_PAGE_SIZE_CAP; IBM's own clients ask 1000 to 10000 records at once, docs/spp-api.md#listing-job-sessions).
 * SPP's real maximum is undocumented, so the answer teaches it:
 * - a build that ignores `pageSize` answers 100 records whatever was asked; a server with a
 *   lower maximum (the simulator's SIM_MAX_PAGE_SIZE) clamps. A short answer that is not the
 *   end of the list therefore shows SPP's cap: it is remembered for this upstream
 *   (`PageSizeMemory`, one per gateway), and the rest of the window is read in parallel at
 *   that size. Later windows are split at the learned cap from the start, in parallel with
 *   bounded concurrency;
 * - a short answer is the end of the list only when SPP's `total` says so and can be trusted;
 *   `total` is 0 on builds hit by APAR IT45897, so otherwise the rest is asked for, and the end
 *   is found from the records themselves (an answer that comes back empty);
 * - surplus records (a build answering 100 when fewer were asked) are dropped.
 * A cap is learned only from evidence that records exist beyond a short answer (see
 * `capFromAnswers`), so a list that merely ends, or grows while it is read, teaches nothing.
 */
import type { Logger } from 'pino';
import pLimit from 'p-limit';
import type { SppFilter, SppListPage, SppRecord, SppSort } from '../spp-api/types.js';

/** One upstream page of a list: `{total, records}` whatever key SPP put the records under. */
export type PageFetcher<R extends SppRecord = SppRecord> = (params: {
  pageStartIndex: number;
  pageSize: number;
  filter: SppFilter[];
  sort: SppSort[];
}) => Promise<SppListPage<R>>;

/** One filtered, ordered SPP list. */
export interface ListQuery {
  filter: SppFilter[];
  sort: SppSort[];
}

/**
 * The page size asked of one upstream: the configured maximum until an answer showed SPP's
 * own, lower cap. Shared by every request to that upstream; it only ever goes down.
 */
export class PageSizeMemory {
  private cap: number | undefined;

  constructor(
    /** The largest `pageSize` ever asked (SPP_PAGE_SIZE_CAP). */
    readonly max: number,
    private readonly onLearn: (cap: number, max: number) => void = () => undefined,
  ) {}

  /** SPP_PAGE_SIZE_CAP, logging once when SPP shows a lower cap (an operator learns it from the log). */
  static logged(max: number, logger: Pick<Logger, 'warn'>): PageSizeMemory {
    return new PageSizeMemory(max, (cap) =>
      logger.warn(
        { cap, max },
        `SPP answered ${cap} records where more were asked and exist: it caps pages at ${cap}, so larger windows are read as parallel pages of ${cap} from now on.`,
      ),
    );
  }

  /** The page size to ask: the learned cap, or the maximum. */
  get size(): number {
    return this.cap ?? this.max;
  }

  /** The cap SPP showed, if it showed one. */
  get learned(): number | undefined {
    return this.cap;
  }

  learn(cap: number): void {
    if (!Number.isInteger(cap) || cap < 1 || cap >= this.size) return;
    this.cap = cap;
    this.onLearn(cap, this.max);
  }
}

/** Runs `task` within the reader's bound on upstream requests in flight. */
export type Limit = <T>(task: () => Promise<T>) => Promise<T>;

export interface WindowReader<R extends SppRecord = SppRecord> {
  fetchPage: PageFetcher<R>;
  pageSize: PageSizeMemory;
  limit: Limit;
}

export interface WindowResult<R extends SppRecord = SppRecord> {
  records: R[];
  /** True when the list was seen to end inside the window. */
  ended: boolean;
  /** SPP's `total` when every answer agreed with the records seen; null when any contradicted it (APAR IT45897). */
  total: number | null;
}

/**
 * A reader for one request. `pageSize` is the upstream's shared memory (or, for a one-off
 * reader, just the maximum page size); `concurrency` bounds the requests in flight at once.
 */
export function createWindowReader<R extends SppRecord>(fetchPage: PageFetcher<R>, pageSize: number | PageSizeMemory, concurrency: number): WindowReader<R> {
  return { fetchPage, pageSize: typeof pageSize === 'number' ? new PageSizeMemory(pageSize) : pageSize, limit: boundedLimit(concurrency) };
}

/**
 * At most `concurrency` tasks in flight. A task that finds nothing running runs at once,
 * without p-limit; p-limit is created only when a second task starts while one runs, and the
 * running task then holds one of its slots until it ends (so the bound is exact, and the
 * others run `concurrency` at a time from then on). Most requests read one page, and a p-limit
 * per request cost more than the rest of the page's bookkeeping (creating one is about 6 µs of
 * CPU; each task adds several promises; 1-2 % of the gateway's CPU at 25 rows).
 */
export function boundedLimit(concurrency: number): Limit {
  if (!Number.isInteger(concurrency) || concurrency < 1) throw new TypeError(`Expected a positive integer concurrency, got ${concurrency}.`);
  let alone: Promise<unknown> | undefined;
  let limiter: ReturnType<typeof pLimit> | undefined;
  return <T>(task: () => Promise<T>): Promise<T> => {
    if (limiter) return limiter(task);
    if (alone) {
      const first = alone;
      limiter = pLimit(concurrency);
      void limiter(() => first.catch(() => undefined));
      return limiter(task);
    }
    let running: Promise<T>;
    try {
      running = task();
    } catch (error) {
      // A task that throws before it returns a promise fails like one that rejects.
      return Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
    const mine = running;
    alone = mine;
    const done = () => {
      if (alone === mine) alone = undefined;
    };
    running.then(done, done);
    return running;
  };
}

/** Whether an answer's `total` is consistent with the records it carried from `start`. */
export function totalIsConsistent(total: number, start: number, received: number): boolean {
  if (!Number.isInteger(total)) return false;
  // Records at [start, start + received) exist, so total covers them; an empty answer at
  // `start` means the list ends at or before it.
  return received > 0 ? total >= start + received : total <= start;
}

/** [offset, offset + count) as consecutive spans of at most `size` records (pure). */
export function planChunks(offset: number, count: number, size: number): Array<{ start: number; size: number }> {
  const chunks: Array<{ start: number; size: number }> = [];
  for (let start = offset; start < offset + count; start += size) chunks.push({ start, size: Math.min(size, offset + count - start) });
  return chunks;
}

/** One upstream answer as the reader saw it: `asked` records at `start`, `received` came back. */
export interface Answer {
  start: number;
  asked: number;
  received: number;
  /** SPP's total, or null when it contradicted the records (APAR IT45897). */
  total: number | null;
}

/**
 * What an answer means for the rest of its span (pure):
 * - `complete`: it carried every record asked (or more, from a build that ignores pageSize);
 * - `end`: the list ends inside the span: the answer was empty, or a trusted total says so;
 * - `short`: fewer records than asked and the list goes on (a trusted total says more exist):
 *   SPP capped the page. `exists` is how many more records the total promises;
 * - `unknown`: fewer than asked and no trusted total: the end of the list, or a cap.
 */
export function classifyAnswer(answer: Answer): { kind: 'complete' } | { kind: 'end' } | { kind: 'short'; exists: number } | { kind: 'unknown' } {
  const { start, asked, received, total } = answer;
  if (received >= asked) return { kind: 'complete' };
  if (received === 0) return { kind: 'end' };
  if (total === null) return { kind: 'unknown' };
  return start + received >= total ? { kind: 'end' } : { kind: 'short', exists: total - start - received };
}

/**
 * SPP's page cap, from a short answer and what was read right after it (pure). The cap is the
 * short answer's size when records exist beyond it:
 * - with a trusted total (`short`), the next answer must have carried records: a total that
 *   overstated the list teaches nothing;
 * - without one (`unknown`, APAR IT45897 builds), the next answer must itself be short by the
 *   same count: a list that ended, then grew by a few sessions before the follow-up, must not
 *   make every later read split into pages of a handful of records.
 */
export function capFromAnswers(short: Answer, next: Answer): number | undefined {
  const kind = classifyAnswer(short).kind;
  if (kind === 'short') return next.received > 0 ? short.received : undefined;
  if (kind === 'unknown') return next.received === short.received && next.received < next.asked ? short.received : undefined;
  return undefined;
}

export async function readWindow<R extends SppRecord>(reader: WindowReader<R>, query: ListQuery, offset: number, count: number): Promise<WindowResult<R>> {
  if (count <= 0) return { records: [], ended: false, total: null };
  const chunks = planChunks(offset, count, reader.pageSize.size);
  const results = await Promise.all(chunks.map((chunk) => readChunk(reader, query, chunk.start, chunk.size)));
  return merge(results, offset);
}

/** Consecutive results in order: records up to the first end seen, and the total they agree on. */
function merge<R extends SppRecord>(results: WindowResult<R>[], offset: number): WindowResult<R> {
  if (results.length === 1) {
    // One answer needs no copying, but the same check as below: a list seen to end at a
    // position other than its total contradicts it (an empty answer past the end of a list
    // whose total reads 0, APAR IT45897).
    const only = results[0]!;
    return only.ended && only.total !== null && only.total !== offset + only.records.length ? { ...only, total: null } : only;
  }
  const records: R[] = [];
  let ended = false;
  let total: number | null | undefined;
  for (const result of results) {
    if (result.total === null) total = null;
    else if (total !== null) total = total === undefined || total === result.total ? result.total : null;
    if (ended) continue; // the list ended in an earlier chunk: later ones can only be stale
    for (const record of result.records) records.push(record);
    ended = result.ended;
  }
  if (ended && total !== null && total !== undefined && total !== offset + records.length) total = null;
  return { records, ended, total: total ?? null };
}

/**
 * One span of at most the page size: asks for all of it, then, after a short answer, for
 * what it left out: in one request while nothing is known, in parallel at the cap once an
 * answer showed it.
 */
async function readChunk<R extends SppRecord>(reader: WindowReader<R>, query: ListQuery, start: number, size: number): Promise<WindowResult<R>> {
  const records: R[] = [];
  let total: number | null | undefined;
  let at = start;
  let missing = size;
  let previous: Answer | undefined;
  while (missing > 0) {
    const page = await reader.limit(() => reader.fetchPage({ pageStartIndex: at, pageSize: missing, filter: query.filter, sort: query.sort }));
    const received = page.records.length;
    const consistent = totalIsConsistent(page.total, at, received);
    total = !consistent || (total !== undefined && total !== page.total) ? null : page.total;
    const answer: Answer = { start: at, asked: missing, received, total };
    if (previous) {
      const cap = capFromAnswers(previous, answer);
      if (cap !== undefined) reader.pageSize.learn(cap);
    }
    const kept = received > missing ? page.records.slice(0, missing) : page.records;
    for (const record of kept) records.push(record);
    const meaning = classifyAnswer(answer);
    if (meaning.kind === 'end') return { records, ended: true, total };
    if (meaning.kind === 'complete') break;
    at += received;
    missing -= received;
    previous = answer;
    if (meaning.kind === 'short') {
      // SPP capped the page at `received` and its total says how much more exists: read what
      // the window still needs of it in parallel at that size; learn the cap once confirmed.
      const rest = await readSpans(reader, query, at, Math.min(missing, meaning.exists), received);
      const next = rest[0]!;
      const cap = capFromAnswers(answer, { start: at, asked: Math.min(missing, received), received: next.records.length, total: next.total });
      if (cap !== undefined) reader.pageSize.learn(cap);
      const merged = merge([{ records, ended: false, total: total ?? null }, ...rest], start);
      // Read up to the total it promised, inside the span: that is where the list ends.
      return !merged.ended && meaning.exists < missing ? { ...merged, ended: true } : merged;
    }
    if (reader.pageSize.learned !== undefined && missing > reader.pageSize.learned) {
      // An earlier answer in this span (or another request) showed the cap: the rest in parallel.
      const rest = await readSpans(reader, query, at, missing, reader.pageSize.learned);
      return merge([{ records, ended: false, total: total ?? null }, ...rest], start);
    }
  }
  return { records, ended: false, total: total ?? null };
}

/** [start, start + count) as parallel chunks of `size`, each read as a span of its own. */
function readSpans<R extends SppRecord>(reader: WindowReader<R>, query: ListQuery, start: number, count: number, size: number): Promise<WindowResult<R>[]> {
  return Promise.all(planChunks(start, count, size).map((chunk) => readChunk(reader, query, chunk.start, chunk.size)));
}
