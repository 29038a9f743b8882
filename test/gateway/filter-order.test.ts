import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from '../support/harness.js';
import type { SppJobSession } from '../../src/spp-api/types.js';
import { compareValues } from '../../src/pagination/keyset.js';

const QUERY = `
  query Q($filter: JobSessionFilter, $orderBy: [JobSessionOrder!], $first: Int) {
    jobSessions(first: $first, filter: $filter, orderBy: $orderBy) {
      totalCount
      nodes { sessionId jobId jobName type subType serviceId subPolicyType status statusRaw start hasCatalog end duration }
      pageInfo { hasNextPage }
    }
  }`;

let h: Harness;
let all: SppJobSession[];

beforeAll(async () => {
  h = await startHarness();
  all = h.sim.list();
});
afterAll(() => h.close());

async function query(variables: Record<string, unknown>) {
  const { status, body } = await h.gql(QUERY, { first: 1000, ...variables });
  expect(body.errors).toBeUndefined();
  expect(status).toBe(200);
  return body.data.jobSessions as { totalCount: number; nodes: Array<Record<string, any>>; pageInfo: { hasNextPage: boolean } };
}

function newestFirst(records: SppJobSession[]): string[] {
  return [...records].sort((a, b) => b.start - a.start || compareValues(b.id, a.id)).map((r) => r.id);
}

describe('jobSessions filter', () => {
  const iso = (ms: number) => new Date(ms).toISOString();
  const cases: Array<[string, Record<string, unknown>, (s: SppJobSession) => boolean]> = [
    ['status', { status: ['FAILED', 'PARTIAL'] }, (s) => s.status === 'FAILED' || s.status === 'PARTIAL'],
    ['jobId', { jobId: ['1003'] }, (s) => s.jobId === '1003'],
    ['jobName with a wildcard', { jobName: 'vmware_*' }, (s) => s.jobName.startsWith('vmware_')],
    ['jobName exactly', { jobName: 'Maintenance' }, (s) => s.jobName === 'Maintenance'],
    ['type', { type: ['catalog'] }, (s) => s.type === 'catalog'],
    ['subType', { subType: ['vmware', 'hyperv'] }, (s) => s.subType === 'vmware' || s.subType === 'hyperv'],
    ['serviceId', { serviceId: ['serviceprovider.maintenance'] }, (s) => s.serviceId === 'serviceprovider.maintenance'],
    ['subPolicyType', { subPolicyType: ['REPLICATION'] }, (s) => s.subPolicyType === 'REPLICATION'],
    ['hasCatalog', { hasCatalog: true }, (s) => s.hasCatalog === true],
  ];
  for (const [name, filter, predicate] of cases) {
    it(`filters by ${name}: exactly the matching sessions, newest first`, async () => {
      const expected = newestFirst(all.filter(predicate));
      expect(expected.length).toBeGreaterThan(0);
      expect(expected.length).toBeLessThan(all.length);
      const result = await query({ filter });
      expect(result.nodes.map((n) => n.sessionId)).toEqual(expected.slice(0, 1000));
      expect(result.totalCount).toBe(expected.length);
    });
  }

  it('filters by a start range with each bound (gt, gte, lt, lte) on exact milliseconds', async () => {
    const sorted = newestFirst(all).map((id) => all.find((s) => s.id === id)!);
    const upper = sorted[100]!.start;
    const lower = sorted[400]!.start;
    const expectIds = (predicate: (s: SppJobSession) => boolean) => newestFirst(all.filter(predicate));
    expect((await query({ filter: { start: { gte: iso(lower), lte: iso(upper) } } })).nodes.map((n) => n.sessionId)).toEqual(
      expectIds((s) => s.start >= lower && s.start <= upper),
    );
    expect((await query({ filter: { start: { gt: iso(lower), lt: iso(upper) } } })).nodes.map((n) => n.sessionId)).toEqual(
      expectIds((s) => s.start > lower && s.start < upper),
    );
  });

  it('combines every given field with AND', async () => {
    const predicate = (s: SppJobSession) =>
      s.type === 'protection' && s.status === 'COMPLETED' && s.jobName.startsWith('vmware_') && s.subPolicyType === 'BACKUP';
    const expected = newestFirst(all.filter(predicate));
    expect(expected.length).toBeGreaterThan(0);
    const result = await query({ filter: { type: ['protection'], status: ['COMPLETED'], jobName: 'vmware_*', subPolicyType: ['BACKUP'] } });
    expect(result.nodes.map((n) => n.sessionId)).toEqual(expected.slice(0, 1000));
    const lastCall = h.upstreamCalls().at(-1)!;
    expect(lastCall.filter).toEqual([
      { property: 'status', value: ['COMPLETED'], op: 'IN' },
      { property: 'jobName', value: 'vmware_*', op: '=' },
      { property: 'type', value: ['protection'], op: 'IN' },
      { property: 'subPolicyType', value: ['BACKUP'], op: 'IN' },
    ]);
  });

  it('answers an empty list filter with no sessions and no upstream call', async () => {
    h.resetUpstreamCalls();
    const result = await query({ filter: { status: [] } });
    expect(result).toEqual({ totalCount: 0, nodes: [], pageInfo: { hasNextPage: false } });
    expect(h.upstreamCalls()).toHaveLength(0);
  });

  it('refuses a start bound that is not a date-time with a clear message', async () => {
    const { status, body } = await h.gql(QUERY, { filter: { start: { gt: 'yesterday' } } });
    expect(status).toBe(400);
    expect(body.errors![0]!.extensions!.code).toBe('BAD_USER_INPUT');
    expect(body.errors![0]!.message).toMatch(/ISO-8601/);
  });
});

describe('jobSessions orderBy', () => {
  const fields = { START: 'start', END: 'end', DURATION: 'duration', JOB_NAME: 'jobName', STATUS: 'status', TYPE: 'type' } as const;
  for (const [field, property] of Object.entries(fields)) {
    for (const direction of ['ASC', 'DESC'] as const) {
      it(`orders by ${field} ${direction} with the id as tie-breaker, as SPP orders it`, async () => {
        const sort = [
          { property, direction },
          { property: 'id', direction },
        ];
        const expected = h.sim.list({ sort }).map((s) => s.id);
        const result = await query({ first: 300, orderBy: [{ field, direction }] });
        const ids = result.nodes.map((n) => n.sessionId);
        expect(ids).toEqual(expected.slice(0, 300));
        // and the order really is by the field: each neighbour pair is in order
        const values = result.nodes.map((n) => (property === 'start' || property === 'end' ? (n[property] ? Date.parse(n[property]) : null) : n[property]));
        for (let i = 1; i < values.length; i++) {
          const c = compareValues(values[i - 1], values[i]);
          expect(direction === 'ASC' ? c <= 0 : c >= 0).toBe(true);
        }
      });
    }
  }

  it('sends several keys to SPP in the given order', async () => {
    h.resetUpstreamCalls();
    await query({
      first: 5,
      orderBy: [
        { field: 'STATUS', direction: 'ASC' },
        { field: 'DURATION', direction: 'DESC' },
      ],
    });
    expect(h.upstreamCalls()[0]!.sort).toEqual([
      { property: 'status', direction: 'ASC' },
      { property: 'duration', direction: 'DESC' },
      { property: 'id', direction: 'DESC' },
    ]);
  });
});
