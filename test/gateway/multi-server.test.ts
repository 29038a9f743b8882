/**
 * Several SPP servers in one graph (issue 21), over real HTTP: three in-process simulators
 * with different data, one gateway in pass-through mode (the caller's credentials go to every
 * server).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Writable } from 'node:stream';
import { loadConfig } from '../../src/config.js';
import { createGateway, type Gateway } from '../../src/gateway.js';
import { createLogger } from '../../src/observability/logger.js';
import { toGlobalId } from '../../src/resolvers/global-id.js';
import { startSimulator, type Simulator, type SimulatorOptions } from '../../src/simulator/index.js';
import { ADMIN, NOW, basic, startHarness, withoutCost } from '../support/harness.js';

const NAMES = ['athens', 'berlin', 'cairo'] as const;
const SIMS: Record<(typeof NAMES)[number], SimulatorOptions> = {
  athens: { seed: 1, size: 70, now: NOW },
  berlin: { seed: 2, size: 45, now: NOW },
  cairo: { seed: 3, size: 55, now: NOW },
};

const PAGE = `query Page($first: Int, $after: String, $servers: [String!]) {
  jobSessions(first: $first, after: $after, servers: $servers) {
    totalCount
    edges { cursor node { id sessionId start status server { name } } }
    pageInfo { hasNextPage endCursor }
  }
}`;

type Key = `${string}/${string}`;

let sims: Map<string, Simulator>;
let gateway: Gateway;
const logs: string[] = [];

async function gql(query: string, variables: Record<string, unknown> = {}) {
  const response = await fetch(gateway.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...basic(ADMIN) },
    body: JSON.stringify({ query, variables }),
  });
  return { status: response.status, body: withoutCost(await response.json()) as any };
}

/** What the merged list must be: start descending, then server name and session id descending (the id follows the last key's direction). */
function expectedOrder(): Key[] {
  const all = [...sims].flatMap(([server, sim]) => sim.list().map((s) => ({ server, id: s.id, start: s.start })));
  all.sort((a, b) => b.start - a.start || (a.server < b.server ? 1 : a.server > b.server ? -1 : 0) || Number(BigInt(b.id) - BigInt(a.id)));
  return all.map((s): Key => `${s.server}/${s.id}`);
}

const keyOf = (edge: any): Key => `${edge.node.server.name}/${edge.node.sessionId}`;

beforeAll(async () => {
  sims = new Map();
  for (const name of NAMES) sims.set(name, await startSimulator(SIMS[name]));
  const { env } = loadConfig({ PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'info', CURSOR_SECRET: 'integration-test-cursor-secret', SPP_RETRY_LIMIT: '0' });
  const sink = new Writable({
    write(chunk, _encoding, done) {
      logs.push(String(chunk));
      done();
    },
  });
  gateway = await createGateway({
    env,
    sppUrl: sims.get('athens')!.url,
    servers: NAMES.map((name) => ({ name, url: sims.get(name)!.url })),
    auth: { mode: 'pass-through' },
    logger: createLogger(env.LOG_LEVEL, sink),
  });
});

afterAll(async () => {
  await gateway?.stop();
  for (const sim of sims?.values() ?? []) await sim.close();
});

