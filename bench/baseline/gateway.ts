/**
 * The benchmark's floor of this stack: a minimal GraphQL gateway over SPP's job sessions with
 * Apollo Server 5 and got, as a team would write it in an afternoon, and no extras: no
 * single flight, no sharing of identical requests, no DataLoader, no limits, no cursor
 * signing, no learning of SPP's page cap. It reads a window in SPP's default page of 100
 * records, in parallel (as generic REST-to-GraphQL gateways page an offset API), with
 * Apollo's default document cache.
 *
 * It serves the subset of the gateway's schema that the benchmark asks, with the same names
 * and output formats (DateTime as ISO-8601, status as the enum), so both answer the same
 * queries with the same JSON. `GET /upstream-requests` says how many SPP requests it sent.
 *
 *   SPP_URL=http://127.0.0.1:8090 PORT=0 node --import tsx bench/baseline/gateway.ts
 */
import { ApolloServer } from '@apollo/server';
import { startStandaloneServer } from '@apollo/server/standalone';
import { GraphQLScalarType, Kind } from 'graphql';
import got from 'got';
import http from 'node:http';

const SPP_URL = process.env.SPP_URL ?? 'http://127.0.0.1:8090';
const PAGE = 100;
let upstreamRequests = 0;

const typeDefs = `#graphql
  scalar DateTime
  enum JobSessionStatus { RUNNING PENDING HELD WAITING PAUSING PAUSED STOPPING STOPPED CANCELING CANCELED SUSPENDING SUSPENDED FAILED PARTIAL COMPLETED ABORTED UNKNOWN }
  type JobSession { id: ID! sessionId: String! jobName: String status: JobSessionStatus! start: DateTime end: DateTime duration: Float }
  type JobSessionEdge { cursor: String! node: JobSession! }
  type PageInfo { hasNextPage: Boolean! hasPreviousPage: Boolean! startCursor: String endCursor: String }
  type JobSessionConnection { edges: [JobSessionEdge!]! nodes: [JobSession!]! pageInfo: PageInfo! totalCount: Int }
  input DateTimeFilter { gt: DateTime gte: DateTime lt: DateTime lte: DateTime }
  input JobSessionFilter { status: [JobSessionStatus!] start: DateTimeFilter }
  type Query { jobSessions(first: Int, after: String, filter: JobSessionFilter): JobSessionConnection! }
`;

type Session = { id: string; jobName?: string; status?: string; start?: number; end?: number | null; duration?: number | null };
type Filter = { status?: string[] | null; start?: { gt?: number; gte?: number; lt?: number; lte?: number } | null };

const spp = got.extend({ prefixUrl: `${SPP_URL}/api`, agent: { http: new http.Agent({ keepAlive: true, maxSockets: 32 }) } });
const login = spp
  .post('endeavour/session', { headers: { authorization: `Basic ${Buffer.from('admin:admin-password').toString('base64')}` } })
  .json<{ sessionid: string }>()
  .then((b) => b.sessionid);

function sppFilter(filter: Filter | null | undefined) {
  const out: Array<{ property: string; value: unknown; op: string }> = [];
  if (filter?.status) out.push({ property: 'status', value: filter.status, op: 'IN' });
  const ops = { gt: '>', gte: '>=', lt: '<', lte: '<=' } as const;
  for (const [k, op] of Object.entries(ops)) {
    const v = filter?.start?.[k as keyof typeof ops];
    if (v !== undefined && v !== null) out.push({ property: 'start', value: v, op });
  }
  return out;
}

async function page(start: number, size: number, filter: unknown[]): Promise<Session[]> {
  upstreamRequests++;
  const searchParams: Record<string, string> = {
    pageStartIndex: String(start),
    pageSize: String(size),
    sort: JSON.stringify([
      { property: 'start', direction: 'DESC' },
      { property: 'id', direction: 'DESC' },
    ]),
  };
  if (filter.length > 0) searchParams.filter = JSON.stringify(filter);
  const body = await spp.get('endeavour/jobsession', { searchParams, headers: { 'x-endeavour-sessionid': await login } }).json<{ sessions: Session[] }>();
  return body.sessions.slice(0, size);
}

const DateTime = new GraphQLScalarType({
  name: 'DateTime',
  serialize: (v) => new Date(v as number).toISOString(),
  parseValue: (v) => (typeof v === 'string' ? Date.parse(v) : (v as number)),
  parseLiteral: (ast) => (ast.kind === Kind.INT ? Number(ast.value) : ast.kind === Kind.STRING ? Date.parse(ast.value) : null),
});
const STATUSES = new Set([
  'RUNNING',
  'PENDING',
  'HELD',
  'WAITING',
  'PAUSING',
  'PAUSED',
  'STOPPING',
  'STOPPED',
  'CANCELING',
  'CANCELED',
  'SUSPENDING',
  'SUSPENDED',
  'FAILED',
  'PARTIAL',
  'COMPLETED',
  'ABORTED',
]);
const cursorOf = (offset: number) => Buffer.from(`offset:${offset}`).toString('base64');

const resolvers = {
  DateTime,
  Query: {
    async jobSessions(_: unknown, args: { first?: number | null; after?: string | null; filter?: Filter | null }) {
      const first = args.first ?? 50;
      const offset = args.after ? Number(Buffer.from(args.after, 'base64').toString().slice(7)) + 1 : 0;
      const filter = sppFilter(args.filter);
      const chunks: Array<Promise<Session[]>> = [];
      for (let at = offset; at < offset + first + 1; at += PAGE) chunks.push(page(at, Math.min(PAGE, offset + first + 1 - at), filter));
      const records = (await Promise.all(chunks)).flat();
      const edges = records.slice(0, first).map((node, i) => ({ cursor: cursorOf(offset + i), node }));
      return {
        edges,
        nodes: edges.map((e) => e.node),
        pageInfo: {
          hasNextPage: records.length > first,
          hasPreviousPage: offset > 0,
          startCursor: edges[0]?.cursor ?? null,
          endCursor: edges.at(-1)?.cursor ?? null,
        },
        totalCount: null,
      };
    },
  },
  JobSession: {
    id: (s: Session) => Buffer.from(`JobSession:${s.id}`).toString('base64'),
    sessionId: (s: Session) => String(s.id),
    status: (s: Session) => (s.status === 'CANCELLED' ? 'CANCELED' : STATUSES.has(s.status ?? '') ? s.status : 'UNKNOWN'),
  },
};

const server = new ApolloServer({ typeDefs, resolvers });
const { url } = await startStandaloneServer(server, {
  listen: { port: Number(process.env.PORT ?? 4100), host: process.env.HOST ?? '127.0.0.1' },
});
// The standalone server answers every path with GraphQL; the counter is a second, tiny server.
const counter = http.createServer((_req, res) => res.end(JSON.stringify({ upstreamRequests })));
await new Promise<void>((resolve) => counter.listen(0, '127.0.0.1', resolve));
process.stdout.write(
  `Baseline ready at ${url.replace('localhost', '127.0.0.1').replace(/\/$/, '')}/graphql counter http://127.0.0.1:${(counter.address() as { port: number }).port}\n`,
);
process.on('SIGTERM', () => void server.stop().then(() => process.exit(0)));
