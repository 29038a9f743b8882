import { useQuery } from '@apollo/client/react';
import { graphql } from '../gql';
import type { DashboardTilesFragment } from '../gql/graphql';
import { ErrorMessage, Loading } from '../components/common';

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

export function Dashboard() {
  const { data, error, loading, refetch } = useQuery(DASHBOARD_QUERY, { pollInterval: 30_000 });
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

function Tile({ label, value, tone }: { label: string; value: number | string; tone?: string }) {
  return (
    <li className={`tile${tone ? ` tile-${tone}` : ''}`}>
      <span className="tile-value">{value}</span>
      <span className="tile-label">{label}</span>
    </li>
  );
}
