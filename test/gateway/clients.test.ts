import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApolloClient, HttpLink, InMemoryCache, gql } from '@apollo/client';
import { relayStylePagination } from '@apollo/client/utilities';
import { filter, firstValueFrom } from 'rxjs';
import { startHarness, type Harness } from '../support/harness.js';

const QUERY = gql`
  query Sessions($first: Int, $after: String, $last: Int, $before: String, $filter: JobSessionFilter) {
    jobSessions(first: $first, after: $after, last: $last, before: $before, filter: $filter) {
      edges {
        cursor
        node {
          id
          sessionId
          jobName
        }
      }
      pageInfo {
        hasNextPage
        hasPreviousPage
        startCursor
        endCursor
      }
    }
  }
`;

let h: Harness;
let expected: string[];
beforeAll(async () => {
  h = await startHarness({ sim: { size: 300 } });
  expected = h.sim
    .list({
      sort: [
        { property: 'start', direction: 'DESC' },
        { property: 'id', direction: 'DESC' },
      ],
    })
    .map((s) => s.id);
});
afterAll(() => h.close());

/** Watches a query as a component would (kept subscribed), and resolves its first complete result. */
async function watch(apollo: ApolloClient, variables: Record<string, unknown>) {
  const observable = apollo.watchQuery({ query: QUERY, variables });
  const subscription = observable.subscribe(() => undefined);
  const first = await firstValueFrom(observable.pipe(filter((r) => !r.loading)));
  return { observable, first: first.data as any, stop: () => subscription.unsubscribe() };
}

function client() {
  return new ApolloClient({
    link: new HttpLink({ uri: h.gateway.url }),
    cache: new InMemoryCache({ typePolicies: { Query: { fields: { jobSessions: relayStylePagination(['filter']) } } } }),
  });
}

describe("Apollo Client's relayStylePagination", () => {
  it('merges pages fetched with fetchMore(after) into one list, unchanged', async () => {
    const apollo = client();
    const { observable, first, stop } = await watch(apollo, { first: 40 });
    expect(first.jobSessions.edges).toHaveLength(40);
    let pageInfo = first.jobSessions.pageInfo;
    for (let i = 0; i < 3 && pageInfo.hasNextPage; i++) {
      const more = await observable.fetchMore({ variables: { after: pageInfo.endCursor } });
      pageInfo = (more.data as any).jobSessions.pageInfo;
    }
    const merged = apollo.readQuery<any>({ query: QUERY, variables: { first: 40 } });
    expect(merged.jobSessions.edges.map((e: any) => e.node.sessionId)).toEqual(expected.slice(0, 160));
    expect(merged.jobSessions.pageInfo.hasNextPage).toBe(true);
    stop();
  });

  it('prepends pages fetched with fetchMore(before, last)', async () => {
    const apollo = client();
    const { observable, first: tail, stop } = await watch(apollo, { last: 50 });
    expect(tail.jobSessions.edges.map((e: any) => e.node.sessionId)).toEqual(expected.slice(-50));
    await observable.fetchMore({ variables: { last: 50, before: tail.jobSessions.pageInfo.startCursor } });
    const merged = apollo.readQuery<any>({ query: QUERY, variables: { last: 50 } });
    stop();
    expect(merged.jobSessions.edges.map((e: any) => e.node.sessionId)).toEqual(expected.slice(-100));
    expect(merged.jobSessions.pageInfo).toMatchObject({ hasPreviousPage: true, hasNextPage: false });
  });
});