describe('several SPP servers in one graph', () => {
  it('lists the servers with their host, version and status', async () => {
    const { body } = await gql('{ sppServers { name url version status } }');
    expect(body).toEqual({
      data: {
        sppServers: NAMES.map((name) => ({ name, url: new URL(sims.get(name)!.url).host, version: expect.any(String), status: 'UP' })),
      },
    });
  });

  it('pages three servers as one list in the merged order, with the exact total, one upstream request per server per page', async () => {
    const want = expectedOrder();
    const seen: Key[] = [];
    let after: string | null = null;
    for (let page = 0; page < 20; page++) {
      for (const sim of sims.values()) sim.clearRequests();
      const { body } = await gql(PAGE, { first: 25, after });
      expect(body.errors).toBeUndefined();
      const connection = body.data.jobSessions;
      if (page < 2) {
        // totalCount reads one record per server: counted apart from the page's reads.
        const reads = [...sims.values()].map((sim) => sim.requests.filter((r) => r.path === '/api/endeavour/jobsession' && r.query.pageSize !== '1').length);
        expect(reads).toEqual([1, 1, 1]);
      }
      expect(connection.totalCount).toBe(70 + 45 + 55);
      seen.push(...connection.edges.map(keyOf));
      if (!connection.pageInfo.hasNextPage) break;
      after = connection.pageInfo.endCursor;
    }
    expect(seen).toEqual(want);
  });

  it('reads only the servers named in `servers`, and refuses a name it does not know', async () => {
    const { body } = await gql(PAGE, { first: 100, servers: ['berlin'] });
    expect(body.data.jobSessions.totalCount).toBe(45);
    expect(new Set(body.data.jobSessions.edges.map((e: any) => e.node.server.name))).toEqual(new Set(['berlin']));
    const unknown = await gql(PAGE, { first: 5, servers: ['zurich'] });
    expect(unknown.body.errors[0]).toMatchObject({ extensions: { code: 'BAD_USER_INPUT' } });
    expect(unknown.body.errors[0].message).toContain('"zurich"');
  });

  it('sends an action on a session of server B to server B only, and the answer names B', async () => {
    const running = sims
      .get('berlin')!
      .list()
      .find((s) => s.status === 'RUNNING')!;
    for (const sim of sims.values()) sim.clearRequests();
    const { body } = await gql(
      `mutation Cancel($input: CancelJobSessionInput!) { cancelJobSession(input: $input) { jobSession { id sessionId status server { name } } } }`,
      { input: { id: toGlobalId('JobSession', running.id, 'berlin') } },
    );
    expect(body.errors).toBeUndefined();
    expect(body.data.cancelJobSession.jobSession).toEqual({
      id: toGlobalId('JobSession', running.id, 'berlin'),
      sessionId: running.id,
      status: 'CANCELING',
      server: { name: 'berlin' },
    });
    const posts = [...sims].map(([name, sim]) => [
      name,
      sim.requests.filter((r) => r.method === 'POST' && r.path.startsWith('/api/endeavour/jobsession')).length,
    ]);
    expect(posts).toEqual([
      ['athens', 0],
      ['berlin', 1],
      ['cairo', 0],
    ]);
    expect(logs.some((line) => line.includes('"audit"') && line.includes('"server":"berlin"'))).toBe(true);
  });

  it('finds an object by a global id on its own server, and refuses a global id of a server it does not know', async () => {
    const session = sims.get('cairo')!.list()[3]!;
    const found = await gql('query($id: ID!) { node(id: $id) { ... on JobSession { sessionId server { name } } } }', {
      id: toGlobalId('JobSession', session.id, 'cairo'),
    });
    expect(found.body).toEqual({ data: { node: { sessionId: session.id, server: { name: 'cairo' } } } });
    const refused = await gql('query($id: ID!) { jobSession(id: $id) { sessionId } }', { id: toGlobalId('JobSession', session.id, 'zurich') });
    expect(refused.body.errors[0]).toMatchObject({ extensions: { code: 'BAD_USER_INPUT' } });
    expect(refused.body.errors[0].message).toContain('"zurich"');
  });

  it('returns the others’ records with an error naming a stopped server, then its records once it answers: nobody skipped or repeated', async () => {
    const want = expectedOrder();
    const seen: Key[] = [];
    const first = await gql(PAGE, { first: 20 });
    seen.push(...first.body.data.jobSessions.edges.map(keyOf));
    const berlin = sims.get('berlin')!;
    const port = berlin.port;
    await berlin.close();
    const partial = await gql(PAGE, { first: 20, after: first.body.data.jobSessions.pageInfo.endCursor });
    expect(partial.status).toBe(200);
    const during = partial.body.data.jobSessions;
    // The page's error names the server; totalCount is null with the reason (no sum without berlin's total).
    expect(partial.body.errors).toEqual([
      expect.objectContaining({ path: ['jobSessions', 'totalCount'], extensions: expect.objectContaining({ code: 'UPSTREAM_ERROR' }) }),
      expect.objectContaining({ path: ['jobSessions'], extensions: expect.objectContaining({ code: 'UPSTREAM_UNAVAILABLE', server: 'berlin' }) }),
    ]);
    expect(partial.body.errors[0].message).toContain('berlin did not answer');
    expect(during.totalCount).toBeNull();
    expect(during.edges.length).toBe(20);
    expect(during.edges.every((e: any) => e.node.server.name !== 'berlin')).toBe(true);
    expect(during.pageInfo.hasNextPage).toBe(true);
    seen.push(...during.edges.map(keyOf));
    const servers = await gql('{ sppServers { name status } }');
    expect(servers.body.data.sppServers.find((s: any) => s.name === 'berlin').status).toBe('DOWN');
    // The same server comes back (same data, same port).
    sims.set('berlin', await startSimulator({ ...SIMS.berlin, port }));
    let after = during.pageInfo.endCursor;
    for (let page = 0; page < 20; page++) {
      const { body } = await gql(PAGE, { first: 20, after });
      expect(body.errors).toBeUndefined();
      seen.push(...body.data.jobSessions.edges.map(keyOf));
      if (!body.data.jobSessions.pageInfo.hasNextPage) break;
      after = body.data.jobSessions.pageInfo.endCursor;
    }
    expect(new Set(seen).size).toBe(seen.length);
    expect([...seen].sort()).toEqual([...want].sort());
    // Each server's own records arrive in the merged order.
    for (const name of NAMES) expect(seen.filter((k) => k.startsWith(`${name}/`))).toEqual(want.filter((k) => k.startsWith(`${name}/`)));
  });
});

describe('a one-server gateway', () => {
  it('refuses a global id that names a server it does not know, and keeps ids without a server as they were', async () => {
    const h = await startHarness({ sim: { size: 20 } });
    try {
      const session = h.sim.list()[0]!;
      const refused = await h.gql('query($id: ID!) { node(id: $id) { id } }', { id: toGlobalId('JobSession', session.id, 'athens') });
      expect(refused.body.errors?.[0]).toMatchObject({ extensions: { code: 'BAD_USER_INPUT' } });
      expect(refused.body.errors?.[0]?.message).toContain('"athens"');
      const plain = await h.gql('query($id: ID!) { node(id: $id) { id ... on JobSession { server { name } } } }', { id: toGlobalId('JobSession', session.id) });
      expect(plain.body).toEqual({ data: { node: { id: toGlobalId('JobSession', session.id), server: { name: 'default' } } } });
    } finally {
      await h.close();
    }
  });
});
