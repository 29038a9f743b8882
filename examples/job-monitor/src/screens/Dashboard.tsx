import { useQuery } from '@apollo/client/react';
import { graphql } from '../gql';
import type { DashboardTilesFragment, JobSessionStatus, SppServerStatus } from '../gql/graphql';
import { ErrorMessage, Loading, formatTime } from '../components/common';
import { useServers, type SppServerInfo } from '../servers';

graphql(`
  fragment DashboardTiles on JobSessionStats {
    start
    end
    totalRuns
    successful
    failed
    warning
    running
    successPercent
  }
`);

/** SPP's dashboard tiles, for the last 12 hours and the last 7 days (SPP's jobsession/stats). */
const DASHBOARD_QUERY = graphql(`
  query DashboardTiles {
    last12Hours: jobSessionStats(range: { unit: HOUR, value: 12 }) {
      ...DashboardTiles
    }
    last7Days: jobSessionStats(range: { unit: DAY, value: 7 }) {
      ...DashboardTiles
    }
  }
`);

/** The states counted per server: what an operator scans a site for. */
const SERVER_STATES: JobSessionStatus[] = ['RUNNING', 'FAILED', 'PARTIAL', 'COMPLETED'];

/**
 * Over several servers: each server's state (refreshed with the tiles) and its sessions per
 * state, from the gateway's per-server counts (one request per server and state, in parallel).
 */
const SERVER_TILES_QUERY = graphql(`
  query ServerTiles($states: [JobSessionStatus!]) {
    sppServers {
      ...SppServerFields
    }
    jobSessionCounts(filter: { status: $states }) {
      status
      byServer {
        server {
          name
        }
        count
      }
    }
  }
`);

export function Dashboard() {
  const { data, error, loading, refetch } = useQuery(DASHBOARD_QUERY, { pollInterval: 30_000 });
  const { multi } = useServers();
  return (
    <section aria-labelledby="dashboard-title">
      <h1 id="dashboard-title" tabIndex={-1}>
        Dashboard
      </h1>
      {error ? <ErrorMessage error={error} what="the statistics" /> : null}
      {loading && !data ? <Loading what="the statistics" /> : null}
      {data ? (
        <>
          <Tiles title="Last 12 hours" stats={data.last12Hours} />
          <Tiles title="Last 7 days" stats={data.last7Days} />
          {multi ? <ServerTiles /> : null}
          <button type="button" onClick={() => void refetch().catch(() => undefined)}>
            Refresh
          </button>
        </>
      ) : null}
    </section>
  );
}

function Tiles({ title, stats }: { title: string; stats: DashboardTilesFragment }) {
  const id = title.replace(/\W+/g, '-').toLowerCase();
  return (
    <section aria-labelledby={id} className="tiles-group" data-testid={`tiles-${id}`}>
      <h2 id={id}>{title}</h2>
      <ul className="tiles">
        <Tile label="Runs" value={stats.totalRuns} />
        <Tile label="Failed" value={stats.failed} tone={stats.failed > 0 ? 'bad' : 'ok'} />
        <Tile label="Warnings" value={stats.warning} tone={stats.warning > 0 ? 'warn' : 'ok'} />
        <Tile label="Running" value={stats.running} tone="info" />
        <Tile
          label="Success rate"
          value={stats.successPercent === null || stats.successPercent === undefined ? '—' : `${stats.successPercent.toFixed(1)} %`}
          tone={(stats.successPercent ?? 100) >= 90 ? 'ok' : 'warn'}
        />
      </ul>
    </section>
  );
}

const SERVER_STATUS: Record<SppServerStatus, { word: string; tone: string; symbol: string }> = {
  UP: { word: 'Up', tone: 'ok', symbol: '✓' },
  DOWN: { word: 'Down', tone: 'bad', symbol: '✕' },
  MISCONFIGURED: { word: 'Misconfigured', tone: 'warn', symbol: '▲' },
};

/** One group of tiles per server; a server that does not answer still has its group, with its state and the gateway's error. */
function ServerTiles() {
  // errorPolicy all: one server down must not hide the others' counts.
  const { data, error, loading } = useQuery(SERVER_TILES_QUERY, { variables: { states: SERVER_STATES }, pollInterval: 30_000, errorPolicy: 'all' });
  const countOf = (server: string, status: JobSessionStatus) =>
    data?.jobSessionCounts.find((c) => c.status === status)?.byServer.find((b) => b.server.name === server)?.count;
  return (
    <section aria-labelledby="servers-title">
      <h2 id="servers-title">Servers</h2>
      {error ? <ErrorMessage error={error} what="every server's counts" /> : null}
      {loading && !data ? <Loading what="the servers" /> : null}
      {data?.sppServers.map((server) => (
        <ServerGroup key={server.name} server={server} countOf={(status) => countOf(server.name, status)} />
      ))}
    </section>
  );
}

function ServerGroup({ server, countOf }: { server: SppServerInfo; countOf: (status: JobSessionStatus) => number | null | undefined }) {
  const id = `server-${server.name.replace(/\W+/g, '-').toLowerCase()}`;
  const state = SERVER_STATUS[server.status];
  return (
    <section aria-labelledby={id} className="server-tiles" data-testid="server-tiles" data-server={server.name}>
      <h3 id={id}>{server.name}</h3>
      <p className="server-state">
        <span className={`status status-${state.tone}`} data-server-status={server.status}>
          <span aria-hidden="true">{state.symbol} </span>
          {state.word}
        </span>{' '}
        <span className="sub">
          {server.url}
          {server.version ? ` · SPP ${server.version}` : ''} · last contact {formatTime(server.lastContact)}
        </span>
      </p>
      <ul className="tiles">
        {SERVER_STATES.map((status) => {
          const count = countOf(status);
          return (
            <Tile
              key={status}
              label={status.charAt(0) + status.slice(1).toLowerCase()}
              value={count ?? '—'}
              tone={status === 'FAILED' ? (count ? 'bad' : 'ok') : status === 'PARTIAL' ? (count ? 'warn' : 'ok') : status === 'RUNNING' ? 'info' : 'ok'}
              status={status}
            />
          );
        })}
      </ul>
    </section>
  );
}

function Tile({ label, value, tone, status }: { label: string; value: number | string; tone?: string; status?: JobSessionStatus }) {
  return (
    <li className={`tile${tone ? ` tile-${tone}` : ''}`} data-status={status}>
      <span className="tile-value">{value}</span>
      <span className="tile-label">{label}</span>
    </li>
  );
}
