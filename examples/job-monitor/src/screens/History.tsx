import { useEffect, useMemo, useState } from 'react';
import { NetworkStatus } from '@apollo/client';
import { useQuery } from '@apollo/client/react';
import { graphql } from '../gql';
import type { JobSessionFilter, JobSessionOrderField, JobSessionStatus, OrderDirection } from '../gql/graphql';
import { ErrorMessage, Loading, StatusBadge, formatDuration, formatTime } from '../components/common';
import { hrefOf } from '../route';
import { useEndOfList } from '../components/use-end-of-list';
import { ServerFilter } from '../components/ServerFilter';
import { chosenServers, sessionRoute, useServers } from '../servers';

/** Finished sessions, newest first by default; pages are merged by relayStylePagination (apollo.ts). */
const HISTORY_QUERY = graphql(`
  query SessionHistory($first: Int!, $after: String, $filter: JobSessionFilter, $orderBy: [JobSessionOrder!], $servers: [String!]) {
    jobSessions(first: $first, after: $after, filter: $filter, orderBy: $orderBy, servers: $servers) {
      totalCount
      edges {
        cursor
        node {
          id
          sessionId
          jobName
          type
          status
          start
          end
          duration
          server {
            name
          }
        }
      }
      pageInfo {
        hasNextPage
        endCursor
      }
    }
  }
`);

const FINISHED: JobSessionStatus[] = ['COMPLETED', 'PARTIAL', 'FAILED', 'CANCELED', 'ABORTED'];
const PAGE = 25;

interface Form {
  statuses: JobSessionStatus[];
  jobName: string;
  from: string;
  to: string;
  order: `${JobSessionOrderField}:${OrderDirection}`;
  /** The SPP servers to read (several servers only); empty: all of them. */
  servers: string[];
}

/** The form's state lives in the URL's hash query (#/history?status=FAILED&job=vmware_*), so a filtered list can be linked. */
function readForm(): Form {
  const params = new URLSearchParams(window.location.hash.split('?')[1] ?? '');
  const statuses = params.getAll('status').filter((s): s is JobSessionStatus => (FINISHED as string[]).includes(s));
  return {
    statuses: statuses.length ? statuses : FINISHED,
    jobName: params.get('job') ?? '',
    from: params.get('from') ?? '',
    to: params.get('to') ?? '',
    order: (params.get('order') as Form['order']) ?? 'START:DESC',
    servers: params.getAll('server'),
  };
}

function writeForm(form: Form) {
  const params = new URLSearchParams();
  if (form.statuses.length !== FINISHED.length) for (const s of form.statuses) params.append('status', s);
  if (form.jobName) params.set('job', form.jobName);
  if (form.from) params.set('from', form.from);
  if (form.to) params.set('to', form.to);
  if (form.order !== 'START:DESC') params.set('order', form.order);
  for (const server of form.servers) params.append('server', server);
  const query = params.toString();
  window.history.replaceState(null, '', `#/history${query ? `?${query}` : ''}`);
}

const toIso = (local: string) => (local ? new Date(`${local}Z`).toISOString() : undefined);

function filterOf(form: Form): JobSessionFilter {
  const start = { ...(form.from ? { gte: toIso(form.from) } : {}), ...(form.to ? { lt: toIso(form.to) } : {}) };
  return {
    status: form.statuses.length ? form.statuses : FINISHED,
    ...(form.jobName.trim() ? { jobName: form.jobName.trim() } : {}),
    ...(Object.keys(start).length ? { start } : {}),
  };
}

