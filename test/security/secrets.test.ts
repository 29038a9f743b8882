import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Writable } from 'node:stream';
import { GraphQLError } from 'graphql';
import { ADMIN, basic, startHarness, type Harness } from '../support/harness.js';
import { createErrorFormatter } from '../../src/graphql/error-masking.js';
import { createLogger } from '../../src/observability/logger.js';
import { badUserInput } from '../../src/errors.js';

describe('secrets in responses and logs', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ auth: { mode: 'pass-through' }, env: { LOG_LEVEL: 'debug' } });
  });
  afterAll(() => h.close());

  it('never writes passwords, Authorization values, tokens or SPP session ids to responses or logs', async () => {
    const secrets: string[] = [ADMIN.password, basic(ADMIN).authorization.split(' ')[1]!];
    const responses: unknown[] = [];
    // Basic: login, list, an upstream 500, a wrong password
    responses.push((await h.gql('{ jobSessions(first: 2) { nodes { sessionId } } }', undefined, basic(ADMIN))).body);
    h.sim.failNext({ kind: 'status', status: 500 });
    responses.push((await h.gql('{ jobSessions(first: 2) { nodes { sessionId } } }', undefined, basic(ADMIN))).body);
    responses.push(
      (await h.gql('{ jobSessions(first: 2) { nodes { sessionId } } }', undefined, basic({ username: 'admin', password: 'S3cret-wrong-pass' }))).body,
    );
    secrets.push('S3cret-wrong-pass');
    // a session id forwarded, then expired at SPP
    const login = (await (await fetch(`${h.sim.url}/api/endeavour/session`, { method: 'POST', headers: basic(ADMIN) })).json()) as { sessionid: string };
    secrets.push(login.sessionid);
    responses.push((await h.gql('{ jobSessions(first: 1) { totalCount } }', undefined, { 'x-endeavour-sessionid': login.sessionid })).body);
    h.sim.expireLoginSessions();
    responses.push((await h.gql('{ jobSessions(first: 1) { totalCount } }', undefined, { 'x-endeavour-sessionid': login.sessionid })).body);
    // a gateway token: created, used, refused after logout
    const created = await h.gql('mutation { createSession(username: "admin", password: "admin-password") { token } }');
    const token: string = created.body.data.createSession.token;
    responses.push((await h.gql('{ jobSessions(first: 1) { totalCount } }', undefined, { authorization: `Bearer ${token}` })).body);
    await h.gql('mutation { deleteSession }', undefined, { authorization: `Bearer ${token}` });
    responses.push((await h.gql('{ jobSessions(first: 1) { totalCount } }', undefined, { authorization: `Bearer ${token}` })).body);
    // every session id SPP handed out to the gateway
    const sppSessions = h.sim.requests.filter((r) => r.path === '/api/endeavour/session' && r.method === 'POST' && r.status === 200);
    expect(sppSessions.length).toBeGreaterThanOrEqual(3);

    const logText = h.logs.join('\n');
    expect(logText).toMatch(/SPP request failed/);
    const responseText = JSON.stringify(responses);
    for (const secret of [...secrets, token]) {
      expect(logText).not.toContain(secret);
      expect(responseText).not.toContain(secret);
    }
    expect(logText).not.toMatch(/"authorization"\s*:\s*"(Basic|Bearer) /i);
  });

  it('redacts secret-named fields wherever a log call puts them', () => {
    const lines: string[] = [];
    const logger = createLogger('info', new Writable({ write: (chunk, _e, done) => (lines.push(String(chunk)), done()) }));
    logger.info(
      { password: 'p1', user: { password: 'p2', sessionid: 's1' }, headers: { authorization: 'Basic abc', 'x-endeavour-sessionid': 's2' }, token: 't1' },
      'test',
    );
    const text = lines.join('');
    for (const secret of ['p1', 'p2', 's1', 's2', 'Basic abc', 't1']) expect(text).not.toContain(secret);
    expect(text).toContain('[redacted]');
  });
});

describe('error masking', () => {
  const lines: string[] = [];
  const logger = createLogger('info', new Writable({ write: (chunk, _e, done) => (lines.push(String(chunk)), done()) }));
  const format = createErrorFormatter(logger);

  it('turns an unexpected error into INTERNAL_SERVER_ERROR with no detail, and logs the original', () => {
    const original = new Error('connect to 10.0.0.5 as root failed: password=hunter2');
    const wrapped = new GraphQLError(original.message, { path: ['jobSessions'], originalError: original });
    expect(format({ message: original.message, path: ['jobSessions'], extensions: { code: 'INTERNAL_SERVER_ERROR', stacktrace: ['at x'] } }, wrapped)).toEqual({
      message: 'Internal server error',
      path: ['jobSessions'],
      extensions: { code: 'INTERNAL_SERVER_ERROR' },
    });
    expect(lines.join('')).toContain('hunter2'.replace('hunter2', 'connect to 10.0.0.5'));
  });

  it('lets deliberate errors through with their code', () => {
    const deliberate = badUserInput('Argument "first" must be at most 1000, got 5000.', 'first');
    const wrapped = new GraphQLError(deliberate.message, { path: ['jobSessions'], originalError: deliberate });
    expect(format({ message: deliberate.message, path: ['jobSessions'], extensions: { code: 'BAD_USER_INPUT', argumentName: 'first' } }, wrapped)).toEqual({
      message: 'Argument "first" must be at most 1000, got 5000.',
      path: ['jobSessions'],
      extensions: { code: 'BAD_USER_INPUT', argumentName: 'first' },
    });
  });
});
