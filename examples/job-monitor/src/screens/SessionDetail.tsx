import { useState } from 'react';
import { NetworkStatus } from '@apollo/client';
import { useMutation, useQuery } from '@apollo/client/react';
import { graphql } from '../gql';
import type { JobLogType } from '../gql/graphql';
import { ErrorMessage, Loading, Progress, StatusBadge, formatDuration, formatTime, newMutationId } from '../components/common';
import { hrefOf } from '../route';
import { useEndOfList } from '../components/use-end-of-list';
import { sessionRoute, useServers } from '../servers';

const SESSION_QUERY = graphql(`
  query SessionDetail($id: ID!) {
    jobSession(id: $id) {
      id
      sessionId
      jobName
      type
      subType
      status
      statusRaw
      percent
      start
      end
      duration
      lastUpdate
      expiresAt
      description
      availableActions
      server {
        name
      }
      statistics {
        resourceType
        total
        success
        failed
        skipped
      }
      policySnapshot {
        name
        type
        spec {
          applicationType
          source {
            name
            resourceType
          }
          option {
            retention
            maxTasks
          }
        }
      }
      job {
        id
        name
        policyName
        nextFireTime
      }
      logCounts(types: [ERROR, WARN, INFO]) {
        type
        count
      }
    }
  }
`);

const LOG_QUERY = graphql(`
  query SessionLog($id: ID!, $first: Int!, $after: String, $filter: JobLogFilter) {
    jobSession(id: $id) {
      id
      log(first: $first, after: $after, filter: $filter) {
        totalCount
        edges {
          cursor
          node {
            id
            logTime
            type
            messageId
            message
          }
        }
        pageInfo {
          hasNextPage
          endCursor
        }
      }
    }
  }
`);

const RERUN = graphql(`
  mutation RerunJobSession($input: RerunJobSessionInput!) {
    rerunJobSession(input: $input) {
      clientMutationId
      jobSession {
        id
        availableActions
      }
      newJobSession {
        id
        sessionId
      }
    }
  }
`);

const EXPIRE = graphql(`
  mutation ExpireJobSession($input: ExpireJobSessionInput!) {
    expireJobSession(input: $input) {
      clientMutationId
      expiredJobSessionId
    }
  }
`);

/** ERROR and WARN first: what an operator opens a failed session for. */
const LOG_TYPES: JobLogType[] = ['ERROR', 'WARN', 'INFO', 'SUMMARY', 'DETAIL', 'DEBUG'];

