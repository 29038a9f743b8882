import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApolloClient, HttpLink, InMemoryCache, gql } from '@apollo/client';
import { ADMIN, basic, startHarness, type Harness } from '../support/harness.js';

const SESSIONS = gql`
  query Running($filter: JobSessionFilter) {
    jobSessions(first: 5, filter: $filter) {
      nodes {
        id
        sessionId
        status
        availableActions
      }
    }
  }
`;
const SESSION = gql`
  query One($id: ID!) {
    jobSession(id: $id) {
      id
      sessionId
      status
      availableActions
    }
  }
`;
const CANCEL = gql`
  mutation Cancel($input: CancelJobSessionInput!) {
    cancelJobSession(input: $input) {
      clientMutationId
      jobSession {
        id
        status
        availableActions
      }
    }
  }
`;

describe("Apollo Client's normalised cache after an action", () => {
  let h: Harness;
  let client: ApolloClient;
  beforeAll(async () => {
    h = await startHarness({ sim: { size: 300 }, auth: { mode: 'pass-through' } });
    h.sim.step({ insert: 10 });
    client = new ApolloClient({ link: new HttpLink({ uri: h.gateway.url, headers: basic(ADMIN) }), cache: new InMemoryCache() });
  });
  afterAll(() => h.close());

  it('shows the cancelled session as CANCELING in every cached query, without a refetch', async () => {
    const list = await client.query({ query: SESSIONS, variables: { filter: { status: ['RUNNING'] } } });
    const target = (list.data as any).jobSessions.nodes[0];
    expect(target).toMatchObject({ status: 'RUNNING', availableActions: ['CANCEL'] });
    await client.query({ query: SESSION, variables: { id: target.id } });
    h.resetUpstreamCalls();

    const result = await client.mutate({ mutation: CANCEL, variables: { input: { id: target.id, clientMutationId: 'apollo-1' } } });
    expect((result.data as any).cancelJobSession.jobSession).toEqual({ __typename: 'JobSession', id: target.id, status: 'CANCELING', availableActions: [] });

    // Both queries answer from the cache (cache-only: a refetch would fail the read), with the new status.
    const fromList = client.readQuery<any>({ query: SESSIONS, variables: { filter: { status: ['RUNNING'] } } });
    const fromOne = client.readQuery<any>({ query: SESSION, variables: { id: target.id } });
    expect(fromList.jobSessions.nodes.find((n: any) => n.id === target.id)).toMatchObject({ status: 'CANCELING', availableActions: [] });
    expect(fromOne.jobSession).toMatchObject({ id: target.id, status: 'CANCELING', availableActions: [] });
    const again = await client.query({ query: SESSION, variables: { id: target.id }, fetchPolicy: 'cache-first' });
    expect((again.data as any).jobSession.status).toBe('CANCELING');
    // The mutation's read and POST only: no GET after it.
    expect(h.sim.requests.filter((r) => r.path !== '/api/endeavour/session').map((r) => r.method)).toEqual(['GET', 'POST']);
  });
});
