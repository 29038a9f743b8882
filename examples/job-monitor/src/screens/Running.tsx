import { useEffect, useState } from 'react';
import { useMutation, useQuery } from '@apollo/client/react';
import { graphql } from '../gql';
import type { RunningSessionFragment } from '../gql/graphql';
import { ErrorMessage, Loading, Progress, StatusBadge, formatTime, newMutationId } from '../components/common';
import { hrefOf } from '../route';
import { ServerFilter } from '../components/ServerFilter';
import { chosenServers, sessionRoute, useServers } from '../servers';

graphql(`
  fragment RunningSession on JobSession {
    id
    sessionId
    jobName
    type
    status
    percent
    start
    lastUpdate
    availableActions
    server {
      name
    }
  }
`);

/** What SPP's "Running Jobs" tab shows: every session not yet finished. */
const RUNNING_QUERY = graphql(`
  query RunningSessions($servers: [String!]) {
    jobSessions(first: 200, filter: { status: [RUNNING, PENDING, WAITING, HELD, CANCELING] }, servers: $servers) {
      nodes {
        ...RunningSession
      }
    }
  }
`);

const RUNNING_EVENTS = graphql(`
  subscription RunningSessionEvents($since: DateTime, $servers: [String!]) {
    jobSessionEvents(filter: { status: [RUNNING, PENDING, WAITING, HELD, CANCELING] }, since: $since, servers: $servers) {
      kind
      sessionId
      server {
        name
      }
      session {
        ...RunningSession
      }
    }
  }
`);

export const CANCEL_SESSION = graphql(`
  mutation CancelJobSession($input: CancelJobSessionInput!) {
    cancelJobSession(input: $input) {
      clientMutationId
      jobSession {
        ...RunningSession
      }
    }
  }
`);

const newestFirst = (a: RunningSessionFragment, b: RunningSessionFragment) =>
  b.start.localeCompare(a.start) || b.server.name.localeCompare(a.server.name) || b.sessionId.localeCompare(a.sessionId);

/** Over several servers SPP's session ids may repeat: the global id (or, for an expired session, the event's server and SPP id) tells sessions apart. */
const sameSession = (node: RunningSessionFragment, event: { sessionId: string; server: { name: string }; session?: { id: string } | null }) =>
  event.session ? node.id === event.session.id : node.server.name === event.server.name && node.sessionId === event.sessionId;

/** The chosen servers live in the URL's hash query (#/running?server=berlin), as History's filters do. */
const readServers = () => new URLSearchParams(window.location.hash.split('?')[1] ?? '').getAll('server');

function writeServers(servers: readonly string[]) {
  const params = new URLSearchParams();
  for (const server of servers) params.append('server', server);
  const query = params.toString();
  window.history.replaceState(null, '', `#/running${query ? `?${query}` : ''}`);
}

export function Running() {
  const { servers, multi } = useServers();
  const [wanted, setWanted] = useState<string[]>(readServers);
  useEffect(() => writeServers(wanted), [wanted]);
  const chosen = chosenServers(wanted, servers, multi);
  const serversKey = chosen.join('\u0000');
  const { data, error, loading, subscribeToMore } = useQuery(RUNNING_QUERY, { variables: chosen.length ? { servers: chosen } : {} });
  const [liveError, setLiveError] = useState<unknown>();
  // The list of the chosen servers is in: subscribe to their events (again when the choice changes).
  const loaded = data !== undefined && !loading;
  useEffect(() => {
    if (!loaded) return;
    // Changes since the newest lastUpdate the list holds: nothing between the query and the subscription is missed.
    const since =
      data.jobSessions.nodes
        .map((n) => n.lastUpdate)
        .filter((t): t is string => !!t)
        .sort()
        .at(-1) ?? null;
    return subscribeToMore({
      document: RUNNING_EVENTS,
      variables: { since, ...(chosen.length ? { servers: chosen } : {}) },
      onError: setLiveError,
      updateQuery: (_, { subscriptionData, complete, previousData }) => {
        const event = subscriptionData.data?.jobSessionEvents;
        if (!event || !complete) return undefined;
        setLiveError(undefined);
        // ADDED and CHANGED are upserts, REMOVED drops (README, Live updates).
        const others = previousData.jobSessions.nodes.filter((n) => !sameSession(n, event));
        const nodes = event.kind === 'REMOVED' || !event.session ? others : [...others, event.session].sort(newestFirst);
        return { ...previousData, jobSessions: { ...previousData.jobSessions, nodes } };
      },
    });
    // Subscribe when the answer for the chosen servers is in (`chosen` is read through serversKey).
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [loaded, serversKey, subscribeToMore]);

  return (
    <section aria-labelledby="running-title">
      <h1 id="running-title" tabIndex={-1}>
        Running now
      </h1>
      {multi ? (
        <form className="filters" onSubmit={(e) => e.preventDefault()} aria-label="Filter the running sessions">
          <ServerFilter servers={servers} chosen={chosen} onChange={setWanted} />
        </form>
      ) : null}
      {liveError ? <ErrorMessage error={liveError} what="live updates (the list may be out of date)" /> : null}
      {error ? <ErrorMessage error={error} what="running sessions" /> : null}
      {loading && !data ? <Loading what="running sessions" /> : null}
      {data ? (
        <>
          <p className="summary" aria-live="polite" data-testid="running-count">
            {data.jobSessions.nodes.length} {data.jobSessions.nodes.length === 1 ? 'session' : 'sessions'} running or waiting
          </p>
          <table className="sessions" data-testid="running-table">
            <thead>
              <tr>
                <th scope="col">Job</th>
                {multi ? <th scope="col">Server</th> : null}
                <th scope="col">Status</th>
                <th scope="col">Progress</th>
                <th scope="col">Started</th>
                <th scope="col">
                  <span className="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {data.jobSessions.nodes.map((session) => (
                <RunningRow key={session.id} session={session} multi={multi} />
              ))}
            </tbody>
          </table>
          {data.jobSessions.nodes.length === 0 ? <p className="empty">Nothing is running.</p> : null}
        </>
      ) : null}
    </section>
  );
}

function RunningRow({ session, multi }: { session: RunningSessionFragment; multi: boolean }) {
  const [cancel, { loading, error }] = useMutation(CANCEL_SESSION);
  const canCancel = session.availableActions.includes('CANCEL');
  return (
    <tr data-session-id={session.sessionId} data-server={multi ? session.server.name : undefined}>
      <th scope="row">
        <a href={hrefOf(sessionRoute(session, multi))}>{session.jobName}</a>
        <span className="sub">
          {session.type} · {session.sessionId}
        </span>
      </th>
      {multi ? <td>{session.server.name}</td> : null}
      <td>
        <StatusBadge status={session.status} />
      </td>
      <td>
        <Progress percent={session.percent} label={`${session.jobName} progress`} />
      </td>
      <td>{formatTime(session.start)}</td>
      <td>
        <button
          type="button"
          disabled={!canCancel || loading}
          title={canCancel ? undefined : 'SPP does not offer Cancel for this session now'}
          aria-label={`Cancel ${session.jobName} (session ${session.sessionId}${multi ? ` on ${session.server.name}` : ''})`}
          onClick={() => void cancel({ variables: { input: { id: session.id, clientMutationId: newMutationId('cancel') } } }).catch(() => undefined)}
        >
          {loading ? 'Cancelling…' : 'Cancel'}
        </button>
        {error ? <ErrorMessage error={error} what={`the cancel of ${session.jobName}`} verb="run" /> : null}
      </td>
    </tr>
  );
}
