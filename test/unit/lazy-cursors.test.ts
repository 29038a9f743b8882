import { describe, expect, it } from 'vitest';
import { CursorCodec } from '../../src/pagination/cursor.js';
import { fingerprintOf, Paginator } from '../../src/pagination/paginator.js';
import { JOB_SESSIONS } from '../../src/lists/job-sessions.js';
import { createWindowReader, type PageFetcher } from '../../src/pagination/window.js';
import type { SppJobSession, SppSort } from '../../src/spp-api/types.js';

const sort: SppSort[] = [
  { property: 'start', direction: 'DESC' },
  { property: 'id', direction: 'DESC' },
];
const records = Array.from({ length: 50 }, (_, i) => ({ id: String(5000 - i), start: 1_000_000 - i }) as unknown as SppJobSession);
const fetchPage: PageFetcher = async ({ pageStartIndex, pageSize }) => ({
  total: records.length,
  records: records.slice(pageStartIndex, pageStartIndex + pageSize),
});

/** A real codec that counts the cursors it signs. */
class CountingCodec extends CursorCodec {
  signed = 0;
  override encode(...args: Parameters<CursorCodec['encode']>): string {
    this.signed++;
    return super.encode(...args);
  }
}

describe('cursors are made only when read', () => {
  it('signs no cursor for a page whose cursors nobody reads, and each read cursor once', async () => {
    const codec = new CountingCodec(Buffer.from('unit-test-cursor-secret-0123456789'));
    const paginator = new Paginator(createWindowReader(fetchPage, 1000, 4), codec, { defaultSize: 10, maxSize: 100 });
    const page = await paginator.page(JOB_SESSIONS, { first: 20 }, { filter: [], sort });
    expect(page.edges.map((e) => e.node.id)).toEqual(records.slice(0, 20).map((r) => r.id));
    expect(page.pageInfo).toMatchObject({ hasNextPage: true, hasPreviousPage: false });
    expect(codec.signed).toBe(0);

    const end = page.pageInfo.endCursor;
    expect(end).toBe(page.edges[19]!.cursor);
    expect(codec.signed).toBe(1);
    // The cursor is the same one an eager build signed: it decodes to the record's position.
    expect(codec.decode(fingerprintOf(JOB_SESSIONS, { filter: [], sort }), end!, 'after')).toEqual({
      offset: 19,
      keys: [records[19]!.start],
      id: records[19]!.id,
    });
    expect(page.pageInfo.startCursor).toBe(page.edges[0]!.cursor);
    expect(codec.signed).toBe(2);
  });

  it('still answers null cursors for an empty page', async () => {
    const codec = new CountingCodec(Buffer.from('unit-test-cursor-secret-0123456789'));
    const paginator = new Paginator(createWindowReader(fetchPage, 1000, 4), codec, { defaultSize: 10, maxSize: 100 });
    const page = await paginator.page(JOB_SESSIONS, { first: 5 }, { filter: [], sort, empty: true });
    expect(page.pageInfo).toEqual({ hasNextPage: false, hasPreviousPage: false, startCursor: null, endCursor: null });
  });
});
