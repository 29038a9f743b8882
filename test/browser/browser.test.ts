/**
 * In a real browser (the system's Chromium, driven by puppeteer-core, which downloads nothing):
 * the offline explorer renders and runs a query with every request going to the gateway, and a
 * page on another origin calls the gateway through a real CORS preflight, or is blocked when its
 * origin is not listed.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness } from '../support/harness.js';
import { chromium, launchChromium } from './chromium.js';
import { LIVE_ENV, until } from '../live/support.js';

/** A page server on its own port: another origin than the gateway. Its page is set later. */
async function pageServer(): Promise<{ origin: string; html: string; close(): Promise<void> }> {
  const state = { html: '' };
  const server = http.createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end(state.html);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    set html(value: string) {
      state.html = value;
    },
    get html() {
      return state.html;
    },
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

describe.skipIf(!chromium)('in Chromium', () => {
  let browser: Browser;
  beforeAll(async () => {
    browser = await launchChromium();
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
  });

  it('runs a subscription in the offline explorer over a WebSocket to the gateway and shows a live event', async () => {
    const h = await startHarness({ sim: { size: 30 }, env: LIVE_ENV });
    const page = await browser.newPage();
    try {
      const errors: string[] = [];
      page.on('pageerror', (error) => errors.push(String(error)));
      const sockets: string[] = [];
      const cdp = await page.createCDPSession();
      await cdp.send('Network.enable');
      cdp.on('Network.webSocketCreated', (event: { url: string }) => sockets.push(event.url));
      await page.goto(h.gateway.url, { waitUntil: 'load' });
      await page.waitForSelector('.graphiql-container', { timeout: 20_000 });
      await page.evaluate(`document.querySelector('.graphiql-query-editor .CodeMirror').CodeMirror.setValue(
        'subscription Live { jobSessionEvents { kind sessionId session { status } } }')`);
      // GraphiQL reads the operation names from the editor after a short debounce.
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      await page.click('.graphiql-execute-button');
      await until(() => h.gateway.live.registry.size === 1, 'the explorer subscribed');
      await h.gateway.live.registry.nextPolls();
      await h.gateway.live.registry.nextPolls();
      const { inserted } = h.sim.step({ insert: 1 });
      await h.gateway.live.registry.nextPolls();
      await page.waitForFunction(
        `document.querySelector('.result-window')?.textContent?.includes('ADDED') && document.querySelector('.result-window').textContent.includes(${JSON.stringify(inserted[0])})`,
        { timeout: 20_000 },
      );
      expect(sockets).toEqual([h.gateway.url.replace(/^http/, 'ws')]);
      expect(errors).toEqual([]);
    } finally {
      await page.close();
      await h.close();
    }
  });

  it('renders the offline explorer and runs its query, every request going to the gateway', async () => {
    const h = await startHarness({ sim: { size: 30 } });
    const page = await browser.newPage();
    try {
      const requested: string[] = [];
      const failed: string[] = [];
      page.on('request', (request) => requested.push(request.url()));
      page.on('requestfailed', (request) => failed.push(request.url()));
      const errors: string[] = [];
      page.on('pageerror', (error) => errors.push(String(error)));

      await page.goto(h.gateway.url, { waitUntil: 'load' });
      await page.waitForSelector('.graphiql-container', { timeout: 20_000 });
      const run = page.waitForResponse(
        (r) => r.url() === h.gateway.url && r.request().method() === 'POST' && (r.request().postData() ?? '').includes('Newest'),
        { timeout: 20_000 },
      );
      await page.click('.graphiql-execute-button');
      const response = await run;
      expect(response.status()).toBe(200);
      expect((await response.json()).data.jobSessions.totalCount).toBe(30);
      await page.waitForFunction("document.querySelector('.result-window')?.textContent?.includes('totalCount')", { timeout: 20_000 });

      const origin = new URL(h.gateway.url).origin;
      expect(requested.filter((url) => !url.startsWith(`${origin}/`) && !url.startsWith('data:'))).toEqual([]);
      expect(failed).toEqual([]);
      expect(errors).toEqual([]);
    } finally {
      await page.close();
      await h.close();
    }
  });

  it('lets a page on a listed origin call the gateway after a real preflight, and blocks an unlisted one', async () => {
    const listed = await pageServer();
    const unlisted = await pageServer();
    const h = await startHarness({
      sim: { size: 12 },
      env: { CORS_ORIGINS: listed.origin },
      auth: {
        mode: 'service-account',
        serviceAccount: { username: 'admin', password: 'admin-password' },
        tokens: ['browser-test-token'],
        allowAnonymous: false,
      },
    });
    // Authorization and a JSON content type make the browser send a preflight first.
    const html = `<!doctype html><html><body><script>
      window.result = fetch(${JSON.stringify(h.gateway.url)}, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: 'Bearer browser-test-token' },
        body: JSON.stringify({ query: '{ jobSessions(first: 1) { totalCount } }' }),
      }).then((r) => r.json()).then((body) => ({ ok: true, body }), (error) => ({ ok: false, error: String(error) }));
    </script></body></html>`;
    listed.html = html;
    unlisted.html = html;
    const page = await browser.newPage();
    try {
      await page.goto(`${listed.origin}/`);
      expect(await page.evaluate('window.result')).toEqual({
        ok: true,
        body: { data: { jobSessions: { totalCount: 12 } }, extensions: { cost: { requestedQueryCost: 11, throttleStatus: expect.any(Object) } } },
      });
      const requests = () => h.logs.map((l) => JSON.parse(l)).filter((e) => e.msg === 'request');
      expect(requests().map((e) => `${e.method} ${e.status}`)).toEqual(['OPTIONS 204', 'POST 200']);

      h.logs.length = 0;
      h.resetUpstreamCalls();
      await page.goto(`${unlisted.origin}/`);
      const blocked = (await page.evaluate('window.result')) as { ok: boolean; error?: string };
      expect(blocked).toEqual({ ok: false, error: 'TypeError: Failed to fetch' });
      // The browser stopped at the preflight: GraphQL never ran, SPP was never asked.
      expect(requests().map((e) => e.method)).toEqual(['OPTIONS']);
      expect(h.upstreamCalls()).toHaveLength(0);
    } finally {
      await page.close();
      await Promise.all([h.close(), listed.close(), unlisted.close()]);
    }
  });
});
