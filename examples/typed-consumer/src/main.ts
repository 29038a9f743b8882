/**
 * The typed consumer: the newest failed sessions and the job each belongs to, then one session
 * in detail. Every name and type here is checked against the gateway's schema by the compiler
 * (`tsc -p examples/typed-consumer`), because the documents are typed by graphql-codegen.
 *
 *   node --import tsx examples/typed-consumer/src/main.ts http://localhost:4000/graphql
 */
import { graphql } from './gql/index.js';
import type { JobSessionStatus } from './gql/graphql.js';
import { createClient, type Client } from './client.js';

export const RecentSessions = graphql(`
  query RecentSessions($first: Int!, $status: [JobSessionStatus!]) {
    jobSessions(first: $first, filter: { status: $status }) {
      totalCount
      nodes {
        id
        sessionId
        jobName
        status
        start
        duration
      }
    }
  }
`);

export const SessionDetail = graphql(`
  query SessionDetail($id: ID!) {
    jobSession(id: $id) {
      sessionId
      status
      end
      statistics {
        resourceType
        total
        failed
      }
    }
  }
`);

export interface SessionLine {
  sessionId: string;
  jobName: string;
  status: JobSessionStatus;
  seconds: number | null;
}

/** The newest sessions in the given states, as lines a report prints. */
export async function recentSessions(client: Client, status: JobSessionStatus[], first = 5): Promise<{ total: number | null; lines: SessionLine[] }> {
  const data = await client.query(RecentSessions, { first, status });
  return {
    total: data.jobSessions.totalCount ?? null,
    lines: data.jobSessions.nodes.map((node) => ({
      sessionId: node.sessionId,
      jobName: node.jobName,
      status: node.status,
      seconds: node.duration === null || node.duration === undefined ? null : Math.round(node.duration / 1000),
    })),
  };
}

/** How many resources of a session failed, by type (null: no such session). */
export async function failuresOf(client: Client, sessionId: string): Promise<Record<string, number> | null> {
  const data = await client.query(SessionDetail, { id: sessionId });
  if (!data.jobSession) return null;
  return Object.fromEntries(data.jobSession.statistics.map((statistic) => [statistic.resourceType, statistic.failed]));
}

async function main(endpoint: string): Promise<void> {
  const client = createClient({ endpoint, ...(process.env.GATEWAY_AUTHORIZATION ? { authorization: process.env.GATEWAY_AUTHORIZATION } : {}) });
  const { total, lines } = await recentSessions(client, ['FAILED', 'PARTIAL']);
  console.log(`${total ?? '?'} failed or partial sessions; the newest:`);
  for (const line of lines) console.log(`  ${line.sessionId}  ${line.status.padEnd(8)} ${line.jobName} (${line.seconds ?? '?'} s)`);
  if (lines[0]) console.log(`failed resources of ${lines[0].sessionId}:`, await failuresOf(client, lines[0].sessionId));
}

if (process.argv[1] && new URL(import.meta.url).pathname === process.argv[1]) await main(process.argv[2] ?? 'http://localhost:4000/graphql');
