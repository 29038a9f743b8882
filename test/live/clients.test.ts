import { Kind, OperationTypeNode } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { ApolloClient, ApolloLink, HttpLink, InMemoryCache, gql } from '@apollo/client';
import { GraphQLWsLink } from '@apollo/client/link/subscriptions';
import { getMainDefinition } from '@apollo/client/utilities';
import { createClient } from 'graphql-ws';
import { filter as rxFilter, firstValueFrom } from 'rxjs';
import { startHarness, type Harness } from '../support/harness.js';
import { ACTIVE_FILTER, LIVE_ENV, collect, sseClient, until, wsUrl } from './support.js';

const FIELDS = 'id sessionId jobName status percent start lastUpdate';
const RUNNING_JOBS = gql`
  query RunningJobs($filter: JobSessionFilter) {
    jobSessions(first: 100, filter: $filter) { nodes { ${FIELDS} } }
  }
`;
const EVENTS = gql`
  subscription RunningJobEvents($filter: JobSessionFilter, $since: DateTime) {
    jobSessionEvents(filter: $filter, since: $since) { kind sessionId at session { ${FIELDS} } }
  }
`;

type Node = { id: string; sessionId: string; start: string; lastUpdate: string | null };
type Event = { kind: 'ADDED' | 'CHANGED' | 'REMOVED'; sessionId: string; session: Node | null };

/** What a screen does with an event: upsert or drop, keeping SPP's order (start DESC, then id DESC). */
function apply(nodes: readonly Node[], event: Event): Node[] {
  const rest = nodes.filter((n) => n.sessionId !== event.sessionId);
  if (event.kind === 'REMOVED' || !event.session) return rest;
  const byNewest = (a: Node, b: Node) => (a.start === b.start ? (BigInt(b.sessionId) > BigInt(a.sessionId) ? 1 : -1) : a.start < b.start ? 1 : -1);
  return [...rest, event.session].sort(byNewest);
}

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ sim: { size: 600 }, env: LIVE_ENV });
});
afterAll(() => h.close());

const fresh = async () => (await h.gql(RUNNING_JOBS.loc!.source.body, { filter: ACTIVE_FILTER })).body.data.jobSessions.nodes as Node[];
const newestUpdate = (nodes: Node[]) =>
  nodes
    .map((n) => n.lastUpdate ?? n.start)
    .sort()
    .at(-1)!;

async function runChanges(): Promise<void> {
  for (const change of [{ insert: 2 }, { insert: 0 }, { insert: 1, expire: 1 }, { insert: 0 }, { insert: 0 }]) {
    h.sim.step(change);
    await h.gateway.live.registry.nextPolls();
  }
}

describe('clients', () => {
  it('Apollo Client with a split link (GraphQLWsLink) and subscribeToMore keeps the list equal to a fresh query', async () => {
    const wsClient = createClient({ url: wsUrl(h), webSocketImpl: WebSocket, retryAttempts: 0 });
    const link = ApolloLink.split(
      ({ query }) => {
        const definition = getMainDefinition(query);
        return definition.kind === Kind.OPERATION_DEFINITION && definition.operation === OperationTypeNode.SUBSCRIPTION;
      },
      new GraphQLWsLink(wsClient),
      new HttpLink({ uri: h.gateway.url }),
    );
    const apollo = new ApolloClient({ link, cache: new InMemoryCache() });
    const observable = apollo.watchQuery({ query: RUNNING_JOBS, variables: { filter: ACTIVE_FILTER } });
    const watching = observable.subscribe(() => undefined);
    const first = await firstValueFrom(observable.pipe(rxFilter((r) => !r.loading)));
    const since = newestUpdate((first.data as any).jobSessions.nodes);

    // Changes between the query and the subscription are what `since` is for.
    h.sim.step({ insert: 1 });
    const stop = observable.subscribeToMore({
      document: EVENTS,
      variables: { filter: ACTIVE_FILTER, since },
      updateQuery: (previous: any, { subscriptionData }: any) => ({
        ...previous,
        jobSessions: { ...previous.jobSessions, nodes: apply(previous.jobSessions.nodes, subscriptionData.data.jobSessionEvents) },
      }),
    });
    await until(() => h.gateway.live.registry.size === 1);
    await runChanges();

    const current = () => apollo.readQuery<any>({ query: RUNNING_JOBS, variables: { filter: ACTIVE_FILTER } }).jobSessions.nodes as Node[];
    const expected = await fresh();
    await until(() => JSON.stringify(current().map((n) => n.sessionId)) === JSON.stringify(expected.map((n) => n.sessionId)), 'the cached list converges');
    expect(current().map(({ sessionId, lastUpdate }) => ({ sessionId, lastUpdate }))).toEqual(
      expected.map(({ sessionId, lastUpdate }) => ({ sessionId, lastUpdate })),
    );
    stop();
    watching.unsubscribe();
    await wsClient.dispose();
  });

  it('a graphql-sse client that applies the events keeps the same list as a fresh query', async () => {
    let nodes = await fresh();
    const since = newestUpdate(nodes);
    h.sim.step({ insert: 1 });
    const client = sseClient(h);
    const events = collect<{ jobSessionEvents: Event }>(client, EVENTS.loc!.source.body, { filter: ACTIVE_FILTER, since });
    await until(() => h.gateway.live.registry.size === 1);
    await runChanges();
    const expected = await fresh();
    const applied = () => events.data.reduce((list, d) => apply(list, d.jobSessionEvents), nodes);
    await until(() => JSON.stringify(applied().map((n) => n.sessionId)) === JSON.stringify(expected.map((n) => n.sessionId)), 'the applied list converges');
    nodes = applied();
    expect(nodes.map(({ sessionId, lastUpdate }) => ({ sessionId, lastUpdate }))).toEqual(
      expected.map(({ sessionId, lastUpdate }) => ({ sessionId, lastUpdate })),
    );
    events.stop();
    client.dispose();
  });
});
