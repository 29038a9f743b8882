/**
 * Reading a window of SPP's offset-paged list: records [offset, offset + count) under one
 * filter and sort, however SPP pages.
 *
 * The window is split into chunks no larger than the upstream page cap (SPP_PAGE_SIZE_CAP),
 * fetched in parallel with bounded concurrency. Nothing about SPP's answer is assumed:
 * - some builds ignore `pageSize` and always answer 100 records: surplus records are dropped;
 * - a server whose own maximum is below the asked size answers short: the rest is fetched;
 * - `total` is 0 on builds hit by APAR IT45897: the end of the list is found from the
 *   records themselves (a chunk that comes back empty), never from `total`.
 */
import pLimit from 'p-limit';
import type { SppFilter, SppJobSession, SppJobSessionList, SppSort } from '../upstream/types.js';

export type PageFetcher = (params: { pageStartIndex: number; pageSize: number; filter: SppFilter[]; sort: SppSort[] }) => Promise<SppJobSessionList>;

/** One filtered, ordered SPP list. */
export interface ListQuery {
  filter: SppFilter[];
  sort: SppSort[];
}

export interface WindowReader {
  fetchPage: PageFetcher;
  pageSizeCap: number;
  limit: ReturnType<typeof pLimit>;
}

export interface WindowResult {
  records: SppJobSession[];
  /** True when the list was seen to end inside the window. */
  ended: boolean;
  /** SPP's `total` when every answer agreed with the records seen; null when any contradicted it (APAR IT45897). */
  total: number | null;
}

export function createWindowReader(fetchPage: PageFetcher, pageSizeCap: number, concurrency: number): WindowReader {
  return { fetchPage, pageSizeCap, limit: pLimit(concurrency) };
}

/** Whether an answer's `total` is consistent with the records it carried from `start`. */
export function totalIsConsistent(total: number, start: number, received: number): boolean {
  if (!Number.isInteger(total)) return false;
  // Records at [start, start + received) exist, so total covers them; an empty answer at
  // `start` means the list ends at or before it.
  return received > 0 ? total >= start + received : total <= start;
}

export async function readWindow(reader: WindowReader, query: ListQuery, offset: number, count: number): Promise<WindowResult> {
  if (count <= 0) return { records: [], ended: false, total: null };
  const chunks: Array<{ start: number; size: number }> = [];
  for (let start = offset; start < offset + count; start += reader.pageSizeCap) {
    chunks.push({ start, size: Math.min(reader.pageSizeCap, offset + count - start) });
  }
  const results = await Promise.all(chunks.map((chunk) => readChunk(reader, query, chunk.start, chunk.size)));

  const records: SppJobSession[] = [];
  let ended = false;
  let total: number | null | undefined;
  for (const result of results) {
    if (result.total === null) total = null;
    else if (total !== null) total = total === undefined || total === result.total ? result.total : null;
    if (ended) continue; // the list ended in an earlier chunk: later ones can only be stale
    records.push(...result.records);
    ended = result.ended;
  }
  if (ended && total !== null && total !== undefined && total !== offset + records.length) total = null;
  return { records, ended, total: total ?? null };
}

/** One chunk: asks for `size` records at `start`, then for whatever a short answer left out. */
async function readChunk(reader: WindowReader, query: ListQuery, start: number, size: number): Promise<WindowResult> {
  const records: SppJobSession[] = [];
  let total: number | null | undefined;
  let at = start;
  let missing = size;
  while (missing > 0) {
    const page = await reader.limit(() => reader.fetchPage({ pageStartIndex: at, pageSize: missing, filter: query.filter, sort: query.sort }));
    const received = page.sessions.length;
    const consistent = totalIsConsistent(page.total, at, received);
    total = !consistent || (total !== undefined && total !== page.total) ? null : page.total;
    records.push(...page.sessions.slice(0, missing));
    if (received === 0) return { records, ended: true, total };
    if (received >= missing) break;
    // A short answer is the end of the list only if SPP's total says so and can be trusted;
    // otherwise it may be SPP's own page maximum, so ask for the rest.
    if (total !== null && at + received >= total) return { records, ended: true, total };
    at += received;
    missing -= received;
  }
  return { records, ended: false, total: total ?? null };
}
