import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IBM_SAMPLE_SESSION_ID, startSimulator, type Simulator } from '../../src/simulator/index.js';
import { generateSessions } from '../../src/simulator/generator.js';
import { SESSION_FIELDS } from '../../src/simulator/query.js';
import type { SppJobSession } from '../../src/spp-api/types.js';
import { getJson, login } from './helpers.js';

const NOW = Date.UTC(2024, 5, 30, 12, 0, 0);

/** The record as printed on IBM's "Getting job session information" page, start per its prose. */
const IBM_SAMPLE_FIELDS = {
  jobName: 'Application Server Inventory',
  jobId: '1003',
  type: 'catalog',
  typeDisplayName: 'Catalog',
  subType: 'application',
  subTypeDisplayName: 'Application',
  subPolicyType: null,
  subPolicyTypeDisplayName: null,
  serviceId: 'serviceprovider.catalog.application',
  displayName: null,
  start: 1577881234123,
  end: 1577882234123,
  duration: 1000000,
  status: 'PARTIAL',
  statusDisplayName: 'Partial',
  indexStatus: 'COMPLETED',
  description: 'Autorun - 10.4.4.1 only',
  results: 'Started',
  properties: null,
  numTasks: 2,
  previousLastTask: 0,
  lastUpdate: 1577882235123,
  percent: 0,
  expiresAt: null,
  expirationTime: null,
  retention: 0,
  retentionUnit: null,
  expired: false,
  hasCatalog: false,
  hasCondensed: false,
  wormProtected: false,
  rerunnable: false,
  userUpdate: false,
  actions: [],
  statistics: null,
  policySnapshot: {
    id: '1003',
    name: 'Application Server Inventory',
    type: 'catalog',
    subType: 'application',
    serviceId: 'serviceprovider.catalog.application',
    version: null,
    spec: {
      source: [
        {
          href: 'http://localhost:8082/api/appserver/1001',
          resourceType: 'appserver',
          name: '10.4.4.1',
          id: '1001',
          include: true,
          metadata: { path: ':', name: '10.4.4.1' },
        },
      ],
      option: { retention: '3', maxtasks: 50 },
      notification: [],
      applicationtype: 'oracle',
    },
    description: '',
    script: null,
  },
  id: '1564688656142',
};

