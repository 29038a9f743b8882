/**
 * The job-monitor example over several SPP servers (issue 21), in the system's Chromium: three
 * in-process simulators with different seeds and sizes behind one gateway in pass-through mode,
 * which runs only the app's trusted documents. The app shows a Server column, a server filter and
 * tiles per server there; over one server it shows none of them (the last describe).
 */
import { Writable } from 'node:stream';
import { mkdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serveApp } from '../../examples/job-monitor/serve.mjs';
import { loadConfig } from '../../src/config.js';
import { createGateway, type Gateway } from '../../src/gateway.js';
import { createLogger } from '../../src/observability/logger.js';
import { startSimulator, type Simulator } from '../../src/simulator/index.js';
import type { SppFilter } from '../../src/spp-api/types.js';
import { ADMIN, basic, startHarness, type Harness } from '../support/harness.js';
import { chromium, launchChromium, scrollHistoryToEnd } from './chromium.js';

// Page functions run in the browser; the test project's types are Node's.
declare const document: any;
declare const window: any;
declare const requestAnimationFrame: (callback: (time: number) => void) => void;

const MANIFEST = fileURLToPath(new URL('../../examples/job-monitor/src/gql/persisted-documents.json', import.meta.url));
const ARTIFACTS = fileURLToPath(new URL('./artifacts/', import.meta.url));
const WAIT = { timeout: 15_000, polling: 50 };
const NAMES = ['athens', 'berlin', 'cairo'] as const;
const SIZES = { athens: 60, berlin: 35, cairo: 45 };
const FINISHED: SppFilter[] = [{ property: 'status', value: ['COMPLETED', 'PARTIAL', 'FAILED', 'CANCELED', 'ABORTED'], op: 'IN' }];
const RUNNING: SppFilter[] = [{ property: 'status', value: ['RUNNING', 'PENDING', 'WAITING', 'HELD', 'CANCELING'], op: 'IN' }];
const GATEWAY_ENV = {
  PORT: '0',
  HOST: '127.0.0.1',
  LOG_LEVEL: 'warn',
  CURSOR_SECRET: 'integration-test-cursor-secret',
  SESSION_SECRET: 'job-monitor-browser-test-secret-0123456789',
  PERSISTED_DOCUMENTS_FILE: MANIFEST,
  ALLOW_ARBITRARY_OPERATIONS: 'false',
};

async function signIn(page: Page, appUrl: string, screen: string) {
  await page.goto(`${appUrl}${screen}`);
  await page.waitForSelector('[data-testid="sign-in"] input[name="username"]', WAIT);
  await page.type('input[name="username"]', ADMIN.username);
  await page.type('input[name="password"]', ADMIN.password);
  await page.click('[data-testid="sign-in"] button[type="submit"]');
  await page.waitForSelector('[data-testid="signed-in-as"]', WAIT);
}

/** Rows as `server/sessionId`, from the row's Server cell (the column after the job). */
const rowsOf = (page: Page, table: string) =>
  page.$$eval(`[data-testid="${table}"] tbody tr`, (rows) => rows.map((r) => `${r.querySelector('td')!.textContent}/${r.getAttribute('data-session-id')}`));
const headersOf = (page: Page, table: string) => page.$$eval(`[data-testid="${table}"] thead th`, (ths) => ths.map((th) => th.textContent));

const scrollToEnd = (page: Page) => scrollHistoryToEnd(page, WAIT);

/** The hash of one of the app's trusted documents, by its operation name. */
function documentId(operation: string): string {
  const entries = Object.entries(JSON.parse(readFileSync(MANIFEST, 'utf8')) as Record<string, string>);
  return entries.find(([, body]) => body.includes(`query ${operation}`))![0];
}

