/**
 * CORS with real preflights: the requests a browser sends (OPTIONS with Origin and
 * Access-Control-Request-*), then the actual cross-origin request, over node:http so that
 * Origin is sent as a browser sends it. CSRF prevention stays on alongside.
 */
import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from '../support/harness.js';
import { loadConfig } from '../../src/config.js';
import { corsSettingsFor, LOCALHOST_ORIGINS } from '../../src/http/cors.js';

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

function request(url: string, method: string, headers: Record<string, string>, body?: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, headers }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

const preflight = (url: string, origin: string, requestHeaders = 'authorization,content-type') =>
  request(url, 'OPTIONS', { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': requestHeaders });

const QUERY = JSON.stringify({ query: '{ jobSessions(first: 1) { totalCount } }' });

describe('CORS with CORS_ORIGINS', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ sim: { size: 10 }, env: { CORS_ORIGINS: 'https://monitor.example.com,http://localhost:3000', CORS_MAX_AGE_S: '900' } });
  });
  afterAll(() => h.close());

  it('answers a browser preflight from an allowed origin with 204 and the allow headers, cached for CORS_MAX_AGE_S', async () => {
    const answer = await preflight(h.gateway.url, 'https://monitor.example.com', 'authorization,content-type,x-endeavour-sessionid,apollo-require-preflight');
    expect(answer.status).toBe(204);
    expect(answer.headers['access-control-allow-origin']).toBe('https://monitor.example.com');
    expect(answer.headers['access-control-allow-credentials']).toBe('true');
    expect(answer.headers['access-control-allow-methods']).toBe('GET,POST,OPTIONS');
    const allowed = String(answer.headers['access-control-allow-headers']).toLowerCase().split(',');
    expect(allowed).toEqual(
      expect.arrayContaining([
        'authorization',
        'content-type',
        'x-endeavour-sessionid',
        'apollo-require-preflight',
        'apollographql-client-name',
        'apollographql-client-version',
      ]),
    );
    expect(answer.headers['access-control-max-age']).toBe('900');
    expect(answer.headers.vary).toMatch(/Origin/);
    expect(h.upstreamCalls()).toHaveLength(0);
  });

  it('lets the actual cross-origin POST through with the allow-origin header, and exposes X-Request-Id and the RateLimit fields', async () => {
    const answer = await request(h.gateway.url, 'POST', { origin: 'http://localhost:3000', 'content-type': 'application/json' }, QUERY);
    expect(answer.status).toBe(200);
    expect(answer.headers['access-control-allow-origin']).toBe('http://localhost:3000');
    expect(String(answer.headers['access-control-expose-headers'])).toBe('X-Request-Id,WWW-Authenticate,RateLimit,RateLimit-Policy,Retry-After');
    expect(JSON.parse(answer.body).data.jobSessions.totalCount).toBe(10);
  });

  it('gives an origin that is not listed no allow headers, so the browser blocks it', async () => {
    const answer = await preflight(h.gateway.url, 'https://evil.example.net');
    expect(answer.headers['access-control-allow-origin']).toBeUndefined();
    const actual = await request(h.gateway.url, 'POST', { origin: 'https://evil.example.net', 'content-type': 'application/json' }, QUERY);
    expect(actual.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('keeps CSRF prevention on: a simple (non-preflighted) cross-origin request is refused, whatever the origin', async () => {
    const get = await request(`${h.gateway.url}?query=${encodeURIComponent('{ jobSessions(first: 1) { totalCount } }')}`, 'GET', {
      origin: 'https://monitor.example.com',
    });
    expect(get.status).toBe(400);
    expect(get.body).toMatch(/CSRF/);
    const form = await request(h.gateway.url, 'POST', { origin: 'https://monitor.example.com', 'content-type': 'text/plain' }, QUERY);
    expect(form.status).toBe(400);
    // With the preflight header (which forces a browser preflight) the GET passes.
    const preflighted = await request(`${h.gateway.url}?query=${encodeURIComponent('{ jobSessions(first: 1) { totalCount } }')}`, 'GET', {
      origin: 'https://monitor.example.com',
      'apollo-require-preflight': 'true',
    });
    expect(preflighted.status).toBe(200);
    expect(preflighted.headers['access-control-allow-origin']).toBe('https://monitor.example.com');
  });
});

describe('CORS defaults', () => {
  it('is off (same-origin only) in production and in front of a real SPP: a preflight gets no allow headers', async () => {
    const h = await startHarness({ sim: { size: 5 }, env: { NODE_ENV: 'production' } });
    try {
      const answer = await preflight(h.gateway.url, 'http://localhost:3000');
      expect(answer.headers['access-control-allow-origin']).toBeUndefined();
    } finally {
      await h.close();
    }
  });

  it('allows localhost origins in front of the embedded simulator (development)', async () => {
    const h = await startHarness({ sim: { size: 5 }, embeddedSimulator: true });
    try {
      for (const origin of ['http://localhost:3000', 'http://127.0.0.1:5173']) {
        const answer = await preflight(h.gateway.url, origin);
        expect(answer.status).toBe(204);
        expect(answer.headers['access-control-allow-origin']).toBe(origin);
      }
      expect((await preflight(h.gateway.url, 'https://monitor.example.com')).headers['access-control-allow-origin']).toBeUndefined();
    } finally {
      await h.close();
    }
  });

  it('chooses the origins from the configuration', () => {
    const settings = (env: Record<string, string>, embedded: boolean) => {
      const config = loadConfig(env);
      return corsSettingsFor(config.env, embedded, config.production).origins;
    };
    expect(settings({}, true)).toEqual(LOCALHOST_ORIGINS);
    expect(settings({ NODE_ENV: 'production' }, true)).toEqual([]);
    expect(settings({}, false)).toEqual([]);
    expect(settings({ CORS_ORIGINS: 'https://a.example.com, https://b.example.com', NODE_ENV: 'production' }, false)).toEqual([
      'https://a.example.com',
      'https://b.example.com',
    ]);
  });

  it('allows "*" only without credentials, and refuses origins that are not scheme://host', () => {
    expect(() => loadConfig({ CORS_ORIGINS: '*' })).toThrow(/^Invalid CORS_ORIGINS \("\*"\): any origin cannot be combined with credentials/);
    expect(loadConfig({ CORS_ORIGINS: '*', CORS_CREDENTIALS: 'false' }).env.CORS_ORIGINS).toEqual(['*']);
    expect(() => loadConfig({ CORS_ORIGINS: 'https://monitor.example.com/app' })).toThrow(/^Invalid CORS_ORIGINS .*scheme and host, no path/);
  });
});