describe('generated data', () => {
  let sim: Simulator;
  let all: SppJobSession[];
  beforeAll(async () => {
    sim = await startSimulator({ now: NOW });
    all = sim.list();
  });
  afterAll(() => sim.close());

  it('has 4,877 sessions by default, like the IBM example', () => {
    expect(all).toHaveLength(4877);
  });

  it('contains the IBM sample record with exactly the fields on the page', async () => {
    const sample = sim.get(IBM_SAMPLE_SESSION_ID)!;
    const { links, ...rest } = sample;
    expect(rest).toEqual(IBM_SAMPLE_FIELDS);
    expect(Object.keys(sample)).toEqual(['links', ...Object.keys(IBM_SAMPLE_FIELDS)]);
    expect(links?.self?.href).toMatch(/^https:\/\/.+\/api\/endeavour\/jobsession\/1564688656142$/);
    const sid = await login(sim);
    const r = await getJson<SppJobSession>(sim, `/api/endeavour/jobsession/${IBM_SAMPLE_SESSION_ID}`, sid);
    expect(r.status).toBe(200);
    expect(r.body).toEqual(sample);
  });

  it('gives every record the same fields in SPP order', () => {
    const expected = SESSION_FIELDS.join(',');
    expect(all.filter((r) => Object.keys(r).join(',') !== expected).map((r) => r.id)).toEqual([]);
  });

  it('uses unique 13-digit digit-string ids', () => {
    expect(all.every((r) => /^\d{13}$/.test(r.id))).toBe(true);
    expect(new Set(all.map((r) => r.id)).size).toBe(all.length);
  });

  it('spreads history over about two years ending at now, with ties on start', () => {
    const generated = all.filter((r) => r.id !== IBM_SAMPLE_SESSION_ID);
    const starts = generated.map((r) => r.start);
    expect(Math.max(...starts)).toBeLessThanOrEqual(NOW);
    expect(Math.min(...starts)).toBeGreaterThanOrEqual(NOW - 731 * 86_400_000);
    expect(Math.min(...starts)).toBeLessThan(NOW - 700 * 86_400_000);
    const counts = new Map<number, number>();
    for (const s of starts) counts.set(s, (counts.get(s) ?? 0) + 1);
    const tied = [...counts.values()].filter((n) => n > 1);
    expect(tied.length).toBeGreaterThanOrEqual(3);
    expect(Math.max(...tied)).toBeGreaterThanOrEqual(3);
  });

  it('has realistic status frequencies, active ones only near now', () => {
    const by = (s: string) => all.filter((r) => r.status === s);
    expect(by('COMPLETED').length / all.length).toBeGreaterThan(0.7);
    for (const s of ['PARTIAL', 'FAILED', 'CANCELED', 'ABORTED', 'STOPPED', 'RUNNING']) expect(by(s).length).toBeGreaterThan(0);
    const active = all.filter((r) => ['RUNNING', 'PENDING', 'WAITING'].includes(r.status));
    expect(active.length).toBeGreaterThan(0);
    expect(active.filter((r) => r.start <= NOW - 2 * 3_600_000 || r.end !== null || r.duration !== null)).toEqual([]);
    const finished = all.filter((x) => !active.includes(x));
    expect(finished.filter((r) => r.end !== r.start + r.duration! || r.end > NOW || r.percent === null)).toEqual([]);
    expect(finished.filter((r) => r.id !== IBM_SAMPLE_SESSION_ID && r.percent !== 100)).toEqual([]);
  });

  it('keeps one jobId and one type/subType/serviceId per job name', () => {
    const combos = new Map<string, string>();
    for (const r of all) {
      const combo = [r.jobId, r.type, r.typeDisplayName, r.subType, r.subTypeDisplayName, r.serviceId].join('|');
      expect(combos.get(r.jobName) ?? combo).toBe(combo);
      combos.set(r.jobName, combo);
      expect(r.policySnapshot?.id).toBe(r.jobId);
    }
    for (const name of [
      'Maintenance',
      'Hypervisor Inventory',
      'Storage Server Inventory',
      'Application Server Inventory',
      'vmware_Gold',
      'vmware_Silver',
      'hyperv_Bronze',
      'catalog_Silver',
      'sql_Gold',
      'oracle_Gold',
      'office365_Silver',
    ]) {
      expect(combos.has(name)).toBe(true);
    }
    expect(combos.get('Application Server Inventory')!.startsWith('1003|catalog|')).toBe(true);
  });

  it('gives protection sessions sub-policy types and statistics, others none', () => {
    const protection = all.filter((r) => r.type === 'protection');
    expect(new Set(protection.map((r) => r.subPolicyType))).toEqual(new Set(['BACKUP', 'REPLICATION', 'SPPOFFLOAD', 'SPPARCHIVE']));
    expect(protection.every((r) => r.serviceId!.startsWith('serviceprovider.protection.'))).toBe(true);
    const inconsistent = protection.filter((r) => {
      const st = r.properties?.statistics?.[0];
      if (!st) return true;
      return st.skipped !== undefined && r.end !== null && st.success + st.failed + st.skipped !== st.total;
    });
    expect(inconsistent).toEqual([]);
    expect(protection.some((r) => r.properties!.statistics![0]!.skipped === undefined)).toBe(true);
    expect(all.filter((r) => r.type !== 'protection').every((r) => r.properties === null && r.subPolicyType === null)).toBe(true);
    expect(all.some((r) => r.type === 'catalog' && r.serviceId!.startsWith('serviceprovider.catalog.'))).toBe(true);
    expect(all.some((r) => r.serviceId === 'serviceprovider.maintenance')).toBe(true);
    expect(all.some((r) => r.serviceId!.startsWith('serviceprovider.recovery.'))).toBe(true);
  });

  it('offers action links with rel "action" and absolute hrefs', () => {
    const failed = all.find((r) => r.type === 'protection' && r.status === 'FAILED')!;
    expect(failed.links?.rerun).toEqual({ href: expect.stringMatching(/^https:\/\/.*\?action=rerun$/), rel: 'action' });
    for (const name of ['self', 'log', 'diagnostics', 'csv']) expect(failed.links?.[name]?.href).toMatch(/^https?:\/\//);
    expect(failed.links?.log?.href).toContain(encodeURIComponent(failed.id));
  });

  it('is deterministic: same seed and now give identical data, another seed differs', () => {
    const a = generateSessions({ seed: 7, size: 300, now: NOW });
    const b = generateSessions({ seed: 7, size: 300, now: NOW });
    const c = generateSessions({ seed: 8, size: 300, now: NOW });
    expect(JSON.stringify(a)).toBe(JSON.stringify(b));
    expect(JSON.stringify(a)).not.toBe(JSON.stringify(c));
    expect(a).toHaveLength(300);
    expect(a.some((r) => r.id === IBM_SAMPLE_SESSION_ID)).toBe(true);
  });

  it('serves identical data from two simulators with the same seed', async () => {
    const other = await startSimulator({ now: NOW, size: 4877 });
    try {
      expect(JSON.stringify(other.list())).toBe(JSON.stringify(all));
    } finally {
      await other.close();
    }
  });

  it('returns frozen records so callers cannot corrupt the data set', () => {
    const r = all[10]!;
    expect(Object.isFrozen(r)).toBe(true);
    expect(() => {
      (r as { status: string }).status = 'X';
    }).toThrow(TypeError);
  });
});
