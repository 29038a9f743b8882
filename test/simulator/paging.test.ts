import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type Simulator } from '../../src/simulator/index.js';
import type { SppFilter, SppJobSession, SppSort } from '../../src/spp-api/types.js';
import { ids, list, listError, login } from './helpers.js';

const NOW = Date.UTC(2024, 5, 30, 12, 0, 0);

describe('GET /api/endeavour/jobsession paging', () => {
  let sim: Simulator;
  let sid: string;
  let all: SppJobSession[];
  beforeAll(async () => {
    sim = await startSimulator({ now: NOW, size: 1234, maxPageSize: 500 });
    sid = await login(sim);
    all = sim.list();
  });
  afterAll(() => sim.close());

  it('returns the first 100 records in start ASC order by default, page 1', async () => {
    const body = await list(sim, sid);
    expect(body.total).toBe(1234);
    expect(body.page).toBe(1);
    expect(ids(body.sessions)).toEqual(ids(all.slice(0, 100)));
    expect(body.sessions.map((s) => s.start)).toEqual([...body.sessions.map((s) => s.start)].sort((a, b) => a - b));
  });

  it('treats pageStartIndex as a 0-based record offset, not a page number', async () => {
    const at99 = await list(sim, sid, { pageStartIndex: 99, pageSize: 10 });
    expect(ids(at99.sessions)).toEqual(ids(all.slice(99, 109)));
    expect(at99.page).toBe(10);
    const at100 = await list(sim, sid, { pageStartIndex: 100 });
    expect(ids(at100.sessions)).toEqual(ids(all.slice(100, 200)));
    expect(at100.page).toBe(2);
  });

  it('returns only the last record at total-1 and nothing past the end', async () => {
    const last = await list(sim, sid, { pageStartIndex: 1233 });
    expect(ids(last.sessions)).toEqual([all[1233]!.id]);
    expect(last.links?.nextPage).toBeUndefined();
    const past = await list(sim, sid, { pageStartIndex: 5000 });
    expect(past.sessions).toEqual([]);
    expect(past.total).toBe(1234);
    expect(past.links?.nextPage).toBeUndefined();
    expect(past.links?.prevPage).toBeDefined();
  });

  it('honours pageSize 1 and large page sizes, clamping at maxPageSize', async () => {
    const one = await list(sim, sid, { pageSize: 1, pageStartIndex: 5 });
    expect(ids(one.sessions)).toEqual([all[5]!.id]);
    expect(one.page).toBe(6);
    const big = await list(sim, sid, { pageSize: 400 });
    expect(big.sessions).toHaveLength(400);
    const clamped = await list(sim, sid, { pageSize: 100000 });
    expect(clamped.sessions).toHaveLength(500);
    expect(new URL(clamped.links!.nextPage!.href).searchParams.get('pageStartIndex')).toBe('500');
  });

  it('applies a maxPageSize change made with configure()', async () => {
    sim.configure({ maxPageSize: 50 });
    try {
      expect((await list(sim, sid, { pageSize: 400 })).sessions).toHaveLength(50);
    } finally {
      sim.configure({ maxPageSize: 500 });
    }
  });

  it('omits prevPage on the first page and nextPage on the last', async () => {
    const first = await list(sim, sid, { pageSize: 500 });
    expect(Object.keys(first.links!).sort()).toEqual(['firstPage', 'lastPage', 'nextPage', 'self']);
    const lastPage = await list(sim, sid, { pageSize: 500, pageStartIndex: 1000 });
    expect(Object.keys(lastPage.links!).sort()).toEqual(['firstPage', 'lastPage', 'prevPage', 'self']);
    expect(lastPage.page).toBe(3);
  });

  it('writes absolute links from the Host header that carry the whole query', async () => {
    const filter: SppFilter[] = [{ property: 'status', value: ['COMPLETED', 'PARTIAL'], op: 'IN' }];
    const sort: SppSort[] = [{ property: 'start', direction: 'DESC' }];
    const body = await list(sim, sid, { filter, sort, pageSize: 20, pageStartIndex: 40 });
    for (const [name, link] of Object.entries(body.links!)) {
      expect(link.rel).toBe('related');
      const u = new URL(link.href);
      expect(`${u.protocol}//${u.host}`).toBe(sim.url);
      expect(u.pathname).toBe('/api/endeavour/jobsession');
      expect(JSON.parse(u.searchParams.get('filter')!)).toEqual(filter);
      expect(JSON.parse(u.searchParams.get('sort')!)).toEqual(sort);
      expect(u.searchParams.get('pageSize')).toBe('20');
      expect(u.searchParams.get('pageStartIndex'), name).toMatch(/^\d+$/);
    }
    const offsets = Object.fromEntries(Object.entries(body.links!).map(([k, l]) => [k, new URL(l.href).searchParams.get('pageStartIndex')]));
    const matching = sim.list({ filter, sort }).length;
    expect(offsets).toEqual({ self: '40', firstPage: '0', prevPage: '20', nextPage: '60', lastPage: String(Math.floor((matching - 1) / 20) * 20) });
  });

  it('pages through everything by following nextPage, like SPPMon', async () => {
    const seen: string[] = [];
    let url: string | undefined = `${sim.url}/api/endeavour/jobsession?pageSize=300&sort=${encodeURIComponent('[{"property":"start","direction":"DESC"}]')}`;
    while (url) {
      const res = await fetch(url, { headers: { 'X-Endeavour-Sessionid': sid } });
      const body = (await res.json()) as { sessions: SppJobSession[]; links: Record<string, { href: string }> };
      seen.push(...ids(body.sessions));
      url = body.links.nextPage?.href;
    }
    expect(seen).toEqual(ids(sim.list({ sort: [{ property: 'start', direction: 'DESC' }] })));
  });

  it.each([
    ['pageSize', 'abc'],
    ['pageSize', '0'],
    ['pageSize', '-5'],
    ['pageSize', '2.5'],
    ['pageStartIndex', '-1'],
    ['pageStartIndex', 'x'],
  ])('answers 400 with an SPP error body for %s=%s', async (param, value) => {
    const r = await listError(sim, sid, { [param]: value });
    expect(r.status).toBe(400);
    expect(r.body.id).toBe('XSBInvalidArgumentException');
    expect(r.body.description).toContain(param);
  });
});
