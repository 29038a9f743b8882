import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { claimValues, parseRoleMap, rolesOf } from '../../src/identity/oidc.js';
import { ADMIN, startHarness, type Harness } from '../support/harness.js';
import { AUDIENCE, GATEWAY_CLIENT, signingKey, startProvider, type TestProvider } from '../support/oidc.js';

const SESSIONS = '{ jobSessions(first: 20) { nodes { id availableActions } } }';
const CANCEL = `mutation Cancel($input: CancelJobSessionInput!) { cancelJobSession(input: $input) { jobSession { id status } } }`;
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
const auditLines = (h: Harness) =>
  h.logs
    .map((l) => JSON.parse(l))
    .filter((l) => l.audit)
    .map((l) => l.audit);

/** A token's parts, to forge variants of a real one. */
const parts = (token: string) => token.split('.');
const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
const decode = (part: string) => JSON.parse(Buffer.from(part, 'base64url').toString('utf8')) as Record<string, unknown>;

describe('OIDC bearer JWTs against a real OpenID provider (oidc-provider on loopback)', () => {
  let provider: TestProvider;
  let impostor: TestProvider;
  let h: Harness;
  beforeAll(async () => {
    const key = await signingKey('key-1');
    provider = await startProvider({ keys: [key] });
    // Another issuer with the very same signing key: only the `iss` check can tell its tokens apart.
    impostor = await startProvider({ keys: [key] });
    h = await startHarness({
      sim: { size: 300 },
      env: {
        OIDC_ISSUER: provider.issuer,
        OIDC_CLIENT_ID: GATEWAY_CLIENT.id,
        OIDC_AUDIENCE: AUDIENCE,
        OIDC_ROLES_CLAIM: 'realm_access.roles',
        ROLE_MAP: 'spp-operators=operator,spp-viewers=viewer',
        OIDC_CLOCK_SKEW_S: '0',
        OIDC_JWKS_COOLDOWN_MS: '0',
      },
      auth: { mode: 'service-account', serviceAccount: ADMIN, tokens: [], allowAnonymous: false },
    });
  });
  afterAll(async () => {
    await h?.close();
    await provider?.close();
    await impostor?.close();
  });

  it('accepts a good token: a viewer service reads and sees no actions, its consumer named oidc:<client>', async () => {
    const token = await provider.serviceToken('report-service');
    const { status, body } = await h.gql(SESSIONS, {}, bearer(token));
    expect(status).toBe(200);
    const nodes = (body.data as { jobSessions: { nodes: Array<{ availableActions: string[] }> } }).jobSessions.nodes;
    expect(nodes.length).toBeGreaterThan(0);
    expect(nodes.flatMap((n) => n.availableActions)).toEqual([]);
    const target = h.sim.list({ user: 'admin' }).find((s) => s.links?.cancel !== undefined)!;
    const refused = await h.gql(CANCEL, { input: { id: target.id } }, bearer(token));
    expect(refused.body.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect(auditLines(h).at(-1)).toMatchObject({ actor: 'report-service', role: 'viewer', consumer: 'oidc:report-service', outcome: 'refused' });
  });

  it('admits a token it has never seen to a multipart subscription and to an event stream (verified before the stream opens)', async () => {
    for (const accept of ['multipart/mixed;subscriptionSpec="1.0", application/json', 'text/event-stream']) {
      const token = await provider.serviceToken('report-service');
      const aborted = new AbortController();
      const response = await fetch(h.gateway.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept, ...bearer(token) },
        body: JSON.stringify({ query: 'subscription { jobSessionEvents { kind sessionId } }' }),
        signal: aborted.signal,
      });
      expect({ status: response.status, type: response.headers.get('content-type')?.split(';')[0] }).toEqual({ status: 200, type: accept.split(';')[0] });
      aborted.abort();
      await response.body?.cancel().catch(() => undefined);
    }
  });

  it('an operator role from the realm_access.roles claim (ROLE_MAP) lets a service cancel as the service account', async () => {
    const token = await provider.serviceToken('ops-service');
    const target = h.sim.list({ user: 'admin' }).find((s) => s.links?.cancel !== undefined)!;
    const { body } = await h.gql(CANCEL, { input: { id: target.id } }, bearer(token));
    expect(body.errors).toBeUndefined();
    expect(auditLines(h).at(-1)).toMatchObject({ actor: 'ops-service', role: 'operator', consumer: 'oidc:ops-service', outcome: 'ok' });
  });

  it('refuses a token whose claim maps to no role with 403 naming the claim', async () => {
    const token = await provider.serviceToken('no-role-service');
    const { status, body } = await h.gql(SESSIONS, {}, bearer(token));
    expect(status).toBe(403);
    expect(body.errors?.[0]).toMatchObject({
      message: 'The token of "no-role-service" grants no role on this gateway: its realm_access.roles claim holds none of spp-operators, spp-viewers.',
      extensions: { code: 'FORBIDDEN' },
    });
  });

  const refusedWith = async (token: string, reason: string) => {
    const { status, body } = await h.gql(SESSIONS, {}, bearer(token));
    expect({ status, error: body.errors?.[0]?.message, code: body.errors?.[0]?.extensions?.code }).toEqual({
      status: 401,
      error: `The bearer token is not valid for this gateway: ${reason}.`,
      code: 'UNAUTHENTICATED',
    });
  };

  it('refuses a token for another audience', async () => {
    await refusedWith(await provider.serviceToken('ops-service', { resource: 'urn:another-api' }), 'it is meant for another audience');
  });

  it('refuses a token from another issuer, even one signed with a key the gateway trusts', async () => {
    await refusedWith(await impostor.serviceToken('ops-service'), 'it was issued by another issuer');
  });

  it('refuses alg "none" and a tampered token', async () => {
    const [header, payload, signature] = parts(await provider.serviceToken('report-service'));
    await refusedWith(`${b64({ ...decode(header!), alg: 'none' })}.${payload}.`, 'its signing algorithm is not accepted');
    const claims = decode(payload!);
    const promoted = b64({ ...claims, realm_access: { roles: ['spp-operators'] } });
    await refusedWith(`${header}.${promoted}.${signature}`, 'its signature does not verify');
  });

  it('refuses an expired token', async () => {
    provider.setTokenTtl(1);
    try {
      const token = await provider.serviceToken('report-service');
      const exp = decode(parts(token)[1]!).exp as number;
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, exp * 1000 - Date.now()) + 1_100));
      await refusedWith(token, 'it has expired');
    } finally {
      provider.setTokenTtl(600);
    }
  });

  it('accepts a token signed with a key rotated in at the provider, without a restart', async () => {
    const before = await provider.serviceToken('report-service');
    expect((await h.gql(SESSIONS, {}, bearer(before))).status).toBe(200);
    provider.rotate([await signingKey('key-2'), await signingKey('key-1-retired')]);
    const after = await provider.serviceToken('report-service');
    expect(decode(parts(after)[0]!).kid).toBe('key-2');
    expect((await h.gql(SESSIONS, {}, bearer(after))).status).toBe(200);
  });
});

describe('roles from claims', () => {
  const keycloak = { sub: 'u1', realm_access: { roles: ['offline_access', 'spp-operators'] }, groups: 'spp-viewers other', scope: 'a b' };
  it('reads a dotted path, arrays and space-separated text', () => {
    expect(claimValues(keycloak, 'realm_access.roles')).toEqual(['offline_access', 'spp-operators']);
    expect(claimValues(keycloak, 'groups')).toEqual(['spp-viewers', 'other']);
    expect(claimValues(keycloak, 'missing.path')).toEqual([]);
  });
  it('maps values through ROLE_MAP, operator including viewer; without a map only the role names themselves count', () => {
    const map = parseRoleMap('spp-operators=operator, spp-viewers=viewer');
    expect(rolesOf(keycloak, 'realm_access.roles', map)).toEqual(['viewer', 'operator']);
    expect(rolesOf(keycloak, 'groups', map)).toEqual(['viewer']);
    expect(rolesOf({ roles: ['viewer'] }, 'roles', new Map())).toEqual(['viewer']);
    expect(rolesOf(keycloak, 'realm_access.roles', new Map())).toEqual([]);
  });
});