export function History() {
  const [form, setForm] = useState<Form>(readForm);
  useEffect(() => writeForm(form), [form]);
  const filter = useMemo(() => filterOf(form), [form]);
  const [field, direction] = form.order.split(':') as [JobSessionOrderField, OrderDirection];
  const { servers, multi } = useServers();
  const chosen = chosenServers(form.servers, servers, multi);
  const { data, error, loading, fetchMore, networkStatus } = useQuery(HISTORY_QUERY, {
    variables: { first: PAGE, filter, orderBy: [{ field, direction }], ...(chosen.length ? { servers: chosen } : {}) },
    notifyOnNetworkStatusChange: true,
  });
  const connection = data?.jobSessions;
  const fetchingMore = networkStatus === NetworkStatus.fetchMore;
  const [moreError, setMoreError] = useState<unknown>();
  const loadMore = () => {
    if (!connection?.pageInfo.hasNextPage || fetchingMore) return;
    setMoreError(undefined);
    fetchMore({ variables: { after: connection.pageInfo.endCursor } }).catch(setMoreError);
  };

  const sentinel = useEndOfList<HTMLDivElement>(loadMore, connection !== undefined);

  const toggle = (status: JobSessionStatus) =>
    setForm((f) => ({ ...f, statuses: f.statuses.includes(status) ? f.statuses.filter((s) => s !== status) : [...f.statuses, status] }));

  return (
    <section aria-labelledby="history-title">
      <h1 id="history-title" tabIndex={-1}>
        History
      </h1>
      <form className="filters" onSubmit={(e) => e.preventDefault()} aria-label="Filter the history">
        <fieldset>
          <legend>Status</legend>
          {FINISHED.map((status) => (
            <label key={status}>
              <input type="checkbox" name="status" value={status} checked={form.statuses.includes(status)} onChange={() => toggle(status)} />
              {status.charAt(0) + status.slice(1).toLowerCase()}
            </label>
          ))}
        </fieldset>
        {multi ? <ServerFilter servers={servers} chosen={chosen} onChange={(next) => setForm((f) => ({ ...f, servers: next }))} /> : null}
        <label>
          Job name <span className="hint">(* matches anything)</span>
          <input
            type="search"
            name="jobName"
            placeholder="e.g. vmware_*"
            value={form.jobName}
            onChange={(e) => setForm((f) => ({ ...f, jobName: e.target.value }))}
          />
        </label>
        <label>
          Started from (UTC)
          <input type="datetime-local" name="from" value={form.from} onChange={(e) => setForm((f) => ({ ...f, from: e.target.value }))} />
        </label>
        <label>
          until (UTC)
          <input type="datetime-local" name="to" value={form.to} onChange={(e) => setForm((f) => ({ ...f, to: e.target.value }))} />
        </label>
        <label>
          Sort by
          <select name="order" value={form.order} onChange={(e) => setForm((f) => ({ ...f, order: e.target.value as Form['order'] }))}>
            <option value="START:DESC">Newest first</option>
            <option value="START:ASC">Oldest first</option>
            <option value="DURATION:DESC">Longest first</option>
            <option value="JOB_NAME:ASC">Job name A–Z</option>
            <option value="STATUS:ASC">Status</option>
          </select>
        </label>
      </form>
      {error ? <ErrorMessage error={error} what="the history" /> : null}
      {loading && !connection ? <Loading what="the history" /> : null}
      {connection ? (
        <>
          <p className="summary" aria-live="polite" data-testid="history-count">
            {connection.edges.length} of {connection.totalCount ?? 'an unknown number of'} sessions shown
          </p>
          <table className="sessions" data-testid="history-table">
            <thead>
              <tr>
                <th scope="col">Job</th>
                {multi ? <th scope="col">Server</th> : null}
                <th scope="col">Status</th>
                <th scope="col">Started</th>
                <th scope="col">Duration</th>
              </tr>
            </thead>
            <tbody>
              {connection.edges.map(({ node }) => (
                <tr key={node.id} data-session-id={node.sessionId} data-server={multi ? node.server.name : undefined}>
                  <th scope="row">
                    <a href={hrefOf(sessionRoute(node, multi))}>{node.jobName}</a>
                    <span className="sub">
                      {node.type} · {node.sessionId}
                    </span>
                  </th>
                  {multi ? <td>{node.server.name}</td> : null}
                  <td>
                    <StatusBadge status={node.status} />
                  </td>
                  <td>{formatTime(node.start)}</td>
                  <td>{formatDuration(node.duration)}</td>
                </tr>
              ))}
            </tbody>
          </table>
          {connection.edges.length === 0 ? <p className="empty">No session matches these filters.</p> : null}
          {moreError ? <ErrorMessage error={moreError} what="more sessions" /> : null}
          <div ref={sentinel} className="list-end" data-testid="history-end">
            {connection.pageInfo.hasNextPage ? (
              <button type="button" onClick={loadMore} disabled={fetchingMore}>
                {fetchingMore ? 'Loading more…' : 'Load more'}
              </button>
            ) : (
              <p data-testid="history-complete">End of the list.</p>
            )}
          </div>
        </>
      ) : null}
    </section>
  );
}
