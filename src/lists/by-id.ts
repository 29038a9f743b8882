/**
 * Records of any list by id, in one upstream read: `IN` on the list's id property (IBM's
 * clients filter with IN on any property; docs/spp-api.md#filter-and-sort). SPP silently ignores filters it
 * cannot apply (docs/spp-api.md#filter-and-sort, SPPMon changelog), so an answer holding records that were not
 * asked for shows the filter was ignored: then the records are read one by one, in parallel.
 * Ids SPP does not return (unknown, or hidden from this user by SPP's roles) are null.
 */
import type { ListDescription } from '../pagination/list.js';
import { readWindow, type WindowReader } from '../pagination/window.js';
import type { SppRecord } from '../spp-api/types.js';

export async function readByIds<R extends SppRecord>(
  reader: WindowReader<R>,
  list: ListDescription<R>,
  ids: readonly string[],
  readOne: (id: string) => Promise<R | null>,
): Promise<Array<R | null>> {
  const wanted = [...new Set(ids)];
  const window = await readWindow(
    reader,
    { filter: [{ property: list.id, value: wanted, op: 'IN' }], sort: [{ property: list.id, direction: 'ASC' }] },
    0,
    wanted.length,
  );
  const asked = new Set(wanted);
  const found = new Map<string, R>();
  let ignored = false;
  for (const record of window.records) {
    const id = String(record[list.id]);
    if (!asked.has(id)) ignored = true;
    found.set(id, record);
  }
  if (ignored) return Promise.all(ids.map(readOne));
  return ids.map((id) => found.get(id) ?? null);
}
