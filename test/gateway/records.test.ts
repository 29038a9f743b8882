import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from '../support/harness.js';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(() => h.close());

const ALL_FIELDS = `
  id sessionId jobId jobName displayName type typeDisplayName subType subTypeDisplayName subPolicyType subPolicyTypeDisplayName
  serviceId start end duration status statusRaw statusDisplayName indexStatus description results percent numTasks previousLastTask
  lastUpdate expiresAt expirationTime retention retentionUnit expired hasCatalog hasCondensed wormProtected rerunnable userUpdate
  statistics { resourceType total success failed skipped names } properties actions links { name href rel title }
  policySnapshot { id name type subType serviceId version description script
    spec { source { id name href resourceType include metadata { path name } } option { retention maxTasks } notification applicationType }
    specRaw }
`;

describe('the IBM sample record', () => {
  it('reads back with every field typed, DateTimes in ISO-8601 UTC with milliseconds', async () => {
    const { status, body } = await h.gql(`{ jobSession(id: "1564688656142") { ${ALL_FIELDS} } }`);
    expect(status).toBe(200);
    expect(body.errors).toBeUndefined();
    expect(body.data.jobSession).toEqual({
      id: Buffer.from('JobSession:1564688656142').toString('base64url'),
      sessionId: '1564688656142',
      jobId: '1003',
      jobName: 'Application Server Inventory',
      displayName: null,
      type: 'catalog',
      typeDisplayName: 'Catalog',
      subType: 'application',
      subTypeDisplayName: 'Application',
      subPolicyType: null,
      subPolicyTypeDisplayName: null,
      serviceId: 'serviceprovider.catalog.application',
      start: '2020-01-01T12:20:34.123Z',
      end: '2020-01-01T12:37:14.123Z',
      duration: 1000000,
      status: 'PARTIAL',
      statusRaw: 'PARTIAL',
      statusDisplayName: 'Partial',
      indexStatus: 'COMPLETED',
      description: 'Autorun - 10.4.4.1 only',
      results: 'Started',
      percent: 0,
      numTasks: 2,
      previousLastTask: 0,
      lastUpdate: '2020-01-01T12:37:15.123Z',
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
      statistics: [],
      properties: null,
      actions: [],
      links: expect.any(Array),
      policySnapshot: {
        id: '1003',
        name: 'Application Server Inventory',
        type: 'catalog',
        subType: 'application',
        serviceId: 'serviceprovider.catalog.application',
        version: null,
        description: '',
        script: null,
        spec: {
          source: [
            {
              id: '1001',
              name: '10.4.4.1',
              href: 'http://localhost:8082/api/appserver/1001',
              resourceType: 'appserver',
              include: true,
              metadata: { path: ':', name: '10.4.4.1' },
            },
          ],
          option: { retention: '3', maxTasks: 50 },
          notification: [],
          applicationType: 'oracle',
        },
        specRaw: h.sim.get('1564688656142')!.policySnapshot!.spec,
      },
    });
  });

  it('is found by its global id too, through jobSession and node', async () => {
    const globalId = Buffer.from('JobSession:1564688656142').toString('base64url');
    const { body } = await h.gql(`query($id: ID!) { jobSession(id: $id) { sessionId } node(id: $id) { __typename id ... on JobSession { jobName } } }`, {
      id: globalId,
    });
    expect(body).toEqual({
      data: {
        jobSession: { sessionId: '1564688656142' },
        node: { __typename: 'JobSession', id: globalId, jobName: 'Application Server Inventory' },
      },
    });
  });
});

describe('single-record loading', () => {
  it('answers null for an id SPP does not know', async () => {
    const { status, body } = await h.gql(
      `{ jobSession(id: "9999999999999") { sessionId } node(id: "${Buffer.from('JobSession:9999999999999').toString('base64url')}") { id } }`,
    );
    expect(status).toBe(200);
    expect(body).toEqual({ data: { jobSession: null, node: null } });
  });

  it('refuses ids that are neither SPP ids nor global ids with BAD_USER_INPUT (a field error: data is there, so HTTP 200)', async () => {
    for (const query of [
      '{ jobSession(id: "drop table") { sessionId } }',
      '{ node(id: "%%%") { id } }',
      `{ node(id: "${Buffer.from('Other:12').toString('base64url')}") { id } }`,
    ]) {
      h.resetUpstreamCalls();
      const { status, body } = await h.gql(query);
      expect(status).toBe(200);
      expect(Object.values(body.data)).toEqual([null]);
      expect(body.errors![0]!.extensions!.code).toBe('BAD_USER_INPUT');
      expect(h.upstreamCalls()).toHaveLength(0);
    }
  });

  it('costs one upstream call for the same id asked ten times in one operation', async () => {
    h.resetUpstreamCalls();
    const aliases = Array.from({ length: 10 }, (_, i) => `a${i}: jobSession(id: "1564688656142") { jobName }`).join('\n');
    const { body } = await h.gql(`{ ${aliases} }`);
    expect(Object.values(body.data)).toEqual(Array.from({ length: 10 }, () => ({ jobName: 'Application Server Inventory' })));
    expect(h.upstreamCalls().map((c) => c.path)).toEqual(['/api/endeavour/jobsession/1564688656142']);
  });

  it('costs no upstream call for a record a list in the same operation already returned', async () => {
    const newest = h.sim.list({
      sort: [
        { property: 'start', direction: 'DESC' },
        { property: 'id', direction: 'DESC' },
      ],
    })[0]!;
    h.resetUpstreamCalls();
    const { body } = await h.gql(`{ jobSessions(first: 3) { nodes { sessionId } } jobSession(id: "${newest.id}") { sessionId jobName } }`);
    expect(body.data.jobSession).toEqual({ sessionId: newest.id, jobName: newest.jobName });
    expect(h.upstreamCalls().map((c) => c.path)).toEqual(['/api/endeavour/jobsession']);
  });

  it('does not share loaded records between requests', async () => {
    h.resetUpstreamCalls();
    await h.gql('{ jobSession(id: "1564688656142") { sessionId } }');
    await h.gql('{ jobSession(id: "1564688656142") { sessionId } }');
    expect(h.upstreamCalls()).toHaveLength(2);
  });
});
