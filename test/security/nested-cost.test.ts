import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from '../support/harness.js';

/** Every screen of a job monitor at its largest, in one operation (default limits). */
const SCREENS = `{
  failed: jobSessions(first: 1000, filter: { status: [FAILED] }) {
    totalCount
    edges { cursor node {
      id sessionId jobId jobName displayName type typeDisplayName subType subTypeDisplayName subPolicyType subPolicyTypeDisplayName serviceId
      start end duration status statusRaw statusDisplayName indexStatus description results percent numTasks previousLastTask lastUpdate
      expiresAt expirationTime retention retentionUnit expired hasCatalog hasCondensed wormProtected rerunnable userUpdate properties actions raw
      statistics { resourceType total success failed skipped names }
      links { name href rel title }
      policySnapshot { id name spec { applicationType source { id name href resourceType include metadata { path name } } option { retention maxTasks } } }
      job { id name nextFireTime }
    } }
    pageInfo { hasNextPage endCursor }
  }
  session: jobSession(id: "1564688656142") {
    jobName status logCounts { type count }
    log(first: 1000, filter: { type: [ERROR, WARN] }) {
      totalCount
      edges { cursor node { id entryId logTime type typeRaw category modName message messageId messageParams detail taskId threadId raw } }
      pageInfo { hasNextPage endCursor }
    }
  }
  jobs(first: 100) { nodes { id name type status lastSessionStatus lastRunTime nextFireTime lastSessionDuration links { name href } lastRun { sessionId status percent start } } }
  tiles: jobSessionStats { totalRuns successful failed warning running successPercent byStatus { key count } }
  counts: jobSessionCounts { status count }
}`;

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(() => h.close());

describe('the cost of nested connections', () => {
  it('admits the largest legitimate single screen under the default limit', async () => {
    const { status, body } = await h.gql(SCREENS);
    expect(status).toBe(200);
    expect(body.errors).toBeUndefined();
    expect(body.data.failed.edges.length).toBeGreaterThan(100);
  });

  it('prices a log per session as what it is: 100 sessions × 100 entries pass, 1000 × 100 are refused before any upstream call', async () => {
    const nested = (sessions: number) => `{ jobSessions(first: ${sessions}) { nodes { log(first: 100) { nodes { message } } } } }`;
    const ok = await h.gql(nested(100));
    expect(ok.status).toBe(200);
    expect(ok.body.data.jobSessions.nodes).toHaveLength(100);
    h.resetUpstreamCalls();
    const refused = await h.gql(nested(1000));
    expect(refused.status).toBe(400);
    expect(refused.body.errors![0]!.extensions!.code).toBe('QUERY_TOO_COMPLEX');
    // 1 + 10 (a read) + 1000 × (1 + 1 + 10 + 100 × 1)
    expect(refused.body.errors![0]!.message).toMatch(/costs 112011, above the limit of 100000/);
    expect(h.sim.requests).toHaveLength(0);
  });

  it('prices per-session counts by their upstream reads: log counts for 1000 sessions are refused', async () => {
    h.resetUpstreamCalls();
    const refused = await h.gql('{ jobSessions(first: 1000) { nodes { logCounts { type count } } } }');
    expect(refused.body.errors![0]!.extensions!.code).toBe('QUERY_TOO_COMPLEX');
    expect(h.sim.requests).toHaveLength(0);
  });
});
