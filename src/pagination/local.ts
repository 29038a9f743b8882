/**
 * Conditions SPP ignores, applied by the gateway (`messageId` on job logs: docs/spp-api.md#filter-and-sort).
 *
 * Filtering the records of each upstream page would break offset paging (offsets would no
 * longer match SPP's), so the list is read whole for its filter and sort, the condition is
 * applied, and the result is served as a list SPP had filtered itself: exact totals, offsets
 * into the filtered list. The paging engine then pages it like any other, cursors included.
 * Reading is bounded (LOCAL_READ_LIMIT); each distinct filter and sort is read once per reader.
 */
import { badUserInput } from '../errors.js';
import type { SppFilter, SppRecord, SppSort } from '../spp-api/types.js';
import { createWindowReader, readWindow, type WindowReader } from './window.js';

export interface LocalCondition<R extends SppRecord> {
  /** A canonical text of the condition: part of the cursor fingerprint. */
  key: string;
  test: (record: R) => boolean;
}

/** The most records read to apply a local condition: a job log holds thousands at most. */
export const LOCAL_READ_LIMIT = 20_000;

export function withLocalCondition<R extends SppRecord>(reader: WindowReader<R>, condition: LocalCondition<R>, limit = LOCAL_READ_LIMIT): WindowReader<R> {
  const lists = new Map<string, Promise<R[]>>();
  const matching = (filter: SppFilter[], sort: SppSort[]): Promise<R[]> => {
    const key = JSON.stringify({ filter, sort });
    let list = lists.get(key);
    if (!list) {
      list = readAll(reader, filter, sort, limit).then((records) => records.filter(condition.test));
      lists.set(key, list);
    }
    return list;
  };
  return createWindowReader(
    async ({ pageStartIndex, pageSize, filter, sort }) => {
      const records = await matching(filter, sort);
      return { total: records.length, records: records.slice(pageStartIndex, pageStartIndex + pageSize) };
    },
    limit,
    1,
  );
}

/**
 * The whole list, at most `limit` records: one page of the upstream's size first (usually the
 * whole log); when more exist, the rest in one window read in parallel (readWindow fans it out)
 * up to SPP's total, or, when that total cannot be trusted, in windows that double each time.
 */
async function readAll<R extends SppRecord>(reader: WindowReader<R>, filter: SppFilter[], sort: SppSort[], limit: number): Promise<R[]> {
  const records: R[] = [];
  let count = Math.min(reader.pageSize.size, limit + 1);
  for (;;) {
    const window = await readWindow(reader, { filter, sort }, records.length, count);
    for (const record of window.records) records.push(record);
    if (records.length > limit) {
      throw badUserInput(
        `The list has more than ${limit} records to search for a condition SPP cannot apply (messageId): narrow the filter (type, logTime) first.`,
        'filter',
      );
    }
    if (window.ended || window.records.length < count || (window.total !== null && records.length >= window.total)) return records;
    const rest = window.total !== null ? window.total - records.length : records.length;
    count = Math.max(1, Math.min(rest, limit + 1 - records.length));
  }
}