export function SessionDetail({ id }: { id: string }) {
  const { data, error, loading } = useQuery(SESSION_QUERY, { variables: { id } });
  const [rerun, rerunState] = useMutation(RERUN);
  const [expire, expireState] = useMutation(EXPIRE, {
    // The session is gone from SPP: drop it from every cached list.
    update(cache, { data: result }) {
      if (!result) return;
      cache.evict({ id: cache.identify({ __typename: 'JobSession', id: result.expireJobSession.expiredJobSessionId }) });
      cache.gc();
    },
  });
  const session = data?.jobSession;
  const { multi } = useServers();
  const counts = new Map(session?.logCounts.map((c) => [c.type, c.count]) ?? []);

  return (
    <section aria-labelledby="session-title">
      <p>
        <a href={hrefOf({ screen: 'history' })}>← History</a>
      </p>
      <h1 id="session-title" tabIndex={-1}>
        {session ? session.jobName : `Session ${id}`}
      </h1>
      {error ? <ErrorMessage error={error} what="the session" /> : null}
      {loading && !data ? <Loading what="the session" /> : null}
      {expireState.data ? <p role="status">Session {expireState.data.expireJobSession.expiredJobSessionId} was expired: SPP removed it and its log.</p> : null}
      {data && !session && !expireState.data ? <p role="alert">SPP knows no session {id} (it may have expired).</p> : null}
      {session ? (
        <>
          <div className="actions">
            <button
              type="button"
              disabled={!session.availableActions.includes('RERUN') || rerunState.loading}
              onClick={() => void rerun({ variables: { input: { id: session.id, clientMutationId: newMutationId('rerun') } } }).catch(() => undefined)}
            >
              {rerunState.loading ? 'Starting…' : 'Rerun'}
            </button>
            <button
              type="button"
              disabled={!session.availableActions.includes('EXPIRE') || expireState.loading}
              onClick={() => {
                if (window.confirm(`Expire session ${session.sessionId}? SPP removes it, its backup data and its log.`)) {
                  void expire({ variables: { input: { id: session.id, clientMutationId: newMutationId('expire') } } }).catch(() => undefined);
                }
              }}
            >
              {expireState.loading ? 'Expiring…' : 'Expire'}
            </button>
            {rerunState.data?.rerunJobSession.newJobSession ? (
              <p role="status">
                Started again as{' '}
                <a href={hrefOf(sessionRoute(rerunState.data.rerunJobSession.newJobSession, multi))}>
                  session {rerunState.data.rerunJobSession.newJobSession.sessionId}
                </a>
                .
              </p>
            ) : null}
            {rerunState.error ? <ErrorMessage error={rerunState.error} what="the rerun" verb="run" /> : null}
            {expireState.error ? <ErrorMessage error={expireState.error} what="the expiry" verb="run" /> : null}
          </div>
          <dl className="fields" data-testid="session-fields">
            <dt>Status</dt>
            <dd>
              <StatusBadge status={session.status} /> {session.statusRaw !== session.status ? <span className="sub">(SPP: {session.statusRaw})</span> : null}
            </dd>
            <dt>Progress</dt>
            <dd>
              <Progress percent={session.percent} label="Progress" />
            </dd>
            <dt>Session id</dt>
            <dd>{session.sessionId}</dd>
            {multi ? (
              <>
                <dt>Server</dt>
                <dd data-testid="session-server">{session.server.name}</dd>
              </>
            ) : null}
            <dt>Type</dt>
            <dd>
              {session.type}
              {session.subType ? ` / ${session.subType}` : ''}
            </dd>
            <dt>Started</dt>
            <dd>{formatTime(session.start)}</dd>
            <dt>Ended</dt>
            <dd>{formatTime(session.end)}</dd>
            <dt>Duration</dt>
            <dd>{formatDuration(session.duration)}</dd>
            <dt>Expires</dt>
            <dd>{formatTime(session.expiresAt)}</dd>
            <dt>Job</dt>
            <dd>
              {session.job
                ? `${session.job.name}${session.job.policyName ? ` (policy ${session.job.policyName})` : ''}; next run ${formatTime(session.job.nextFireTime)}`
                : '—'}
            </dd>
          </dl>
          <h2>Statistics</h2>
          {session.statistics.length ? (
            <table className="compact">
              <thead>
                <tr>
                  <th scope="col">Resource</th>
                  <th scope="col">Total</th>
                  <th scope="col">Succeeded</th>
                  <th scope="col">Failed</th>
                  <th scope="col">Skipped</th>
                </tr>
              </thead>
              <tbody>
                {session.statistics.map((s) => (
                  <tr key={s.resourceType}>
                    <th scope="row">{s.resourceType}</th>
                    <td>{s.total}</td>
                    <td>{s.success}</td>
                    <td>{s.failed}</td>
                    <td>{s.skipped}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          ) : (
            <p className="empty">No statistics.</p>
          )}
          <h2>Policy snapshot</h2>
          {session.policySnapshot ? (
            <dl className="fields">
              <dt>Policy</dt>
              <dd>{session.policySnapshot.name}</dd>
              <dt>Application</dt>
              <dd>{session.policySnapshot.spec?.applicationType ?? '—'}</dd>
              <dt>Sources</dt>
              <dd>{session.policySnapshot.spec?.source.map((s) => `${s.name ?? '?'}${s.resourceType ? ` (${s.resourceType})` : ''}`).join(', ') || '—'}</dd>
              <dt>Retention</dt>
              <dd>{session.policySnapshot.spec?.option?.retention ?? '—'}</dd>
            </dl>
          ) : (
            <p className="empty">No policy snapshot.</p>
          )}
          {/* The global id: over several servers it names the one that holds the log. */}
          <SessionLog id={session.id} counts={counts} />
        </>
      ) : null}
    </section>
  );
}

function SessionLog({ id, counts }: { id: string; counts: Map<JobLogType, number | null | undefined> }) {
  const [types, setTypes] = useState<JobLogType[]>(['ERROR', 'WARN']);
  const { data, error, loading, fetchMore, networkStatus } = useQuery(LOG_QUERY, {
    variables: { id, first: 50, filter: types.length ? { type: types } : null },
    notifyOnNetworkStatusChange: true,
  });
  const log = data?.jobSession?.log;
  const fetchingMore = networkStatus === NetworkStatus.fetchMore;
  const loadMore = () => {
    if (log?.pageInfo.hasNextPage && !fetchingMore) void fetchMore({ variables: { after: log.pageInfo.endCursor } }).catch(() => undefined);
  };
  const end = useEndOfList<HTMLDivElement>(loadMore, log !== undefined);
  const toggle = (type: JobLogType) => setTypes((t) => (t.includes(type) ? t.filter((x) => x !== type) : [...t, type]));
  return (
    <>
      <h2 id="log-title">Job log</h2>
      <fieldset className="log-types">
        <legend>Entry types</legend>
        {LOG_TYPES.map((type) => (
          <label key={type}>
            <input type="checkbox" checked={types.includes(type)} onChange={() => toggle(type)} />
            {type}
            {counts.has(type) ? <span className="count"> ({counts.get(type) ?? '?'})</span> : null}
          </label>
        ))}
      </fieldset>
      {error ? <ErrorMessage error={error} what="the job log" /> : null}
      {loading && !log ? <Loading what="the job log" /> : null}
      {log ? (
        <>
          <table className="log" aria-labelledby="log-title" data-testid="log-table">
            <thead>
              <tr>
                <th scope="col">Time</th>
                <th scope="col">Type</th>
                <th scope="col">Message</th>
              </tr>
            </thead>
            <tbody>
              {log.edges.map(({ node }) => (
                <tr key={node.id} data-log-type={node.type}>
                  <td>{formatTime(node.logTime)}</td>
                  <td>
                    <span className={`logtype logtype-${node.type.toLowerCase()}`}>{node.type}</span>
                  </td>
                  <td>
                    {node.messageId ? <code>{node.messageId} </code> : null}
                    {node.message}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          {log.edges.length === 0 ? <p className="empty">No entries of these types.</p> : null}
          <div ref={end} className="list-end">
            {log.pageInfo.hasNextPage ? (
              <button type="button" disabled={fetchingMore} onClick={loadMore}>
                {fetchingMore ? 'Loading more…' : `More entries (${log.edges.length} of ${log.totalCount ?? '?'})`}
              </button>
            ) : null}
          </div>
        </>
      ) : null}
    </>
  );
}
