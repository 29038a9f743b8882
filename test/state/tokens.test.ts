/**
 * createSession tokens are sealed with SESSION_SECRET: a gateway with the same secret opens
 * them (another replica, a restart); one with another secret refuses them clearly and says why.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CATALOG_OPERATOR, startHarness, type Harness } from '../support/harness.js';

const CREATE = `mutation { createSession(username: "${CATALOG_OPERATOR.username}", password: "${CATALOG_OPERATOR.password}") { token } }`;
const READ = '{ jobSessions(first: 2) { nodes { sessionId } } }';

describe('sealed createSession tokens', () => {
  let issuer: Harness;
  let other: Harness;
  beforeAll(async () => {
    issuer = await startHarness({ auth: { mode: 'pass-through' }, env: { SESSION_SECRET: 'the-first-gateway-session-secret-0123456789' } });
    other = await startHarness({ auth: { mode: 'pass-through' }, env: { SESSION_SECRET: 'another-gateway-session-secret-0123456789' } });
  });
  afterAll(async () => {
    await issuer?.close();
    await other?.close();
  });

  it('hides the SPP session id inside the token', async () => {
    const token: string = (await issuer.gql(CREATE)).body.data.createSession.token;
    // The simulator's session ids, like SPP's, are 32 hex digits.
    expect(token).not.toMatch(/[0-9a-f]{32}/i);
    expect((await issuer.gql(READ, undefined, { authorization: `Bearer ${token}` })).body.errors).toBeUndefined();
  });

  it('refuses, as UNAUTHENTICATED with a log line naming the cause, a token sealed with another SESSION_SECRET', async () => {
    const token: string = (await issuer.gql(CREATE)).body.data.createSession.token;
    const refused = await other.gql(READ, undefined, { authorization: `Bearer ${token}` });
    expect(refused.status).toBe(401);
    expect(refused.body).toEqual({
      data: null,
      errors: [
        expect.objectContaining({
          message: 'The bearer token is unknown or expired: log in again with createSession.',
          extensions: expect.objectContaining({ code: 'UNAUTHENTICATED' }),
        }),
      ],
    });
    expect(other.logs.some((line) => line.includes('sealed with another SESSION_SECRET'))).toBe(true);
  });

  it('refuses an altered token', async () => {
    const token: string = (await issuer.gql(CREATE)).body.data.createSession.token;
    const altered = token.slice(0, 10) + (token[10] === 'A' ? 'B' : 'A') + token.slice(11);
    const refused = await issuer.gql(READ, undefined, { authorization: `Bearer ${altered}` });
    expect(refused.status).toBe(401);
    expect(refused.body.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
  });
});