describe.skipIf(!chromium)('the job-monitor app over three SPP servers in Chromium', () => {
  const sims = new Map<string, Simulator>();
  let gateway: Gateway;
  let app: { url: string; close(): Promise<void> };
  let browser: Browser;
  let page: Page;
  const posted: Array<Record<string, any>> = [];
  const pageErrors: string[] = [];

  const keysOf = (filter: SppFilter[], only: readonly string[] = NAMES) =>
    only
      .flatMap((name) =>
        sims
          .get(name)!
          .list({ filter })
          .map((s) => `${name}/${s.id}`),
      )
      .sort();

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    const now = Date.now();
    for (const [i, name] of NAMES.entries()) sims.set(name, await startSimulator({ seed: 11 + i, size: SIZES[name], now, clock: Date.now }));
    const { env } = loadConfig(GATEWAY_ENV);
    const sink = new Writable({ write: (_chunk, _encoding, done) => done() });
    gateway = await createGateway({
      env,
      sppUrl: sims.get('athens')!.url,
      servers: NAMES.map((name) => ({ name, url: sims.get(name)!.url })),
      auth: { mode: 'pass-through' },
      embeddedSimulator: true, // CORS allows localhost origins, as `npm run example` sets CORS_ORIGINS
      logger: createLogger(env.LOG_LEVEL, sink),
    });
    app = await serveApp({ gatewayUrl: gateway.url });
    browser = await launchChromium();
    page = await browser.newPage();
    await page.setViewport({ width: 1100, height: 720 });
    page.on('request', (request) => {
      if (request.method() === 'POST' && request.url().startsWith(gateway.url)) posted.push(JSON.parse(request.postData() ?? '{}'));
    });
    page.on('pageerror', (error) => pageErrors.push(String(error)));
    await signIn(page, app.url, '#/history');
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await app?.close();
    await gateway?.stop();
    for (const sim of sims.values()) await sim.close();
  });

  it('History shows a Server column, and the whole list is every finished session of the three servers, each under its own server', async () => {
    await page.waitForSelector('[data-testid="history-table"] tbody tr', WAIT);
    expect(await headersOf(page, 'history-table')).toEqual(['Job', 'Server', 'Status', 'Started', 'Duration']);
    await scrollToEnd(page);
    const rows = await rowsOf(page, 'history-table');
    expect(new Set(rows).size).toBe(rows.length);
    expect([...rows].sort()).toEqual(keysOf(FINISHED));
    expect(new Set(rows.map((r) => r.split('/')[0]))).toEqual(new Set(NAMES));
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.screenshot({ path: `${ARTIFACTS}servers-history.png` });
  });

  it('the server filter, used by keyboard, narrows History to one server: the request names it and only its sessions are shown', async () => {
    const box = (name: string) => `[data-testid="server-filter"] input[value="${name}"]`;
    // A group with a name, each box named by its server: what a screen reader announces.
    type AxNode = { role: string; name?: string; checked?: boolean | 'mixed'; children?: AxNode[] };
    const all = (node: AxNode): AxNode[] => [node, ...(node.children ?? []).flatMap(all)];
    const tree = (await page.accessibility.snapshot({ interestingOnly: false })) as AxNode;
    const group = all(tree).find((n) => n.role === 'group' && n.name === 'Server');
    expect(group).toBeDefined();
    expect(
      all(group!)
        .filter((n) => n.role === 'checkbox')
        .map((c) => ({ name: c.name, checked: c.checked })),
    ).toEqual(NAMES.map((name) => ({ name, checked: true })));
    posted.length = 0;
    for (const name of ['athens', 'cairo']) {
      await page.focus(box(name));
      await page.keyboard.press('Space');
      await page.waitForFunction((b: string) => !document.querySelector(b).checked, WAIT, box(name));
    }
    // The one server left cannot be unticked: a list of no server would be no list.
    expect(await page.$eval(box('berlin'), (b: any) => ({ checked: b.checked, disabled: b.disabled }))).toEqual({ checked: true, disabled: true });
    // Rows again (while the new list loads there is no table, and every row of none is berlin's), all berlin's.
    await page.waitForFunction(() => {
      const rows = [...document.querySelectorAll('[data-testid="history-table"] tbody tr')];
      return rows.length > 0 && rows.every((r: any) => r.getAttribute('data-server') === 'berlin');
    }, WAIT);
    await scrollToEnd(page);
    expect((await rowsOf(page, 'history-table')).sort()).toEqual(keysOf(FINISHED, ['berlin']));
    const history = posted.filter((p) => p.operationName === 'SessionHistory');
    expect(history.length).toBeGreaterThan(0);
    expect(history.at(-1)!.variables.servers).toEqual(['berlin']);
    expect(await page.evaluate(() => window.location.hash)).toContain('server=berlin');
    await page.screenshot({ path: `${ARTIFACTS}servers-history-filtered.png` });
  });

  it("a session's link opens it on its own server, whose name the detail page shows", async () => {
    const link = await page.$eval('[data-testid="history-table"] tbody tr[data-server="berlin"] a', (a) => ({
      href: a.getAttribute('href')!,
      job: a.textContent,
      id: a.closest('tr')!.getAttribute('data-session-id')!,
    }));
    await page.goto(`${app.url}${link.href}`);
    await page.waitForSelector('[data-testid="session-server"]', WAIT);
    expect(await page.$eval('[data-testid="session-server"]', (dd) => dd.textContent)).toBe('berlin');
    expect(await page.$eval('h1', (h1) => h1.textContent)).toBe(sims.get('berlin')!.get(link.id)!.jobName);
  });

  it('Running now shows a Server column with every running session of the three servers', async () => {
    await page.goto(`${app.url}#/running`);
    await page.waitForSelector('[data-testid="running-table"]', WAIT);
    expect(await headersOf(page, 'running-table')).toEqual(['Job', 'Server', 'Status', 'Progress', 'Started', 'Actions']);
    const want = keysOf(RUNNING);
    expect(want.length).toBeGreaterThan(0);
    await page.waitForFunction((n: number) => document.querySelectorAll('[data-testid="running-table"] tbody tr').length === n, WAIT, want.length);
    expect((await rowsOf(page, 'running-table')).sort()).toEqual(want);
  });

  it('the server filter narrows Running now to the ticked servers: the list, the URL and the live events', async () => {
    const box = (name: string) => `[data-testid="server-filter"] input[value="${name}"]`;
    const shown = (page: Page) => page.$$eval('[data-testid="running-table"] tbody tr', (rows) => rows.map((r) => r.getAttribute('data-server')));
    posted.length = 0;
    await page.focus(box('athens'));
    await page.keyboard.press('Space');
    await page.waitForFunction((b: string) => !document.querySelector(b).checked, WAIT, box('athens'));
    const want = keysOf(RUNNING, ['berlin', 'cairo']);
    await page.waitForFunction(
      (n: number) => {
        const rows = [...document.querySelectorAll('[data-testid="running-table"] tbody tr')];
        return rows.length === n && rows.every((r: any) => r.getAttribute('data-server') !== 'athens');
      },
      WAIT,
      want.length,
    );
    expect((await rowsOf(page, 'running-table')).sort()).toEqual(want);
    expect(posted.filter((p) => p.operationName === 'RunningSessions').at(-1)!.variables.servers).toEqual(['berlin', 'cairo']);
    expect(await page.evaluate(() => window.location.hash)).toBe('#/running?server=berlin&server=cairo');
    // Live: a session started on berlin comes in; one started on athens at the same moment stays out.
    const [onAthens] = sims.get('athens')!.step({ insert: 1 }).inserted;
    const [onBerlin] = sims.get('berlin')!.step({ insert: 1 }).inserted;
    await page.waitForSelector(`[data-testid="running-table"] tbody tr[data-server="berlin"][data-session-id="${onBerlin}"]`, WAIT);
    // Both servers' pollers run on the same interval (2 s): one more interval leaves athens's event time to arrive, were it asked for.
    await new Promise((resolve) => setTimeout(resolve, 2_500));
    // Ids are per server (a simulator numbers a new session by its start in ms), so both inserts may share one: the row is found by server too.
    expect(await page.$(`[data-testid="running-table"] tbody tr[data-server="athens"][data-session-id="${onAthens}"]`)).toBeNull();
    expect(await shown(page)).not.toContain('athens');
  });

  it("the dashboard has one group of tiles per server: its name, status and last contact, and its counts as the gateway's jobSessionCounts answers them per server", async () => {
    const response = await fetch(gateway.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...basic(ADMIN) },
      body: JSON.stringify({ documentId: documentId('ServerTiles'), variables: { states: ['RUNNING', 'FAILED', 'PARTIAL', 'COMPLETED'] } }),
    });
    const body = (await response.json()) as any;
    expect(body.errors).toBeUndefined();
    const counts: Array<{ status: string; byServer: Array<{ server: { name: string }; count: number }> }> = body.data.jobSessionCounts;
    // The gateway's per-server counts are the simulators' own.
    for (const { status, byServer } of counts)
      expect(byServer).toMatchObject(
        NAMES.map((name) => ({ server: { name }, count: sims.get(name)!.list({ filter: [{ property: 'status', value: status, op: '=' }] }).length })),
      );

    await page.goto(`${app.url}#/dashboard`);
    await page.waitForSelector('[data-testid="server-tiles"] .tile-value', WAIT);
    await page.waitForFunction((n: number) => document.querySelectorAll('[data-testid="server-tiles"]').length === n, WAIT, NAMES.length);
    const groups = await page.$$eval('[data-testid="server-tiles"]', (sections) =>
      sections.map((s) => ({
        heading: s.querySelector('h3')!.textContent,
        name: s.getAttribute('data-server'),
        status: s.querySelector('[data-server-status]')!.getAttribute('data-server-status'),
        statusText: s.querySelector('[data-server-status]')!.textContent,
        contact: s.querySelector('.sub')!.textContent,
        tiles: Object.fromEntries([...s.querySelectorAll('.tile')].map((t) => [t.getAttribute('data-status'), t.querySelector('.tile-value')!.textContent])),
      })),
    );
    expect(groups).toEqual(
      NAMES.map((name) => ({
        heading: name,
        name,
        status: 'UP',
        statusText: '✓ Up',
        contact: expect.stringMatching(new RegExp(`^${new URL(sims.get(name)!.url).host.replace(/\./g, '\\.')} · SPP .+ · last contact \\d`)),
        tiles: Object.fromEntries(counts.map((c) => [c.status, String(c.byServer.find((b) => b.server.name === name)!.count)])),
      })),
    );
    // Every group is a region named by its heading, under the "Servers" heading.
    const regions = await page.$$eval('[data-testid="server-tiles"]', (sections) =>
      sections.map((s) => document.getElementById(s.getAttribute('aria-labelledby'))?.textContent),
    );
    expect(regions).toEqual([...NAMES]);
    expect(await page.$eval('#servers-title', (h) => h.textContent)).toBe('Servers');
    await page.screenshot({ path: `${ARTIFACTS}servers-dashboard.png`, fullPage: true });
  });

  it('raised no error in the page and sent only document hashes', () => {
    expect(pageErrors).toEqual([]);
    expect(posted.filter((p) => 'query' in p)).toEqual([]);
  });
});

