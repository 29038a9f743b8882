/**
 * The offline explorer: the page and every asset it references come from the gateway itself,
 * and nothing points to another host (SPP often runs on isolated networks).
 */
import { gunzipSync } from 'node:zlib';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from '../support/harness.js';

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ sim: { size: 5 } });
});
afterAll(() => h.close());

/** Every URL an HTML page or a stylesheet makes a browser load. */
function referencedUrls(text: string): string[] {
  const html = [...text.matchAll(/<(?:script|link|img|iframe|source)\b[^>]*?\b(?:src|href)\s*=\s*"([^"]+)"/gi)].map((m) => m[1]!);
  const css = [...text.matchAll(/url\(\s*['"]?([^'")]+)['"]?\s*\)/gi)].map((m) => m[1]!).filter((u) => !u.startsWith('data:'));
  const imports = [...text.matchAll(/@import\s+['"]([^'"]+)['"]/gi)].map((m) => m[1]!);
  return [...html, ...css, ...imports];
}

describe('the offline explorer (GraphiQL)', () => {
  it('serves the page at the GraphQL URL to a browser, with a policy that allows no other host', async () => {
    const response = await fetch(h.gateway.url, { headers: { accept: 'text/html,application/xhtml+xml' } });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/html; charset=utf-8');
    const csp = response.headers.get('content-security-policy') ?? '';
    expect(csp).toMatch(/default-src 'self'/);
    expect(csp).toMatch(/connect-src 'self'/);
    expect(csp).not.toMatch(/https?:|\*/);
    const html = await response.text();
    expect(html).toMatch(/<div id="graphiql" data-endpoint="graphql">/);
  });

  it('references only assets the gateway serves itself, and each of them is served', async () => {
    const pageUrl = new URL(h.gateway.url);
    const html = await (await fetch(pageUrl, { headers: { accept: 'text/html' } })).text();
    const assets = referencedUrls(html);
    expect(assets.length).toBeGreaterThanOrEqual(5);
    const seen = new Set<string>();
    const queue = assets.map((a) => new URL(a, pageUrl));
    while (queue.length > 0) {
      const url = queue.shift()!;
      if (seen.has(url.href)) continue;
      seen.add(url.href);
      expect(url.host, `${url.href} is on the gateway's host`).toBe(pageUrl.host);
      const response = await fetch(url);
      expect(response.status, url.pathname).toBe(200);
      const type = response.headers.get('content-type') ?? '';
      expect(type, url.pathname).toMatch(/^(text\/css|text\/javascript)/);
      const text = await response.text();
      expect(text.length, url.pathname).toBeGreaterThan(100);
      // Stylesheets may pull in more (fonts, imports): those must be local too (GraphiQL inlines its fonts).
      if (type.startsWith('text/css')) queue.push(...referencedUrls(text).map((u) => new URL(u, url)));
    }
    expect([...seen].map((u) => new URL(u).pathname).sort()).toEqual([
      '/explorer/graphiql.min.css',
      '/explorer/graphiql.min.js',
      '/explorer/graphql-ws.min.js',
      '/explorer/init.js',
      '/explorer/react-dom.production.min.js',
      '/explorer/react.production.min.js',
    ]);
    // The bundles are the installed packages' own files, byte for byte.
    const require = createRequire(import.meta.url);
    const installed = readFileSync(require.resolve('graphiql/graphiql.min.js'), 'utf8');
    expect(await (await fetch(new URL('/explorer/graphiql.min.js', pageUrl))).text()).toBe(installed);
  });

  it("starts GraphiQL against this gateway with GraphiQL's own fetcher and no CDN", async () => {
    const init = await (await fetch(new URL('/explorer/init.js', h.gateway.url))).text();
    expect(init).toMatch(/var url = new URL\(root\.dataset\.endpoint, window\.location\.href\);/);
    expect(init).toMatch(/GraphiQL\.createFetcher\(\{ url: url\.href \}\)/);
    // Subscriptions: graphql-ws (the bundle the gateway serves) to the same origin, ws: for http:.
    expect(init).toMatch(/var wsUrl = url\.href\.replace\(\/\^http\/, 'ws'\);/);
    expect(init).toMatch(/graphqlWs\.createClient\(\{ url: wsUrl,/);
    expect(init).not.toMatch(/https?:\/\//);
  });

  it('compresses the large bundles for browsers that accept gzip', async () => {
    const url = new URL('/explorer/graphiql.min.js', h.gateway.url);
    const { request } = await import('node:http');
    const { status, encoding, body } = await new Promise<{ status: number; encoding: string | undefined; body: Buffer }>((resolve, reject) => {
      request(url, { headers: { 'accept-encoding': 'gzip' } }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, encoding: res.headers['content-encoding'], body: Buffer.concat(chunks) }));
      })
        .on('error', reject)
        .end();
    });
    expect(status).toBe(200);
    expect(encoding).toBe('gzip');
    const plain = gunzipSync(body);
    expect(plain.length).toBeGreaterThan(body.length * 2);
    expect(plain.toString('utf8', 0, 200)).toMatch(/\S/);
  });

  it('answers 404 for anything else under /explorer/', async () => {
    for (const path of ['/explorer/../package.json', '/explorer/%2e%2e/package.json', '/explorer/graphiql.js', '/explorer/']) {
      expect((await fetch(new URL(path, h.gateway.url))).status, path).toBe(404);
    }
  });

  it('is off in production unless GRAPHQL_LANDING_PAGE=true: no page and no assets', async () => {
    const production = await startHarness({ sim: { size: 5 }, env: { NODE_ENV: 'production' } });
    try {
      const page = await fetch(production.gateway.url, { headers: { accept: 'text/html' } });
      expect(await page.text()).not.toMatch(/<html/i);
      expect((await fetch(new URL('/explorer/graphiql.min.js', production.gateway.url))).status).toBe(404);
    } finally {
      await production.close();
    }
  });
});