describe.skipIf(!chromium)('the job-monitor app over one SPP server', () => {
  let h: Harness;
  let app: { url: string; close(): Promise<void> };
  let browser: Browser;

  beforeAll(async () => {
    h = await startHarness({ sim: { size: 40, now: Date.now(), clock: Date.now }, embeddedSimulator: true, auth: { mode: 'pass-through' }, env: GATEWAY_ENV });
    app = await serveApp({ gatewayUrl: h.gateway.url });
    browser = await launchChromium();
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await app?.close();
    await h?.close();
  });

  it('shows no Server column, no server filter and no tiles per server, and never asks for per-server counts', async () => {
    const page = await browser.newPage();
    const operations: string[] = [];
    page.on('request', (request) => {
      if (request.method() === 'POST') operations.push(String(JSON.parse(request.postData() ?? '{}').operationName));
    });
    const serversAnswered = page.waitForResponse((r) => r.request().method() === 'POST' && r.request().postData()?.includes('"SppServers"') === true, WAIT);
    await signIn(page, app.url, '#/history');
    await page.waitForSelector('[data-testid="history-table"] tbody tr', WAIT);
    // Asserted after the app had its answer (one server) and rendered it, not before it asked.
    expect(await (await serversAnswered).json()).toMatchObject({ data: { sppServers: [{ name: 'default', status: 'UP' }] } });
    await page.evaluate(() => new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve))));
    expect(await headersOf(page, 'history-table')).toEqual(['Job', 'Status', 'Started', 'Duration']);
    expect(await page.$('[data-testid="server-filter"]')).toBeNull();
    await page.goto(`${app.url}#/dashboard`);
    await page.waitForSelector('[data-testid="tiles-last-7-days"] .tile-value', WAIT);
    expect(await page.$('[data-testid="server-tiles"]')).toBeNull();
    expect(await page.$('#servers-title')).toBeNull();
    expect(operations).not.toContain('ServerTiles');
  });
});
